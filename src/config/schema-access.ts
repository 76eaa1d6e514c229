/**
 * The schema's sections about who gets in and what the upstream learns: authentication,
 * authorization and the identity headers. `schema.ts` spreads them in at their place in the
 * settings table; they live apart so that no schema file outgrows a reader.
 */
import { RE2JS } from 're2js';
import { claimNameProblem } from '../judge/claims.js';
import { claimSources } from './claim-field.js';
import { bool, int, section, list, oneOf, str, structured, url } from './field.js';
import { parseJwtIssuers } from './jwt-issuers.js';
import { parseAuthzRules } from './rules.js';
import type { UserIdTransformer } from '../judge/upstream/userid-transform.js';

function parseTransformers(v: unknown, at: string, errs: string[]): UserIdTransformer[] {
  if (!Array.isArray(v)) {
    errs.push(`${at}: must be a list of {"matches": "<regex>", "replaces": "<string>"}`);
    return [];
  }
  return v.map((t, i) => {
    const here = `${at}[${i}]`;
    if (typeof t !== 'object' || t === null || typeof t.matches !== 'string' || typeof t.replaces !== 'string') {
      errs.push(`${here}: needs "matches" and "replaces" strings`);
      return { matches: '', replaces: '' };
    }
    const extra = Object.keys(t).filter((k) => k !== 'matches' && k !== 'replaces');
    if (extra.length > 0) errs.push(`${here}: unknown field(s) ${extra.join(', ')}`);
    try {
      RE2JS.compile(t.matches);
    } catch (e) {
      errs.push(`${here}.matches: invalid regular expression (${(e as Error).message})`);
    }
    return { matches: t.matches, replaces: t.replaces };
  });
}

/** `STRIP_HEADERS`: header names, or name prefixes ending in `*`; lower-cased. */
function parseStripHeaders(v: unknown, at: string, errs: string[]): readonly string[] {
  const entries = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
  if (entries === undefined) {
    errs.push(`${at}: must be a list of header names (a trailing * matches a prefix)`);
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const t = typeof e === 'string' ? e.trim() : '';
    if (t === '' && typeof e === 'string') continue;
    if (!/^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/.test(t)) errs.push(`${at}: ${JSON.stringify(e)} is no header name (a trailing * matches a prefix)`);
    else out.push(t.toLowerCase());
  }
  return Object.freeze(out);
}

/** `claim:header` pairs: which verified claim goes upstream in which header. */
function parseClaimHeaders(v: unknown, at: string, errs: string[]): Readonly<Record<string, string>> {
  const entries =
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v;
  const out: Record<string, string> = {};
  if (Array.isArray(entries)) {
    for (const e of entries) {
      // The header follows the last colon: a claim may be named by a URL (`https://example.com/tenant:x-tenant`).
      const m = typeof e === 'string' ? /^(\S+):([A-Za-z0-9-_]+)$/.exec(e.trim()) : null;
      if (!m) errs.push(`${at}: entry ${JSON.stringify(e)} must look like claim:header-name`);
      else if (claimNameProblem(m[1]!) !== undefined) errs.push(`${at}: ${claimNameProblem(m[1]!)}`);
      else out[m[2]!.toLowerCase()] = m[1]!;
    }
  } else if (typeof entries === 'object' && entries !== null) {
    for (const [h, c] of Object.entries(entries)) {
      if (typeof c !== 'string' || !/^[A-Za-z0-9-_]+$/.test(h)) errs.push(`${at}: ${h} must map a header name to a claim name`);
      else if (claimNameProblem(c) !== undefined) errs.push(`${at}: ${h}: ${claimNameProblem(c)}`);
      else out[h.toLowerCase()] = c;
    }
  } else errs.push(`${at}: must be a list of claim:header-name`);
  return Object.freeze(out);
}

const defaultChain = ['kubernetes', 'access_token', 'session', 'id_token'] as const;

