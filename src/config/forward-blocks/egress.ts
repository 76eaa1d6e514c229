/**
 * The options of a `mode: egress` forwarder block (add a token, then proxy), one declaration each:
 * read by forward/egress/options.ts, documented in docs/ by `npm run docs`. The token sources
 * (`token:`) are read by forward/egress/tokens/options.ts and documented in their own table.
 */
import { blockOptions, duration, list, mapping, oneOf, str, url } from '../field.js';

export const egressBlock = blockOptions('egress', {
  upstream: url(
    'upstream',
    '`http(s)://host:port/base?query`: reverse-proxy operation (base path prefix, base query first, as in "Verify then proxy"). Absent: forward-proxy operation, where origin-form requests get 400.',
    { optional: true, defaultDoc: 'none: forward proxy' },
  ),
  token: mapping('token', 'The token source: see below.'),
  host: oneOf(
    'host',
    ['upstream', 'client'],
    "`Host` sent to the upstream: its own, or `client` (reverse proxy only; a forward proxy always sends the target's).",
    { default: 'upstream' },
  ),
  connectCa: mapping(
    'connectCa',
    '`{ certFile, keyFile }` (PEM; RSA, EC or Ed25519 CA with `CA:TRUE`): per-host certificates (SAN = the `CONNECT` host, DNS name or IP, 7 days, never past the CA) are minted in-process and cached; the inner requests go to the `CONNECT` authority, whatever their `Host` says. Forward proxy only. Clients must trust this CA.',
    { optional: true, defaultDoc: 'none: `CONNECT` refused (405, and a warning at start)' },
  ),
  allowHosts: list(
    'allowHosts',
    'Forward proxy only: the destinations it proxies to, for absolute-URI requests and `CONNECT` alike; any other gets 403 before a token is minted or a connection opened. Entries: an exact host (`api.example.com`, `10.0.0.7`, `[::1]`), `*.example.com` (its subdomains, not itself), either with `:port` (without one: any port). Hosts are compared as the URL parser reads them (case, trailing dot, `0x7f.1` = `127.0.0.1`). Without it, every client of the proxy can reach — with a token added — whatever the pod reaches: cloud metadata servers, cluster services, the Kubernetes API.',
    { optional: true, defaultDoc: 'none: **any host the pod can reach** (a warning at start)' },
  ),
  upstreamTls: mapping(
    'upstreamTls',
    "`caFile`: PEM bundle trusted **besides** the system roots (jwtproxy's `trusted_certificates` replaced them); `insecureSkipVerify: true` (oidc-proxy's `--tls-allow-insecure-target`).",
    { optional: true, defaultDoc: 'the system roots' },
  ),
  jwksPath: str(
    'jwksPath',
    'Where the health listener publishes the signing keys (`{"keys": […]}`, `Cache-Control: public, max-age=300`, strong `ETag`, `304`): asymmetric `self-signed` and `jwtproxy` sources. Several egress forwarders on one health listener need distinct paths.',
    { default: '/.well-known/jwks.json', nonEmpty: true },
  ),
  renewMarginSeconds: duration('renewMarginSeconds', 'Cached tokens are renewed this long before `exp` (or at half their lifetime if that is shorter).', {
    default: 60,
    min: 0,
  }),
});
