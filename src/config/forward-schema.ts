/**
 * The forwarder commands' environment variables, declared with the same field builders as the
 * judge's schema (schema.ts) and documented by the same generator (docs.ts): the `forward`
 * command's own settings, the proxy variables upstream connections honour, oidc-proxy's options
 * (`--flag` or `OIDC_PROXY_<FLAG>`) and kube-oidc-gateway's variables. Kept apart from `schema`
 * because `serve` does not read them: the forwarder commands read nothing of the judge's settings.
 * The forwarders' code takes the names (and defaults) from here, so the README cannot drift.
 * Per-mode block keys (`forwarders:`) are declared in config/forward-blocks/, read by config/block.ts and documented per mode.
 */
import { DEFAULT_SERVICE_ACCOUNT_DIR } from '../kube/credentials.js';
import { bool, int, number, oneOf, port, section, str, url, type Field } from './field.js';
import { schema } from './schema.js';

/** `oidc-judge forward` (and the other forwarder commands): flag, then env, then the config file key. */
export const forwardCommandSchema = section('oidc-judge forward', {
  forwardHealthListen: str(
    'FORWARD_HEALTH_LISTEN',
    'Health listener (`host:port`, `:port`, `unix:/path`): `/healthz` is always 200; `/readyz` is 200 only when every forwarder is ready (keys loaded, Redis connected …), else 503 naming the others; `/metrics` is Prometheus text (the check counters of the `verify` and `kube` modes among it); plus routes a mode adds.',
    { flag: 'health-listen', fileKey: 'forwardHealthListen', default: '', defaultDoc: 'none' },
  ),
  forwardDrainSeconds: number(
    'FORWARD_DRAIN_SECONDS',
    'On SIGTERM/SIGINT: stop accepting, let in-flight exchanges finish this long (seconds), then cut the rest.',
    { flag: 'drain-seconds', fileKey: 'forwardDrainSeconds', min: 0, max: 3600, default: 10 },
  ),
  logLevel: str('LOG_LEVEL', 'Log level of the forwarder commands (`TRACE` … `FATAL`).', { flag: 'log-level', default: 'INFO' }),
  // The judge's own switch (same name, meaning and default), for the modes that decide through the judge.
  logDecisions: {
    ...schema.logDecisions,
    doc: `${schema.logDecisions.doc} Here: per request of the modes that decide through the judge (\`verify\`, \`kube\`); their checks are counted on the health listener's \`/metrics\` either way.`,
    flag: 'log-decisions',
    fileKey: 'logDecisions',
  },
  kubernetesServiceHost: str(
    'KUBERNETES_SERVICE_HOST',
    "API server address for the `kube` mode's in-cluster credentials (set by Kubernetes in every pod; `serviceHost` wins).",
    { flag: '', default: '', defaultDoc: 'none' },
  ),
  kubernetesServicePort: str(
    'KUBERNETES_SERVICE_PORT',
    "API server port for the `kube` mode's in-cluster credentials (set by Kubernetes in every pod; `servicePort` wins).",
    { flag: '', default: '', defaultDoc: 'none' },
  ),
  httpsProxy: str(
    'HTTPS_PROXY',
    'Forward proxy for https upstreams (`upstreamProxy: env`, the default); `https_proxy` too. Loopback upstreams are never proxied.',
    { flag: '', default: '', defaultDoc: 'none' },
  ),
  httpProxy: str('HTTP_PROXY', 'Forward proxy for http upstreams (`upstreamProxy: env`); `http_proxy` too.', { flag: '', default: '', defaultDoc: 'none' }),
  noProxy: str('NO_PROXY', 'Upstreams reached directly: comma list of hosts, `.domain`/`domain` suffixes, optional `:port`, or `*`; `no_proxy` too.', {
    flag: '',
    default: '',
    defaultDoc: 'none',
  }),
});

const SIGNING = ['RS256', 'RS384', 'RS512', 'ES256', 'HS256', 'HS384', 'HS512'] as const;
const proxyFlag = (flag: string) => ({ flag, default: '', defaultDoc: '—' });
const proxySwitch = (flag: string) => ({ flag, default: false });
const ours = 'Added by oidc-judge:';

