/**
 * Options of the OIDC metadata gateway (`mode: metadata`), and the translation of
 * kube-oidc-gateway's environment variables into such a block. Unlike kube-oidc-gateway, a value
 * that does not parse is an error naming the option, not a silent fallback to the default.
 */
import { OptionReader, type Raw } from '../../config/block.js';
import { metadataBlock as block } from '../../config/forward-blocks/metadata.js';
import { defaultOf, metadataGatewaySchema as gateway } from '../../config/forward-schema.js';

export interface MetadataOptions {
  /** API server base URL (`UPSTREAM_HOST`); ignored when `kubeconfig` is set. */
  readonly upstream: string;
  /** A kubeconfig (file or `:`-list) instead of the token and CA files; '' = not used. */
  readonly kubeconfig: string;
  /** Service-account token file, re-read on every fetch ('' = no token: anonymous). */
  readonly tokenFile: string;
  /** CA bundle (PEM) trusted for the API server ('' = the system roots). */
  readonly caFile: string;
  readonly upstreamTimeoutMs: number;
  /** Server-side freshness of a fetched document. */
  readonly cacheTtlSeconds: number;
  /** `Cache-Control: max-age` (and `Expires`) on fresh answers. */
  readonly clientCacheTtlSeconds: number;
  /** How long past its freshness a copy may still be served when the upstream fails. */
  readonly maxStaleSeconds: number;
  /** `max-age` on stale answers (never above `clientCacheTtlSeconds`). */
  readonly staleClientCacheTtlSeconds: number;
  /** Re-emit the JSON 2-space indented (key order kept); false serves the upstream bytes. */
  readonly prettyPrint: boolean;
  /** Largest upstream document accepted; larger is an upstream error (no truncation). */
  readonly maxBytes: number;
}

/** Defaults, as declared in config/forward-blocks/metadata.ts. */
export const METADATA_DEFAULTS: MetadataOptions = Object.freeze({
  upstream: defaultOf(block.upstream),
  kubeconfig: defaultOf(block.kubeconfig),
  tokenFile: defaultOf(block.tokenFile),
  caFile: defaultOf(block.caFile),
  upstreamTimeoutMs: defaultOf(block.upstreamTimeoutSeconds) * 1000,
  cacheTtlSeconds: defaultOf(block.cacheTtlSeconds),
  clientCacheTtlSeconds: defaultOf(block.clientCacheTtlSeconds),
  maxStaleSeconds: defaultOf(block.maxStaleSeconds),
  staleClientCacheTtlSeconds: defaultOf(block.staleClientCacheTtlSeconds),
  prettyPrint: defaultOf(block.prettyPrint),
  maxBytes: defaultOf(block.maxBytes),
});

/** Reads a `mode: metadata` block (camelCase keys); problems go to `errs`. */
export function parseMetadataOptions(raw: Raw, at: string, errs: string[]): MetadataOptions {
  const r = new OptionReader(raw, at, errs);
  const timeoutSeconds = r.getOr(block.upstreamTimeoutSeconds);
  const options: MetadataOptions = {
    upstream: r.getOr(block.upstream).replace(/\/+$/, ''),
    kubeconfig: r.getOr(block.kubeconfig),
    tokenFile: r.getOr(block.tokenFile),
    caFile: r.getOr(block.caFile),
    upstreamTimeoutMs: Math.round(timeoutSeconds * 1000),
    cacheTtlSeconds: r.getOr(block.cacheTtlSeconds),
    clientCacheTtlSeconds: r.getOr(block.clientCacheTtlSeconds),
    maxStaleSeconds: r.getOr(block.maxStaleSeconds),
    staleClientCacheTtlSeconds: r.getOr(block.staleClientCacheTtlSeconds),
    prettyPrint: r.getOr(block.prettyPrint),
    maxBytes: r.getOr(block.maxBytes),
  };
  r.done();
  return Object.freeze(options);
}

/** kube-oidc-gateway's variables (D.1) → option keys, as the schema declares them (the listen pair aside). */
const ENV_KEYS: readonly (readonly [env: string, key: string])[] = Object.entries(gateway)
  .filter(([key]) => key !== 'listenAddr' && key !== 'listenPort')
  .map(([key, f]) => [f.env, key] as const);

/**
 * A raw `forwarders:` block from kube-oidc-gateway's environment variables: `mode: metadata`,
 * `listen` from `LISTEN_ADDR` (default `0.0.0.0`) and `LISTEN_PORT` (default `8080`), and an option
 * for each of its other variables that is set (values stay strings; `parse` validates them).
 * `PRETTY_PRINT_JSON` takes Go's boolean spellings (`1`, `t`, `TRUE` …).
 */
export function metadataOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const addr = env[gateway.listenAddr.env] || defaultOf(gateway.listenAddr);
  const port = env[gateway.listenPort.env] || String(defaultOf(gateway.listenPort));
  const block: Record<string, unknown> = { mode: 'metadata', listen: `${addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr}:${port}` };
  for (const [name, key] of ENV_KEYS) {
    const v = env[name];
    if (v === undefined) continue;
    block[key] = key === 'prettyPrint' ? goBool(v) : v;
  }
  return block;
}

/** Go's `strconv.ParseBool` spellings → `true`/`false`; anything else unchanged (and refused by `parse`). */
function goBool(v: string): string {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return 'true';
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return 'false';
  return v;
}
