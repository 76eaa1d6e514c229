/**
 * oauth2-proxy's options (options.ts) → the judge's own settings, as the environment-style
 * `NAME=value` pairs config/load.ts reads. One function per option family; each says what the
 * option means in oauth2-proxy and where it lands here. Options we cannot honour with the same
 * meaning are errors naming the option (and the value); options that change nothing here
 * (the sign-in page's looks, the cookie secret of a cookie-held session) are accepted with a
 * warning saying why. Pure: no I/O.
 */
import { Ctx, goDurationSeconds, searchPattern } from './ctx.js';
import type { Options } from './options.js';

export interface Mapped {
  /** Our settings by environment name (config/schema.ts), ready for loadConfig's `env`. */
  readonly settings: Readonly<Record<string, string>>;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** oauth2-proxy's defaults where they differ from ours, so a cfg means what it meant there. */
const DEFAULTS = {
  proxyPrefix: '/oauth2',
  cookieName: '_oauth2_proxy',
  cookieExpire: '168h',
  scope: 'openid email profile',
  httpAddress: '127.0.0.1:4180',
} as const;

function provider(c: Ctx): void {
  const p = c.str('provider');
  if (p === undefined) c.errors.push('provider: required; only "oidc" is supported (oauth2-proxy defaults to "google")');
  else if (p !== 'oidc') c.refuse('provider', `${JSON.stringify(p)} is not supported; only "oidc" (any OpenID Connect provider with discovery)`);
  const issuer = c.str('oidc_issuer_url');
  if (issuer === undefined || issuer === '') c.errors.push('oidc_issuer_url: required');
  else c.set('OIDC_PROVIDER', issuer);
  const id = c.str('client_id');
  if (id === undefined || id === '') c.errors.push('client_id: required');
  else c.set('CLIENT_ID', id);
  const secret = c.str('client_secret');
  const secretFile = c.str('client_secret_file');
  if (secret !== undefined && secretFile !== undefined) c.refuse('client_secret_file', 'set together with client_secret; give only one');
  else if (secretFile !== undefined) c.set('CLIENT_SECRET_FILE', secretFile);
  else if (secret !== undefined) c.set('CLIENT_SECRET', secret);
  c.set('OIDC_SCOPES', c.str('scope') ?? DEFAULTS.scope);
  const prompt = c.str('prompt');
  if (prompt !== undefined && prompt !== '') c.set('OIDC_AUTH_PARAMS', `prompt=${encodeURIComponent(prompt)}`);
  if (prompt === 'none') {
    c.warnings.push(
      `${c.at('prompt')}: "none" is sent as is (Kubeflow's cfg sets it for Dex, which signs in anyway); a provider that follows OpenID Connect answers login_required to anyone not signed in there — remove it for such a provider`,
    );
  }
  const method = c.str('code_challenge_method');
  if (method !== undefined && method !== 'S256')
    c.refuse('code_challenge_method', `${JSON.stringify(method)}: every login uses PKCE with S256; only "S256" is accepted`);
  if (c.bool('ssl_insecure_skip_verify')) {
    c.refuse('ssl_insecure_skip_verify', 'true is refused: certificates are always verified; trust a private CA with CA_BUNDLE instead');
  }
}

/** oauth2-proxy without discovery takes the endpoints from login_url, redeem_url and oidc_jwks_url. */
function endpoints(c: Ctx): void {
  const login = c.str('login_url');
  // A path (Kubeflow: `/dex/auth`) sends browsers through the gateway, as OIDC_AUTH_URL does.
  if (login !== undefined && login !== '') c.set('OIDC_AUTH_URL', login);
  if (c.bool('skip_oidc_discovery')) {
    c.warnings.push(
      `${c.at('skip_oidc_discovery')}: discovery is not skipped: the token endpoint and keys are read from ${c.str('oidc_issuer_url') ?? 'the issuer'}/.well-known/openid-configuration (login_url still overrides the authorization endpoint)`,
    );
  }
  for (const k of ['redeem_url', 'oidc_jwks_url'] as const) {
    if (c.opt(k) !== undefined) c.warnings.push(`${c.at(k)}: not used; the judge reads this endpoint from the issuer's discovery document`);
  }
}

function cookies(c: Ctx): void {
  c.set('SESSION_COOKIE_NAME', c.str('cookie_name') ?? DEFAULTS.cookieName);
  if (c.opt('cookie_secure') !== undefined) c.set('SESSION_COOKIE_SECURE', String(c.bool('cookie_secure')));
  const expire = c.str('cookie_expire') ?? DEFAULTS.cookieExpire;
  const seconds = goDurationSeconds(expire);
  if (seconds === undefined) c.refuse('cookie_expire', `${JSON.stringify(expire)} is not a duration (e.g. "24h")`);
  else if (seconds < 60) c.refuse('cookie_expire', 'must be at least 1m: sessions always have a lifetime (a browser-session cookie of 0 is not supported)');
  else c.set('SESSION_MAX_AGE', String(seconds));
  const refresh = c.str('cookie_refresh');
  if (refresh !== undefined) {
    const s = goDurationSeconds(refresh);
    if (s === undefined) c.refuse('cookie_refresh', `${JSON.stringify(refresh)} is not a duration`);
    else if (s > 0) c.warnings.push(`${c.at('cookie_refresh')}: not used; a session refreshes its tokens when they near expiry (TOKEN_REFRESH_MARGIN)`);
  }
  for (const k of ['cookie_secret', 'cookie_secret_file'] as const) {
    if (c.opt(k) !== undefined) {
      c.warnings.push(`${c.at(k)}: not used; the session is kept in the session store and the cookie holds only a random id`);
    }
  }
}

/** email_domains: required by oauth2-proxy; `*` lets every address in, else the domains of a verified `email`. */
function emailDomains(c: Ctx): void {
  const domains = c.list('email_domains');
  if (c.opt('email_domains') === undefined || domains.length === 0) {
    c.errors.push('email_domains: required (as in oauth2-proxy); "*" lets any address in');
    return;
  }
  if (domains.includes('*')) return;
  const odd = domains.filter((d) => d.startsWith('.') || d.includes('*') || d.includes('@'));
  if (odd.length > 0) {
    c.refuse('email_domains', `${odd.map((d) => JSON.stringify(d)).join(', ')}: only whole domains (example.com) or "*" are supported`);
    return;
  }
  c.set('AUTHZ_RULES', JSON.stringify([{ match: {}, allow: { domains } }]));
}

function routes(c: Ctx): void {
  const skip: { methods?: string[]; path: { regex: string } }[] = [];
  for (const re of c.list('skip_auth_regex')) skip.push({ path: { regex: searchPattern(re) } });
  for (const route of c.list('skip_auth_routes')) {
    // oauth2-proxy: `METHOD=regex`, `regex`, and the negated `METHOD!=regex` / `!=regex`.
    const m = /^(.*?)(!?)=(.*)$/s.exec(route);
    if (m?.[2] === '!') {
      c.refuse('skip_auth_routes', `${JSON.stringify(route)}: negated routes (!=) are not supported; list the paths to skip`);
      continue;
    }
    const method = m === null ? '' : m[1]!.toUpperCase();
    const re = m === null ? route : m[3]!;
    skip.push({ ...(method !== '' ? { methods: [method] } : {}), path: { regex: searchPattern(re) } });
  }
  if (skip.length > 0) c.set('SKIP_RULES', JSON.stringify(skip));
  const api = c.list('api_routes');
  if (api.length > 0) c.set('API_ROUTES', JSON.stringify(api.map(searchPattern)));
}

/** skip_jwt_bearer_tokens and extra_jwt_issuers: which bearer JWTs are let in. */
function bearers(c: Ctx): void {
  // oauth2-proxy never asks Kubernetes (TokenReview); neither does the judge in this mode.
  c.set('KUBERNETES_AUTHN_ENABLED', 'false');
  const on = c.bool('skip_jwt_bearer_tokens');
  c.set('ACCESS_TOKEN_AUTHN_ENABLED', String(on));
  c.set('IDTOKEN_AUTHN_ENABLED', String(on));
  const pairs = c.list('extra_jwt_issuers');
  if (!on) {
    if (pairs.length > 0) c.warnings.push(`${c.at('extra_jwt_issuers')}: has no effect without skip_jwt_bearer_tokens (as in oauth2-proxy)`);
    return;
  }
  // Each pair is an issuer with its own audience (a `jwtIssuers` entry, JSON in JWT_ISSUERS): a
  // token of one issuer is never accepted for another's audience. A pair naming the main issuer
  // adds to its audiences (AUDIENCES), whose tokens otherwise carry the client id.
  const main = c.str('oidc_issuer_url');
  const clientId = c.str('client_id');
  const mainAudiences = new Set(clientId ? [clientId] : []);
  const extra = new Map<string, Set<string>>();
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1) {
      c.refuse('extra_jwt_issuers', `${JSON.stringify(p)} is not an issuer=audience pair`);
      continue;
    }
    const issuer = p.slice(0, eq);
    const audience = p.slice(eq + 1);
    if (issuer === main) mainAudiences.add(audience);
    else extra.set(issuer, (extra.get(issuer) ?? new Set()).add(audience));
  }
  // oauth2-proxy reads groups from a bearer token when present and never requires them.
  // As oauth2-proxy's bearer flow: no groups claim required, and a token without `email` (a
  // Kubernetes service-account token) is its subject.
  const entries = [...extra].map(([issuer, auds]) => ({ issuer, audiences: [...auds], groupsRequired: false, userIdClaim: 'email,sub' }));
  if (entries.length > 0) c.set('JWT_ISSUERS', JSON.stringify(entries));
  c.set('AUDIENCES', [...mainAudiences].join(','));
}