/** oidc-proxy's own options (seed A.1), keyed by flag; the variable is `OIDC_PROXY_<FLAG_UPPER_SNAKE>`. */
export const oidcProxySchema = section('oidc-judge oidc-proxy', {
  'target-url': url('OIDC_PROXY_TARGET_URL', 'The upstream (http or https).', { flag: 'target-url' }),
  audience: str(
    'OIDC_PROXY_AUDIENCE',
    'Accepted audience (ingress; a string or a JSON/YAML list) or the audience tokens are made for (egress, one). Required except for static tokens.',
    proxyFlag('audience'),
  ),
  port: port('OIDC_PROXY_PORT', 'Listen port.', { flag: 'port', default: 8080 }),
  address: str('OIDC_PROXY_ADDRESS', 'Listen address; the default (loopback only) is warned about: in a container set `0.0.0.0`.', {
    flag: 'address',
    default: '127.0.0.1',
  }),
  'ingress-enabled': bool(
    'OIDC_PROXY_INGRESS_ENABLED',
    'Verify inbound bearer tokens, then proxy (`mode: verify`). Exclusive with egress.',
    proxySwitch('ingress-enabled'),
  ),
  'ingress-jwks-url': url('OIDC_PROXY_INGRESS_JWKS_URL', 'Ingress key source: a JWKS URL (used first when several are given).', proxyFlag('ingress-jwks-url')),
  'ingress-validating-key': str(
    'OIDC_PROXY_INGRESS_VALIDATING_KEY',
    'Ingress key source: a PEM public key, else an HMAC secret (then its encoding is required).',
    { ...proxyFlag('ingress-validating-key') },
  ),
  'ingress-static-token': str(
    'OIDC_PROXY_INGRESS_STATIC_TOKEN',
    'Ingress key source: the one accepted token (constant-time compare; a JWT also has `exp`/`nbf` checked).',
    { ...proxyFlag('ingress-static-token') },
  ),
  'ingress-valid-claims': str(
    'OIDC_PROXY_INGRESS_VALID_CLAIMS',
    'Required claims as JSON/YAML: anchored RE2 patterns for strings, exact numbers, booleans and null, lists contain all.',
    proxyFlag('ingress-valid-claims'),
  ),
  'egress-enabled': bool(
    'OIDC_PROXY_EGRESS_ENABLED',
    'Add a bearer token to every request, then proxy (`mode: egress`). Exclusive with ingress.',
    proxySwitch('egress-enabled'),
  ),
  'egress-auth-type': oneOf('OIDC_PROXY_EGRESS_AUTH_TYPE', ['gcp', 'manual', 'static'], 'Where the egress token comes from. Required with egress.', {
    ...proxyFlag('egress-auth-type'),
    caseInsensitive: true,
  }),
  'egress-auth-static-token': str('OIDC_PROXY_EGRESS_AUTH_STATIC_TOKEN', 'The token sent by `static` egress.', { ...proxyFlag('egress-auth-static-token') }),
  'egress-auth-manual-issuer': str(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_ISSUER',
    '`iss` of the tokens `manual` egress signs. Required for it.',
    proxyFlag('egress-auth-manual-issuer'),
  ),
  'egress-auth-manual-subject': str(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_SUBJECT',
    '`sub` of the tokens `manual` egress signs. Required for it.',
    proxyFlag('egress-auth-manual-subject'),
  ),
  'egress-auth-manual-signing-method': oneOf(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_SIGNING_METHOD',
    SIGNING,
    'Algorithm `manual` egress signs with. Required for it.',
    { ...proxyFlag('egress-auth-manual-signing-method'), caseInsensitive: true },
  ),
  'egress-auth-manual-signing-key': str(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_SIGNING_KEY',
    'PEM private key (or a file path), or the HMAC secret for HS*. Required for `manual` egress.',
    { ...proxyFlag('egress-auth-manual-signing-key') },
  ),
  'egress-auth-manual-claims': str(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_CLAIMS',
    'Extra claims as a JSON/YAML map of scalars; `iat`, `exp`, `iss`, `aud`, `sub` are set by the proxy.',
    proxyFlag('egress-auth-manual-claims'),
  ),
  'egress-auth-gcp-service-account': str(
    'OIDC_PROXY_EGRESS_AUTH_GCP_SERVICE_ACCOUNT',
    'Service account whose identity token `gcp` egress fetches from the metadata server.',
    { flag: 'egress-auth-gcp-service-account', default: 'default' },
  ),
  'tls-listen-enabled': bool(
    'OIDC_PROXY_TLS_LISTEN_ENABLED',
    'Listen with TLS (then `tls-cert` and `tls-key` are required).',
    proxySwitch('tls-listen-enabled'),
  ),
  'tls-cert': str('OIDC_PROXY_TLS_CERT', 'PEM certificate file for the TLS listener.', proxyFlag('tls-cert')),
  'tls-key': str('OIDC_PROXY_TLS_KEY', 'PEM private key file for the TLS listener.', proxyFlag('tls-key')),
  'tls-allow-insecure-target': bool(
    'OIDC_PROXY_TLS_ALLOW_INSECURE_TARGET',
    "Do not verify the upstream's certificate.",
    proxySwitch('tls-allow-insecure-target'),
  ),
});

