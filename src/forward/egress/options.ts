/**
 * The egress forwarder's options block (`mode: egress`): types and the validating parser. The
 * token sources (static, self-signed, GCP identity, jwtproxy-style) have their own sub-parser in
 * tokens/options.ts. Every problem is reported as `"<at>.<key>: what is wrong"`; the parser
 * never throws and never reads files (create() does).
 */
import { OptionReader, type Raw } from '../../config/block.js';
import { egressBlock as block } from '../../config/forward-blocks/egress.js';
import { readAllowHosts, type HostPattern } from './allow-hosts.js';
import { parseTokenOptions, type TokenOptions } from './tokens/options.js';

export type * from './tokens/options.js';

export interface EgressOptions {
  /** Reverse-proxy operation: every request goes to this `http(s)://` base URL. Absent: forward-proxy operation. */
  readonly upstream?: string;
  readonly token: TokenOptions;
  /** The `Host` sent to a reverse-proxy upstream: the upstream's (default) or the client's. */
  readonly host: 'upstream' | 'client';
  /** Forward-proxy operation: the CA (PEM files) that mints per-host certificates for CONNECT; without it CONNECT is refused. */
  readonly connectCa?: { readonly certFile: string; readonly keyFile: string };
  /** Forward-proxy operation: the only destinations it proxies to (others get 403). Absent: any host the pod reaches. */
  readonly allowHosts?: readonly HostPattern[];
  /** HTTPS upstreams/targets: extra trusted CAs (PEM file, added to the system roots), or no verification at all. */
  readonly upstreamTls: { readonly caFile?: string; readonly insecureSkipVerify: boolean };
  /** Health-port path publishing the signing keys as a JWKS (asymmetric sources only). */
  readonly jwksPath: string;
  /** Cached tokens are renewed this long before they expire (seconds, default 60). */
  readonly renewMarginSeconds: number;
}

export function parseEgressOptions(raw: Raw, at: string, errs: string[]): EgressOptions {
  const r = new OptionReader(raw, at, errs);
  const upstream = r.get(block.upstream);
  const tokenReader = r.sub(block.token);
  const token = parseTokenOptions(tokenReader ?? new OptionReader({}, `${at}.token`, []), tokenReader !== undefined);
  const host = r.getOr(block.host);
  let connectCa: EgressOptions['connectCa'];
  const ca = r.sub(block.connectCa);
  if (ca !== undefined) {
    const certFile = ca.str('certFile', { required: true });
    const keyFile = ca.str('keyFile', { required: true });
    ca.done();
    if (certFile !== undefined && keyFile !== undefined) connectCa = { certFile, keyFile };
    if (upstream !== undefined) r.fail('connectCa', 'only for forward-proxy operation (no upstream)');
  }
  const allowHosts = readAllowHosts(r, block.allowHosts);
  if (allowHosts !== undefined && upstream !== undefined) r.fail('allowHosts', 'only for forward-proxy operation (no upstream)');
  const t = r.sub(block.upstreamTls);
  const caFile = t?.str('caFile', { nonEmpty: true });
  const upstreamTls = { ...(caFile !== undefined ? { caFile } : {}), insecureSkipVerify: t?.bool('insecureSkipVerify', false) ?? false };
  t?.done();
  const jwksPath = r.getOr(block.jwksPath);
  if (!jwksPath.startsWith('/')) r.fail('jwksPath', 'must start with "/"');
  const renewMarginSeconds = r.getOr(block.renewMarginSeconds);
  r.done();
  return {
    ...(upstream !== undefined ? { upstream } : {}),
    token,
    host,
    ...(connectCa !== undefined ? { connectCa } : {}),
    ...(allowHosts !== undefined ? { allowHosts } : {}),
    upstreamTls,
    jwksPath,
    renewMarginSeconds,
  };
}