/** What the judge tells the upstream (and, on /oauth2/auth, the proxy). */
function headers(c: Ctx): void {
  if (c.bool('set_authorization_header')) c.set('FORWARD_ID_TOKEN_HEADER', 'Authorization');
  if (c.bool('set_xauthrequest')) {
    c.set('HEADER_PRESET', 'oauth2-proxy');
    if (c.bool('pass_access_token')) c.set('FORWARD_ACCESS_TOKEN_HEADER', 'X-Auth-Request-Access-Token');
  } else if (c.bool('pass_access_token')) c.set('FORWARD_ACCESS_TOKEN_HEADER', 'X-Forwarded-Access-Token');
}

/** proxy_prefix, redirect_url, upstreams and http_address: where the judge listens and what it serves. */
function serving(c: Ctx): void {
  const prefix = (c.str('proxy_prefix') ?? DEFAULTS.proxyPrefix).replace(/\/+$/, '');
  if (!prefix.startsWith('/') || prefix === '') c.refuse('proxy_prefix', 'must be a path such as /oauth2');
  else c.set('AUTHSERVICE_URL_PREFIX', `${prefix}/`);
  c.set('COMPAT_ENDPOINTS', 'oauth2-proxy');
  c.set('REDIRECT_URL', c.str('redirect_url') || `${prefix}/callback`);
  if (c.bool('relative_redirect_url')) {
    c.warnings.push(
      `${c.at('relative_redirect_url')}: the provider is sent the absolute callback URL (${c.settings['REDIRECT_URL']} on the request's origin); register that URL with the provider (Dex: redirectURIs)`,
    );
  }

  const ups = c.list('upstreams');
  const address = c.str('http_address') ?? DEFAULTS.httpAddress;
  const hostPort = /^(?:http:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/[\]]*):(\d{1,5})$/i.exec(address.trim());
  if (hostPort === null || Number(hostPort[2]) > 65535) {
    c.refuse('http_address', `${JSON.stringify(address)}: only [http://]host:port is supported (no unix:// or fd:)`);
    return;
  }
  const host = hostPort[1]!.replace(/^\[|\]$/g, '');
  const port = hostPort[2]!;
  if (ups.length === 0 || (ups.length === 1 && ups[0] === 'static://200')) {
    // Kubeflow's use: the proxy only checks (Envoy ext_authz over HTTP) → the judge's HTTP door.
    c.set('SERVER_HOSTNAME', host === '0.0.0.0' ? '' : host);
    c.set('SERVER_PORT', port);
    return;
  }
  if (ups.length > 1 || !/^https?:\/\/[^/]+\/?$/i.test(ups[0]!)) {
    c.refuse('upstreams', `${ups.map((u) => JSON.stringify(u)).join(', ')}: only "static://200" (check only) or one http(s)://host:port upstream is supported`);
    return;
  }
  // One upstream: the judge in front of it (the ingress forwarder) on http_address.
  c.set('INGRESS_PORT', port);
  c.set('INGRESS_UPSTREAM', ups[0]!);
  if (host !== '' && host !== '0.0.0.0') c.set('SERVER_HOSTNAME', host);
}

/** The sign-in page's looks: the judge sends browsers straight to the provider. */
function cosmetic(c: Ctx): void {
  for (const k of ['skip_provider_button', 'provider_display_name', 'custom_sign_in_logo', 'banner', 'footer'] as const) {
    if (c.opt(k) !== undefined) c.warnings.push(`${c.at(k)}: no effect; there is no sign-in button page, a navigation goes straight to the provider`);
  }
}

export function mapOptions(o: Options): Mapped {
  const c = new Ctx(o);
  for (const step of [provider, endpoints, cookies, emailDomains, routes, bearers, headers, serving, cosmetic]) step(c);
  return { settings: c.settings, errors: c.errors, warnings: c.warnings };
}
