/**
 * The one configuration schema: every setting's type, default, validation, environment name and
 * documentation. The `Config` type, the loader, `check-config`, the README table and the Helm
 * values are all derived from this table (its access sections live in `schema-access.ts`).
 */
import { bool, int, section, list, oneOf, port, str, structured, url, type Field, type FieldValue } from './field.js';
import { invalidCidrs } from '../net/cidr.js';
import { parseApiRoutes, parseSkipRules } from './rules.js';
import { accessSettings } from './schema-access.js';
import { graphSettings } from './schema-graph.js';
import { assertionSettings } from './schema-assertion.js';
import { authUrlQueryProblems, parseAuthParams } from './auth-params.js';
import { parseEndpoints, parseProviders } from './providers.js';

/** Joins the service prefix and a relative path: `/authservice/` + `verify` → `/authservice/verify`. */
export function underPrefix(prefix: string, rel: string): string {
  return (prefix.endsWith('/') ? prefix : prefix + '/') + rel;
}
const prefixed = (rel: string) => (c: Readonly<Record<string, unknown>>) => underPrefix(String(c['authserviceUrlPrefix']), rel);

function parseCidrs(v: unknown, at: string, errs: string[]): readonly string[] {
  const items =
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v;
  if (!Array.isArray(items) || items.some((x) => typeof x !== 'string')) {
    errs.push(`${at}: must be a list of addresses or CIDR ranges`);
    return [];
  }
  for (const bad of invalidCidrs(items as string[])) errs.push(`${at}: ${JSON.stringify(bad)} is not an IP address or CIDR range`);
  return Object.freeze(items.map(String));
}

/** `WORKERS`: a count of processes, or `auto` / `0` for one per CPU (both give 0; src/main.ts counts the CPUs). */
function parseWorkerCount(raw: string): number {
  const t = raw.trim().toLowerCase();
  if (t === 'auto' || t === '0') return 0;
  const n = /^[1-9]\d{0,2}$/.test(t) ? Number(t) : NaN;
  if (!(n <= 256)) throw new Error(`must be a number of workers (1–256), or 0 or "auto" for one per CPU, got ${JSON.stringify(raw)}`);
  return n;
}

/** `field` whose parsed value must also pass `problems` (each one a start-up error). */
function withCheck(field: Field<string>, problems: (v: string) => string[]): Field<string> {
  const check = (v: string): string => {
    const p = problems(v);
    if (p.length > 0) throw new Error(p.join('; '));
    return v;
  };
  return { ...field, parse: (raw) => check(field.parse(raw)), fromBlock: (v) => check(field.fromBlock(v)) };
}