/** Options oidc-judge adds to oidc-proxy's: explicit HMAC key encodings, and keeping the inbound token upstream. */
export const oidcProxyExtraSchema = section('oidc-judge oidc-proxy', {
  'ingress-validating-key-encoding': oneOf(
    'OIDC_PROXY_INGRESS_VALIDATING_KEY_ENCODING',
    ['raw', 'base64'],
    `${ours} the encoding of an HMAC validating key, required with one (oidc-proxy guessed).`,
    proxyFlag('ingress-validating-key-encoding'),
  ),
  'egress-auth-manual-signing-key-encoding': oneOf(
    'OIDC_PROXY_EGRESS_AUTH_MANUAL_SIGNING_KEY_ENCODING',
    ['raw', 'base64'],
    `${ours} the encoding of an HMAC signing key, required with one.`,
    proxyFlag('egress-auth-manual-signing-key-encoding'),
  ),
  'ingress-pass-through-token': bool(
    'OIDC_PROXY_INGRESS_PASS_THROUGH_TOKEN',
    `${ours} keep \`Authorization\` for the upstream (removed by default).`,
    proxySwitch('ingress-pass-through-token'),
  ),
});

/** kube-oidc-gateway's variables (seed D.1), keyed by the `mode: metadata` option each becomes. */
export const metadataGatewaySchema = section('oidc-judge metadata-gateway', {
  listenAddr: str('LISTEN_ADDR', "Listen address (with `LISTEN_PORT`: the block's `listen`).", { flag: '', default: '0.0.0.0' }),
  listenPort: port('LISTEN_PORT', 'Listen port.', { flag: '', default: 8080 }),
  upstream: url('UPSTREAM_HOST', 'API server base URL (`upstream`).', { flag: '', default: 'https://kubernetes.default.svc' }),
  upstreamTimeoutSeconds: number('UPSTREAM_TIMEOUT_SECONDS', 'Upstream fetch deadline in seconds (`upstreamTimeoutSeconds`), 0.001 to 60.', {
    flag: '',
    min: 0.001,
    max: 60,
    default: 5,
  }),
  cacheTtlSeconds: number('CACHE_TTL_SECONDS', 'Server-side freshness of a fetched document (`cacheTtlSeconds`).', {
    flag: '',
    min: 0,
    max: 86_400,
    default: 60,
  }),
  clientCacheTtlSeconds: int('CLIENT_CACHE_TTL_SECONDS', '`Cache-Control: max-age` on fresh answers (`clientCacheTtlSeconds`).', {
    flag: '',
    max: 365 * 86_400,
    default: 3600,
  }),
  prettyPrint: bool('PRETTY_PRINT_JSON', "Re-emit the JSON 2-space indented (`prettyPrint`); Go's boolean spellings (`1`, `t`, `TRUE` …).", {
    flag: '',
    default: true,
  }),
  tokenFile: str('SA_TOKEN_PATH', 'Service-account token file, re-read on every fetch (`tokenFile`).', {
    flag: '',
    default: `${DEFAULT_SERVICE_ACCOUNT_DIR}/token`,
  }),
  caFile: str('SA_CA_CERT_PATH', 'CA bundle trusted for the API server (`caFile`).', { flag: '', default: `${DEFAULT_SERVICE_ACCOUNT_DIR}/ca.crt` }),
});

/** Every forwarder variable, for the docs and the drift test. */
export const forwardSchemas: readonly Readonly<Record<string, Field<unknown>>>[] = [
  forwardCommandSchema,
  oidcProxySchema,
  oidcProxyExtraSchema,
  metadataGatewaySchema,
];

/** The default a field declares (the forwarders read their defaults from here). */
export function defaultOf<T>(f: Field<T>): T {
  const d = f.default;
  if (d === undefined || typeof d === 'function') throw new Error(`${f.env} has no plain default`);
  return d as T;
}
