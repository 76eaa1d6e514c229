/**
 * The options of a `mode: verify` forwarder block (verify a bearer token, then proxy), one
 * declaration each: read by forward/verify/options.ts, documented in docs/forwarders/verify.md by `npm run docs`.
 * The key sources (`keys:`) are read there too and documented in their own table.
 */
import { blockOptions, bool, custom, list, mapping, number, oneOf, str } from '../field.js';

export const verifyBlock = blockOptions('verify', {
  upstream: str(
    'upstream',
    '`http(s)://host:port/base?query` or `unix:/path.sock[:/base?query]`: the base path prefixes the request path (one slash between; the canonical path, never climbing out of the base: see [The path the upstream receives](../security.md#the-path-the-upstream-receives)), the base query comes first.',
  ),
  host: oneOf(
    'host',
    ['upstream', 'client'],
    "`Host` sent upstream: the upstream's, or `client` (what the client sent; jwtproxy's behaviour). `X-Forwarded-Host` carries the client's either way.",
    { default: 'upstream' },
  ),
  upstreamTls: mapping(
    'upstreamTls',
    "`caFile` (PEM) with `caMode: add` (default: besides the system roots) or `replace` (only it, jwtproxy's way); `insecureSkipVerify: true` (oidc-proxy's `--tls-allow-insecure-target`); `serverName`; `certFile`/`keyFile` for a client certificate.",
    { optional: true, defaultDoc: "Node's roots" },
  ),
  upstreamProxy: str(
    'upstreamProxy',
    '`env`: `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` from the environment (loopback upstreams never proxied); `none`; or `http://[user:pass@]host:port`. An https upstream is reached by `CONNECT` with TLS inside.',
    { default: 'env', nonEmpty: true },
  ),
  trustedProxies: list(
    'trustedProxies',
    'Peers (IPs, CIDRs) whose `X-Forwarded-For` is kept and appended to; from anyone else it is replaced by the peer address.',
    { optional: true, defaultDoc: 'none' },
  ),
  keys: mapping('keys', 'The key source: see below.'),
  algorithms: list(
    'algorithms',
    'Allow-list of JWS algorithms; `none` is never accepted, HMAC only with an HMAC secret, and an asymmetric algorithm only when it fits the key type.',
    { optional: true, defaultDoc: 'what the key fits' },
  ),
  issuer: list('issuer', 'Accepted `iss` values (string or list; exact). Recommended.', { optional: true, defaultDoc: 'any' }),
  audience: list('audience', "Accepted audiences (string or list); the token's `aud` (string or list) must contain one.", {
    optional: true,
    defaultDoc: '**required**, except for a static token',
  }),
  audienceMatch: oneOf(
    'audienceMatch',
    ['exact', 'origin'],
    "`origin`: jwtproxy's compare of `scheme://host[:port]`, case-insensitive, path ignored, default ports made explicit (`https://a` = `https://a:443/x`).",
    { default: 'exact' },
  ),
  skewSeconds: number('skewSeconds', 'Allowance applied to `exp`, `nbf` and `iat` alike.', { min: 0, max: 3600, default: 60 }),
  maxTtlSeconds: number('maxTtlSeconds', 'Largest `exp − iat` accepted (jwtproxy: 300).', { min: 1, max: 31_536_000, optional: true, defaultDoc: 'none' }),
  requireSub: bool('requireSub', "`iss`, `aud`, `exp`, `iat` are always required; `sub` too unless `false` (jwtproxy's signer sets none).", {
    default: true,
  }),
  claims: custom(
    'claims',
    'mapping',
    'Required claims, a mapping or its JSON/YAML text. A string is an RE2 pattern matching the **whole** claim (`my_app` never accepts `not_my_app_x`; write `my_app.*` for a prefix); a number equals a numeric claim (`3` = `3.0`); `true`/`false`/`null` exactly; a list means the claim (a list, or one value) contains every listed value, compared exactly. `aud` is refused here: use `audience`. Claims are names or dot paths (see “Claims”).',
    { optional: true, defaultDoc: 'none' },
  ),
  replay: custom(
    'replay',
    'off | memory | mapping',
    '`jti` replay protection: `memory` (one process), or `{ store: redis, addresses: [host:port], mode: standalone|sentinel|cluster, username, password | passwordFile, db, tls, caFile, sentinelMaster, keyPrefix }` shared by replicas. The `jti` is recorded only after signature and claims pass, with one atomic insert-if-absent (`SET NX PX`), until `exp` + skew; a token without `jti` is then refused.',
    { optional: true, defaultDoc: '`off`' },
  ),
  passThroughToken: bool('passThroughToken', 'Keep `Authorization` for the upstream (oidc-proxy and jwtproxy always did).', { default: false }),
  basicAuthFallback: bool('basicAuthFallback', 'Take the token from the password of `Authorization: Basic` (jwtproxy).', { default: false }),
  identityHeaders: bool(
    'identityHeaders',
    'Set `X-Auth-Subject` (from `sub`) and `X-Auth-Issuer` (from `iss`) upstream. Both headers are removed from client requests whether or not this is on.',
    { default: false },
  ),
  timeouts: mapping('timeouts', 'Upstream connect, request sent → response head, socket inactivity (milliseconds).', {
    optional: true,
    defaultDoc: '`{ connectMs: 5000, responseMs: 60000, idleMs: 300000 }`',
  }),
});