export const accessSettings = {
  // ── Authentication ───────────────────────────────────────────────────────────────────────
  ...section('Authentication', {
    authnChain: list('AUTHN_CHAIN', 'Order of the authenticators (`kubernetes`, `access_token`, `session`, `id_token`).', { default: defaultChain }),
    authHeader: str('AUTH_HEADER', 'Header in which a session id is accepted (optional `Bearer `); the header logout authenticates with.', {
      default: 'Authorization',
    }),
    idTokenHeader: str('ID_TOKEN_HEADER', 'Header carrying ID tokens and access tokens (optional `Bearer `).', { default: 'Authorization' }),
    audiences: list('AUDIENCES', 'Accepted `aud` values for JWT access tokens, and the TokenReview audiences.', {
      default: ['istio-ingressgateway.istio-system.svc.cluster.local'],
    }),
    idtokenAuthnEnabled: bool('IDTOKEN_AUTHN_ENABLED', 'Accept ID tokens (audience `CLIENT_ID`) as bearer tokens.', { default: true }),
    accessTokenAuthnEnabled: bool('ACCESS_TOKEN_AUTHN_ENABLED', 'Accept access tokens as bearer tokens.', { default: true }),
    accessTokenAuthn: oneOf(
      'ACCESS_TOKEN_AUTHN',
      ['jwt', 'opaque', 'introspection'],
      'How access tokens are checked: `jwt` (signature, audiences), `opaque` (the provider’s userinfo) or `introspection` (RFC 7662 at the provider). Case-sensitive.',
      { default: 'jwt' },
    ),
    introspectionUrl: url(
      'INTROSPECTION_URL',
      'RFC 7662 endpoint for `ACCESS_TOKEN_AUTHN=introspection` (default: the discovered `introspection_endpoint`); the client authenticates as at the token endpoint.',
      { default: '' },
    ),
    introspectionRequiredScopes: list(
      'INTROSPECTION_REQUIRED_SCOPES',
      'Scopes an introspected token must all have; checked on every request, cached or not. Commas or spaces.',
      { default: [], spaces: true },
    ),
    introspectionAudiences: list(
      'INTROSPECTION_AUDIENCES',
      'If set, an introspected token’s `aud` must contain one of these; checked on every request, cached or not.',
      { default: [] },
    ),
    introspectionTokenTypeRequired: bool(
      'INTROSPECTION_TOKEN_TYPE_REQUIRED',
      'An introspection answer must say it is about an access token (`token_type` `Bearer`, `access_token` or `urn:ietf:params:oauth:token-type:access_token`; Keycloak’s `typ: Bearer`; Ory’s `token_use: access_token`): refresh tokens are active too, and some providers (oidc-provider) tell them apart only by leaving `token_type` out. `false`: also accept answers that name no type, for providers that never send one. An answer naming another type is refused either way.',
      { default: true },
    ),
    kubernetesAuthnEnabled: bool('KUBERNETES_AUTHN_ENABLED', 'Accept Kubernetes service-account tokens (TokenReview).', { default: true }),
    kubeconfig: str(
      'KUBECONFIG',
      'Kubeconfig file (or `:`-separated list) for the TokenReview calls; empty: the in-cluster service account. Neither: service-account tokens are off.',
      { default: '' },
    ),
    kubernetesServiceHost: str('KUBERNETES_SERVICE_HOST', 'API server address for in-cluster credentials (set by Kubernetes in every pod).', { default: '' }),
    kubernetesServicePort: str('KUBERNETES_SERVICE_PORT', 'API server port for in-cluster credentials (set by Kubernetes in every pod).', { default: '' }),
    jwtIssuers: structured(
      'JWT_ISSUERS',
      'Extra issuers whose JWT access tokens are accepted: issuer URLs, each discovered, with `AUDIENCES`, `USERID_CLAIM` and `GROUPS_CLAIM`. The config file’s `jwtIssuers:` (or JSON here) also takes entries with their own audiences, claims, required claims and a static `jwksUri` (see “Bearer tokens from other issuers”).',
      parseJwtIssuers,
      { default: [], type: 'list' },
    ),
    jwtAlgorithms: list('JWT_ALGORITHMS', 'Allowed JWS algorithms (asymmetric only; `none` and HMAC are never accepted).', {
      default: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    }),
    jwtLeeway: int('JWT_LEEWAY', 'Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.', { default: 30, min: 0, max: 300 }),
    jwksRefreshInterval: int('JWKS_REFRESH_INTERVAL', 'Seconds between background JWKS refreshes.', { default: 300, min: 10, max: 86400 }),
    jwksMinRefetchInterval: int('JWKS_MIN_REFETCH_INTERVAL', 'Minimum seconds between JWKS fetches caused by an unknown `kid`.', {
      default: 30,
      min: 1,
      max: 3600,
    }),
    userIdClaim: claimSources(
      'USERID_CLAIM',
      'Claim used as the user id: a name or a dot path (see “Claims”); several, comma-separated (`email,sub`): the first holding a non-empty string.',
      { default: 'email', emptyOk: false },
    ),
    groupsClaim: claimSources(
      'GROUPS_CLAIM',
      'Claims holding the groups (a list of strings, or one string): names or dot paths, comma-separated, merged in order without duplicates (`groups,realm_access.roles`; see “Claims”).',
      { default: 'groups' },
    ),
    groupsStripPrefix: str(
      'GROUPS_STRIP_PREFIX',
      'Taken off the start of each group value once, when it starts with it (`/` turns Keycloak’s group paths `/team-a` into `team-a`); a group left empty is dropped.',
      { default: '' },
    ),
    caBundle: str('CA_BUNDLE', 'PEM file of extra CA certificates trusted for calls to the provider.', { default: '' }),
    cacheEnabled: bool(
      'CACHE_ENABLED',
      'Cache what the provider said about bearer tokens (userinfo, introspection): keys are hashes, entries never outlive the token’s `exp`. Locally verified JWTs are always cached until `exp`.',
      { default: false },
    ),
    cacheExpirationMinutes: int('CACHE_EXPIRATION_MINUTES', 'Upper bound of a cache entry’s lifetime, in minutes.', { default: 5, min: 1, max: 1440 }),
  }),
  // ── Authorization ────────────────────────────────────────────────────────────────────────
  ...section('Authorization', {
    groupsAllowlist: list('GROUPS_ALLOWLIST', 'Groups allowed in; `*` allows everyone, also users without groups. Empty denies all.', { default: ['*'] }),
    authzRules: structured(
      'AUTHZ_RULES',
      'Per-route rules (host/path/method → users, groups, emails, domains, claim patterns; optionally a sign-in strength to `require`: acr, amr, maxAge; client address ranges in `sources`; a CEL condition in `when`). When set, a request no rule matches is denied; paths compare ignoring letter case unless a rule sets `caseSensitive: true`, and an ambiguous path must be allowed under every reading. Usually in the config file as `authzRules:`.',
      parseAuthzRules,
      { default: [], type: 'rules' },
    ),
    emailVerifiedRequired: bool(
      'EMAIL_VERIFIED_REQUIRED',
      'The `emails` and `domains` conditions of `authzRules` count the `email` claim only when `email_verified` is `true` (or "true"). `false`: a missing `email_verified` counts as verified too, for providers that never send it (Microsoft Entra ID); `email_verified: false` never does.',
      { default: true },
    ),
    externalAuthzUrl: url(
      'EXTERNAL_AUTHZ_URL',
      'External authorizer called for every authenticated request (after the groups and rules): 2xx allows, 401/403 denies with its body as the reason, anything else refuses.',
      { default: '' },
    ),
    externalAuthzTimeout: int(
      'EXTERNAL_AUTHZ_TIMEOUT',
      'Milliseconds to wait for the external authorizer before refusing the request; keep it below `CHECK_TIMEOUT`.',
      { default: 2000, min: 1, max: 600000 },
    ),
    revokeSessionOnForbidden: bool(
      'REVOKE_SESSION_ON_FORBIDDEN',
      'A refused (403) session user is also signed out, as oidc-authservice did. Off: the session stays, and the 403 page offers “Sign in with another account”.',
      { default: false },
    ),
  }),
  // ── Identity headers ─────────────────────────────────────────────────────────────────────
  ...section('Identity headers', {
    useridHeader: str('USERID_HEADER', 'Upstream header with the user id; a comma list sends it under each name.', { default: 'kubeflow-userid' }),
    useridPrefix: str('USERID_PREFIX', 'Prefix added to the user id header value.', { default: '' }),
    useridTransformers: structured(
      'USERID_TRANSFORMERS',
      'JSON list of `{"matches": regex, "replaces": string}`; the first match is applied to the user id header.',
      parseTransformers,
      { default: [] },
    ),
    groupsHeader: str('GROUPS_HEADER', 'Upstream header with the groups, comma-joined; a comma list of names sends them under each.', {
      default: 'kubeflow-groups',
    }),
    authMethodHeader: str('AUTH_METHOD_HEADER', 'Upstream header saying `cookie` or `header`; a comma list sends it under each name; empty: not sent.', {
      default: 'Auth-Method',
    }),
    headerPreset: list(
      'HEADER_PRESET',
      'Header sets of the tools people migrate from, sent besides the headers above: `oauth2-proxy` (`X-Auth-Request-User`, `-Email`, `-Groups`, `-Preferred-Username`), `authelia` (`Remote-User`, `-Groups`, `-Name`, `-Email`). Comma list.',
      { default: [] },
    ),
    claimHeaders: structured(
      'CLAIM_HEADERS',
      'Extra upstream headers from verified claims, as `claim:header-name` pairs (claim: a name or dot path).',
      parseClaimHeaders,
      {
        default: {},
        type: 'list',
      },
    ),
    useridTokenHeader: str('USERID_TOKEN_HEADER', 'If set, the caller’s token (bearer token, or the session’s ID token) goes upstream in this header.', {
      default: '',
    }),
    forwardIdTokenHeader: str(
      'FORWARD_ID_TOKEN_HEADER',
      'If set, the ID token goes upstream in this header (`Authorization`: as `Bearer <token>`): the session’s, refreshed first when it would expire within `FORWARD_TOKEN_MIN_TTL`, or the bearer ID token the request presented. Removed from every request first.',
      { default: '' },
    ),
    forwardAccessTokenHeader: str(
      'FORWARD_ACCESS_TOKEN_HEADER',
      'If set, the access token goes upstream in this header (`Authorization`: as `Bearer <token>`): the session’s, refreshed first when it would expire within `FORWARD_TOKEN_MIN_TTL`, or the bearer access token the request presented. Removed from every request first.',
      { default: '' },
    ),
    forwardTokenBearerPrefix: oneOf(
      'FORWARD_TOKEN_BEARER_PREFIX',
      ['authorization', 'always', 'never'],
      'Which forwarded-token headers carry `Bearer <token>` rather than the raw token: only `Authorization`, `always` or `never`.',
      { default: 'authorization' },
    ),
    forwardTokenMinTtl: int(
      'FORWARD_TOKEN_MIN_TTL',
      'Seconds a forwarded session token must still be valid; closer to its expiry the session is refreshed before the check answers.',
      { default: 60, min: 0, max: 3600 },
    ),
    stripHeaders: structured(
      'STRIP_HEADERS',
      'More request headers removed on every allow and skip, in every case and `-`/`_` spelling, besides the built-in list (see “Headers the upstream never sees”); `X-My-*` removes a prefix. `authorization` here keeps bearer tokens from the upstream.',
      parseStripHeaders,
      { default: [], type: 'list' },
    ),
    upstreamKeepAuthCookies: bool(
      'UPSTREAM_KEEP_AUTH_COOKIES',
      'Send the judge’s own cookies (the session cookie, `oidc_state_csrf*`) to the upstream too; by default they are taken out of `Cookie`.',
      { default: false },
    ),
  }),
};
