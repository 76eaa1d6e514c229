/**
 * The options of a `mode: metadata` forwarder block (the OIDC metadata gateway), one declaration
 * each: read by forward/metadata/options.ts, documented in docs/ by `npm run docs`. The
 * defaults kube-oidc-gateway's variables also set come from their declarations (forward-schema.ts).
 */
import { blockOptions, bool, int, number, str, url } from '../field.js';
import { defaultOf, metadataGatewaySchema as gateway } from '../forward-schema.js';

const DAY = 86_400;

export const metadataBlock = blockOptions('metadata', {
  upstream: url('upstream', 'API server base URL (trailing slashes dropped); ignored when `kubeconfig` is set.', { default: defaultOf(gateway.upstream) }),
  kubeconfig: str('kubeconfig', 'A kubeconfig (file or `:`-list) used instead of the token and CA files.', { default: '', defaultDoc: 'none' }),
  tokenFile: str('tokenFile', 'Service-account token file, re-read on every fetch (empty: anonymous).', { default: defaultOf(gateway.tokenFile) }),
  caFile: str('caFile', 'CA bundle (PEM) trusted for the API server (empty: the system roots).', { default: defaultOf(gateway.caFile) }),
  upstreamTimeoutSeconds: number('upstreamTimeoutSeconds', 'Upstream fetch deadline in seconds, 0.001 to 60.', {
    min: 0.001,
    max: 60,
    default: defaultOf(gateway.upstreamTimeoutSeconds),
  }),
  cacheTtlSeconds: number('cacheTtlSeconds', 'Server-side freshness of a fetched document (seconds, up to a day).', {
    min: 0,
    max: DAY,
    default: defaultOf(gateway.cacheTtlSeconds),
  }),
  clientCacheTtlSeconds: int('clientCacheTtlSeconds', '`Cache-Control: max-age` (and `Expires`) on fresh answers (seconds, up to a year).', {
    min: 0,
    max: 365 * DAY,
    default: defaultOf(gateway.clientCacheTtlSeconds),
  }),
  maxStaleSeconds: number('maxStaleSeconds', 'How long past its freshness a copy may still be served when the API server fails (up to 30 days).', {
    min: 0,
    max: 30 * DAY,
    default: 3600,
  }),
  staleClientCacheTtlSeconds: int('staleClientCacheTtlSeconds', '`max-age` on stale answers (never above `clientCacheTtlSeconds`; up to a day).', {
    min: 0,
    max: DAY,
    default: 60,
  }),
  prettyPrint: bool('prettyPrint', 'Re-emit the JSON 2-space indented (key order kept); `false` serves the upstream bytes.', {
    default: defaultOf(gateway.prettyPrint),
  }),
  maxBytes: int('maxBytes', 'Largest upstream document accepted (bytes, 1 KiB to 64 MiB); larger is an upstream error, never truncated.', {
    min: 1024,
    max: 64 * 1024 * 1024,
    default: 1024 * 1024,
  }),
});