/** `ADMIN_TOKEN`: empty (off), or a token hard to guess. The message never echoes it. */
/** `LOGIN_STATE_SECRET`: empty, or at least 32 characters (it keys the login-attempt cookies). */
function parseLoginStateSecret(raw: string): string {
  const t = raw.trim();
  if (t !== '' && t.length < 32) throw new Error('must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  return t;
}

function parseAdminToken(raw: string): string {
  const t = raw.trim();
  if (t !== '' && (t.length < 16 || /\s/.test(t))) throw new Error('must be at least 16 characters, without spaces');
  return t;
}

export const schema = {
  // ── OIDC provider and client ──────────────────────────────────────────────────────────────
  ...section('OIDC provider and client', {
    oidcProvider: url(
      'OIDC_PROVIDER',
      'Issuer URL of the OpenID Provider; discovery at `<issuer>/.well-known/openid-configuration`, whose `issuer` must equal this exactly.',
    ),
    clientId: str('CLIENT_ID', 'OAuth client id. Also the audience accepted for ID tokens.'),
    clientSecret: str('CLIENT_SECRET', 'OAuth client secret (or `CLIENT_SECRET_FILE`).', { secret: true }),
    oidcAuthUrl: withCheck(
      url(
        'OIDC_AUTH_URL',
        'Overrides the discovered authorization endpoint only; may be a path (e.g. `/dex/auth`) so browsers go through the gateway. Its own query is kept (e.g. Azure AD B2C `?p=<policy>`); it may not set a parameter the login sets itself.',
        { default: '', relative: true },
      ),
      authUrlQueryProblems,
    ),
    oidcAuthParams: structured(
      'OIDC_AUTH_PARAMS',
      'Extra parameters of every authorization request, in query form (`audience=https://api.example.com&prompt=select_account`; a mapping in the config file): Auth0 `audience`, Entra ID `domain_hint`, `resource` … Never `state`, `nonce`, `code_challenge(_method)`, `redirect_uri`, `client_id`, `response_type`, `scope`, `request(_uri)` or `response_mode`: those are refused at start-up.',
      parseAuthParams,
      { default: [], type: 'query string' },
    ),
    oidcEndpoints: structured(
      'OIDC_ENDPOINTS',
      'The provider’s endpoints given by hand instead of discovery, by their discovery names: `authorization_endpoint`, `token_endpoint`, `jwks_uri` (required), `userinfo_endpoint`, `end_session_endpoint`, `revocation_endpoint` (JSON, or a mapping in the config file). Empty: discovery at `OIDC_PROVIDER`.',
      parseEndpoints,
      { default: {}, type: 'endpoints' },
    ),
    providers: structured(
      'PROVIDERS',
      'More OpenID Providers beside this one (which is the provider `default`), each chosen by host and/or path prefix, with its own client, scopes, claims, cookie and pages. Usually in the config file as `providers:` (see “Several providers”).',
      parseProviders,
      { default: [], type: 'providers' },
    ),
    redirectUrl: url('REDIRECT_URL', 'OIDC `redirect_uri`; its path is the callback route.', {
      default: prefixed('oidc/callback'),
      defaultDoc: '`<prefix>/oidc/callback`',
      relative: true,
    }),
    oidcScopes: list('OIDC_SCOPES', 'Scopes to request; `openid` is added when missing. Commas or spaces.', { default: ['openid', 'email'], spaces: true }),
    strictSessionValidation: bool('STRICT_SESSION_VALIDATION', 'Call userinfo on every session-authenticated request; a 401 ends the session.', {
      default: false,
    }),
    oidcStateStorePath: str('OIDC_STATE_STORE_PATH', 'Accepted for compatibility; login attempts are kept in encrypted browser cookies.', {
      default: '/var/lib/authservice/data.db',
    }),
    tokenEndpointAuthMethod: oneOf(
      'TOKEN_ENDPOINT_AUTH_METHOD',
      ['client_secret_basic', 'client_secret_post'],
      'How the client authenticates at the token, revocation and introspection endpoints.',
      { default: 'client_secret_basic' },
    ),
    claimsSource: oneOf(
      'CLAIMS_SOURCE',
      ['userinfo', 'id_token', 'both'],
      'Where session claims come from at login: `userinfo` (oidc-authservice), `id_token`, or `both` (ID token claims, overlaid by userinfo; for providers like Azure AD whose userinfo lacks `email`).',
      { default: 'both' },
    ),
    loginStateTtl: int('LOGIN_STATE_TTL', 'Seconds a login attempt (state, nonce, PKCE verifier) stays valid.', { default: 600, min: 30, max: 3600 }),
    loginStateSecret: {
      ...str(
        'LOGIN_STATE_SECRET',
        'Key material (at least 32 characters, or `LOGIN_STATE_SECRET_FILE`) for the encrypted login-attempt cookies; every replica needs the same. Empty: a random key is created once and kept in the session store (the SQLite file, or Redis with SET NX, shared by the replicas).',
        { default: '', secret: true },
      ),
      parse: parseLoginStateSecret,
    },
    allowedRedirectHosts: list(
      'ALLOWED_REDIRECT_HOSTS',
      'Hosts (besides the request’s own) that after-login and after-logout redirects may go to; `*.example.com` matches subdomains.',
      { default: [] },
    ),
    logoutAtProvider: bool(
      'LOGOUT_AT_PROVIDER',
      'Browser logout continues at the provider’s `end_session_endpoint` (RP-initiated logout, with `id_token_hint` and `post_logout_redirect_uri` = `AFTER_LOGOUT_URL`).',
      { default: false },
    ),
    tokenRefreshMargin: int('TOKEN_REFRESH_MARGIN', 'Seconds before an access token expires at which the session refreshes it with the refresh token.', {
      default: 60,
      min: 0,
      max: 3600,
    }),
    discoveryRetryInterval: int('DISCOVERY_RETRY_INTERVAL', 'Seconds between OIDC discovery attempts until it succeeds (start-up never blocks on it).', {
      default: 10,
      min: 1,
      max: 3600,
    }),
  }),
  // ── Service URLs and routes ──────────────────────────────────────────────────────────────
  ...section('Service URLs and routes', {
    authserviceUrlPrefix: url(
      'AUTHSERVICE_URL_PREFIX',
      'User-facing prefix of the service’s own endpoints (relative or absolute). Its path is always skipped.',
      { default: '/authservice/', relative: true },
    ),
    skipAuthUrls: list('SKIP_AUTH_URLS', 'Path prefixes that need no authentication (segment-aware, normalized path).', {
      default: [],
      legacy: [{ env: 'SKIP_AUTH_URI', map: (raw) => raw.trim().split(/\s+/).join(',') }],
    }),
    skipRules: structured(
      'SKIP_RULES',
      'Skip rules by host, method and path (prefix/exact/regex), or CORS preflights; `assertion: true` also signs the assertion of a caller with credentials (`ASSERTION_HEADER`). Usually in the config file as `skipRules:`.',
      parseSkipRules,
      { default: [], type: 'rules' },
    ),
    apiRoutes: structured(
      'API_ROUTES',
      'Regular expressions (RE2, matching all of it) of the path with its query: a request matching one that has no credential gets 401, never a login redirect, even from a browser navigation (oauth2-proxy’s `api_routes`). JSON list, or one pattern.',
      parseApiRoutes,
      { default: [], type: 'list' },
    ),
    compatEndpoints: oneOf(
      'COMPAT_ENDPOINTS',
      ['none', 'oauth2-proxy'],
      'Also serve another tool’s endpoints under `AUTHSERVICE_URL_PREFIX`: `oauth2-proxy` adds `start`, `sign_out`, `userinfo` (web server) and `auth` (judge port: 202/401/403), as `oidc-judge oauth2-proxy` sets with the prefix `/oauth2/`.',
      { default: 'none' },
    ),
    homepageUrl: url('HOMEPAGE_URL', 'Homepage (login link target).', {
      default: prefixed('site/homepage'),
      defaultDoc: '`<prefix>/site/homepage`',
      relative: true,
    }),
    afterLoginUrl: url('AFTER_LOGIN_URL', 'If set, users land here after login with `?next=<original URL>`.', { default: '', relative: true }),
    afterLogoutUrl: url('AFTER_LOGOUT_URL', 'Returned as `afterLogoutURL` by logout.', {
      default: prefixed('site/after_logout'),
      defaultDoc: '`<prefix>/site/after_logout`',
      relative: true,
      legacy: [{ env: 'STATIC_DESTINATION_URL' }],
    }),
    verifyAuthUrl: url('VERIFY_AUTH_URL', 'Path prefix of the nginx `auth_request` endpoint (204/401/403); the original URI follows it.', {
      default: prefixed('verify'),
      defaultDoc: '`<prefix>/verify`',
      relative: true,
    }),
    forwardAuthUrl: url('FORWARD_AUTH_URL', 'Path of the Traefik ForwardAuth endpoint (reads `X-Forwarded-Method/Proto/Host/Uri` from trusted proxies).', {
      default: prefixed('forward-auth'),
      defaultDoc: '`<prefix>/forward-auth`',
      relative: true,
    }),
    httpCheckPathPrefix: str('HTTP_CHECK_PATH_PREFIX', 'Envoy `http_service.path_prefix` / Ambassador `path_prefix` to strip from check requests.', {
      default: '',
    }),
    trustedProxies: structured('TRUSTED_PROXIES', 'Addresses or CIDR ranges whose `X-Forwarded-*` / `X-Original-*` headers are believed.', parseCidrs, {
      default: ['127.0.0.1/8', '::1/128'],
      type: 'list',
    }),
  }),
  ...accessSettings,
  ...graphSettings,
  ...assertionSettings,
  // ── Listeners ────────────────────────────────────────────────────────────────────────────
  ...section('Listeners', {
    serverHostname: str('SERVER_HOSTNAME', 'Bind address of the judge, gRPC and web listeners (empty: all interfaces).', { default: '' }),
    serverPort: port('SERVER_PORT', 'Judge HTTP port (Envoy `http_service`, Ambassador, Traefik, nginx).', { default: 8080 }),
    grpcPort: port('GRPC_PORT', 'Judge gRPC port (Envoy ext_authz v3 and v2, gRPC health).', { default: 9191 }),
    webServerPort: port('WEB_SERVER_PORT', 'Web server port (pages and themes).', { default: 8082 }),
    readinessProbePort: port('READINESS_PROBE_PORT', 'Health port: `/healthz`, `/readyz`, `/metrics`.', { default: 8081 }),
    checkTimeout: int(
      'CHECK_TIMEOUT',
      'Milliseconds one check may take before it answers 503 (keep it below the proxy’s ext_authz timeout); 0 turns the bound off.',
      { default: 3000, min: 0, max: 600000 },
    ),
    ingressPort: port('INGRESS_PORT', 'Port of the built-in ingress forwarder (judge in-process, then proxy to `INGRESS_UPSTREAM`); 0 turns it off.', {
      default: 0,
    }),
    ingressUpstream: url('INGRESS_UPSTREAM', 'Upstream URL the ingress forwarder proxies allowed requests to.', { default: '' }),
    workers: {
      ...int(
        'WORKERS',
        'Processes serving every listener (`--workers N`, Node cluster; they share the SQLite file or Redis; `/metrics` merges them all); `auto` or 0: one per CPU.',
        { default: 1 },
      ),
      type: 'integer | auto',
      parse: parseWorkerCount,
    },
    drainTimeout: int('DRAIN_TIMEOUT', 'Seconds to let in-flight checks finish after SIGTERM.', { default: 15, min: 0, max: 600 }),
    httpHeadersTimeout: int(
      'HTTP_HEADERS_TIMEOUT',
      'Seconds a client of the judge HTTP, web, health and ingress ports may take to send a request head before it gets 408 and the connection closes (slow clients).',
      { default: 10, min: 1, max: 600 },
    ),
    httpRequestTimeout: int(
      'HTTP_REQUEST_TIMEOUT',
      'Seconds a client of the judge HTTP, web and health ports may take to send a whole request, head and body (the ingress forwarder allows 300 s for uploads).',
      { default: 30, min: 1, max: 3600 },
    ),
    grpcMaxReceiveBytes: int(
      'GRPC_MAX_RECEIVE_BYTES',
      'Largest ext_authz `CheckRequest` the gRPC port accepts, in bytes; a bigger one gets a gRPC error (`RESOURCE_EXHAUSTED`) instead of a decision. Keep Envoy’s `with_request_body.max_request_bytes` plus its header limit below it.',
      { default: 16 * 1024 * 1024, min: 4 * 1024 * 1024, max: 1024 * 1024 * 1024 },
    ),
    httpMaxHeaderBytes: int(
      'HTTP_MAX_HEADER_BYTES',
      'Largest request head the judge HTTP port accepts, in bytes (a bigger one gets 431 instead of a decision). The default covers Envoy’s `max_request_headers_kb` up to 96 plus what Envoy adds; raise it with Envoy’s.',
      { default: 128 * 1024, min: 16 * 1024, max: 16 * 1024 * 1024 },
    ),
  }),
  // ── Sessions ─────────────────────────────────────────────────────────────────────────────
  ...section('Sessions', {
    sessionStoreType: oneOf(
      'SESSION_STORE_TYPE',
      ['sqlite', 'boltdb', 'redis'],
      'Session store: the embedded file store (`sqlite`; `boltdb` is accepted as its old name) or `redis`.',
      { default: 'sqlite' },
    ),
    sessionStorePath: str('SESSION_STORE_PATH', 'File of the embedded session store.', {
      default: '/var/lib/authservice/data.db',
      legacy: [{ env: 'STORE_PATH' }],
    }),
    sessionStoreRedisAddr: str('SESSION_STORE_REDIS_ADDR', 'Redis address `host:port`.', { default: '127.0.0.1:6379' }),
    sessionStoreRedisPwd: str('SESSION_STORE_REDIS_PWD', 'Redis password (or `SESSION_STORE_REDIS_PWD_FILE`).', { default: '', secret: true }),
    sessionStoreRedisDb: int('SESSION_STORE_REDIS_DB', 'Redis database number.', { default: 0, max: 15 }),
    sessionMaxAge: int('SESSION_MAX_AGE', 'Absolute session lifetime in seconds.', { default: 86400, min: 60 }),
    programSessionMaxAge: int(
      'PROGRAM_SESSION_MAX_AGE',
      'Lifetime in seconds of a program credential (`oidc-judge login`, `<prefix>/api/login`, `<prefix>/api/device`); 0 turns program logins off.',
      { default: 604800, min: 0 },
    ),
    sessionSameSite: oneOf('SESSION_SAME_SITE', ['Lax', 'Strict', 'None'], 'SameSite attribute of the session cookie.', {
      default: 'Lax',
      caseInsensitive: true,
      aliases: ['SESSION_COOKIE_SAME_SITE'],
    }),
    sessionIdleTimeout: int(
      'SESSION_IDLE_TIMEOUT',
      'Seconds without a request after which a session ends (0: no idle limit; `SESSION_MAX_AGE` always applies).',
      { default: 0, min: 0 },
    ),
    sessionCookieName: str('SESSION_COOKIE_NAME', 'Name of the session cookie.', { default: 'authservice_session' }),
    sessionCookieSecure: bool(
      'SESSION_COOKIE_SECURE',
      '`Secure` attribute of the session and login cookies (browsers accept Secure cookies on `http://localhost`).',
      { default: true },
    ),
    sessionCookieHttpOnly: bool(
      'SESSION_COOKIE_HTTP_ONLY',
      '`HttpOnly` attribute of the session cookie; turn off only for the Kubeflow dashboard’s header logout.',
      { default: true },
    ),
    sessionCookieDomain: str('SESSION_COOKIE_DOMAIN', '`Domain` attribute of the session cookie (empty: host-only).', { default: '' }),
    sessionCookiePath: str('SESSION_COOKIE_PATH', '`Path` attribute of the session cookie.', { default: '/' }),
    sessionCacheTtl: int(
      'SESSION_CACHE_TTL',
      'Seconds a session read from the store is kept in process (logout, back-channel logout and revocation invalidate it on every replica within a second).',
      { default: 5, min: 0, max: 300 },
    ),
    sessionStoreRedisMode: oneOf(
      'SESSION_STORE_REDIS_MODE',
      ['standalone', 'sentinel', 'cluster'],
      'Redis topology; `SESSION_STORE_REDIS_ADDR` lists the server, the sentinels, or the cluster seed nodes (comma-separated).',
      { default: 'standalone' },
    ),
    sessionStoreRedisUsername: str('SESSION_STORE_REDIS_USERNAME', 'Redis ACL user name.', { default: '' }),
    sessionStoreRedisSentinelMaster: str('SESSION_STORE_REDIS_SENTINEL_MASTER', 'Sentinel master name.', { default: 'mymaster' }),
    sessionStoreRedisSentinelPwd: str(
      'SESSION_STORE_REDIS_SENTINEL_PWD',
      'Password of the sentinels themselves (or `SESSION_STORE_REDIS_SENTINEL_PWD_FILE`).',
      { default: '', secret: true },
    ),
    sessionStoreRedisTls: bool('SESSION_STORE_REDIS_TLS', 'Connect to Redis over TLS.', { default: false }),
    sessionStoreRedisCa: str('SESSION_STORE_REDIS_CA', 'PEM file of CA certificates for Redis TLS (default: the system roots).', { default: '' }),
    sessionStoreRedisKeyPrefix: str('SESSION_STORE_REDIS_KEY_PREFIX', 'Prefix of every Redis key the service writes.', { default: 'oidc-judge:' }),
    adminToken: {
      ...str(
        'ADMIN_TOKEN',
        'Bearer token of `POST /admin/sessions/revoke` on the health port (ends a user’s sessions everywhere); at least 16 characters. Empty: no admin endpoint.',
        { default: '', secret: true },
      ),
      parse: parseAdminToken,
    },
  }),
  // ── Web pages ────────────────────────────────────────────────────────────────────────────
  ...section('Web pages', {
    clientName: str('CLIENT_NAME', 'Application name shown on the pages.', { default: 'AuthService' }),
    themesUrl: str('THEMES_URL', 'Base URL of theme assets (relative to the pages, or absolute).', { default: 'themes' }),
    theme: str('THEME', 'Theme directory under the themes URL.', { default: 'kubeflow' }),
    templatePath: list('TEMPLATE_PATH', 'Directories whose templates override the built-in ones by file name.', { default: [] }),
  }),
  // ── Logging ──────────────────────────────────────────────────────────────────────────────
  ...section('Logging', {
    logLevel: oneOf('LOG_LEVEL', ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'], 'Log level: FATAL, ERROR, WARN, INFO, DEBUG or TRACE (any case).', {
      default: 'INFO',
      caseInsensitive: true,
    }),
    logDecisions: bool('LOG_DECISIONS', 'One log line per check (request id, authenticator, outcome, latency).', { default: true }),
    logFormat: oneOf(
      'LOG_FORMAT',
      ['auto', 'json', 'pretty'],
      'Log lines as JSON (`json`), as text for people (`pretty`: time, level, message, `key=value`; a decision as one sentence), or `auto`: pretty when stdout is a terminal, JSON otherwise.',
      { default: 'auto', caseInsensitive: true },
    ),
  }),
} satisfies Record<string, Field<unknown>>;

export type Schema = typeof schema;
export type ConfigKey = keyof Schema;
export type Config = {
  readonly [K in ConfigKey]: FieldValue<Schema[K]>;
} & {
  /** `TEMPLATE_CONTEXT_<KEY>` variables, by KEY. */
  readonly templateContext: Readonly<Record<string, string>>;
};

/** Fields with no default must be given (OIDC_PROVIDER, CLIENT_ID, CLIENT_SECRET). */
export const requiredKeys = (Object.keys(schema) as ConfigKey[]).filter((k) => !('default' in schema[k]));

export const TEMPLATE_CONTEXT_PREFIX = 'TEMPLATE_CONTEXT_';
