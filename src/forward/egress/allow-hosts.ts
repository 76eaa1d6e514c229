/**
 * The egress forward proxy's destination allow-list (`allowHosts:`). Without one the proxy reaches
 * whatever the pod reaches (cloud metadata, the cluster's services) and adds a token on the way;
 * with one, an absolute-URI request or a CONNECT to any other host is refused with 403 before a
 * token is minted or a byte is sent. Entries: an exact host (`api.example.com`, `10.0.0.7`,
 * `[::1]`), `*.example.com` (any subdomain, not `example.com` itself), each optionally with a
 * `:port` (without one, any port). Hosts are compared as the URL parser reads them (lower case,
 * no trailing dot, IPv4 in dotted form), so `0x7f.1` is `127.0.0.1`.
 */
import type { OptionReader } from '../../config/block.js';
import type { Field } from '../../config/field.js';

export interface HostPattern {
  /** Lower-case hostname (IPv6 without brackets); for a wildcard, the suffix after `*.`. */
  readonly host: string;
  readonly wildcard: boolean;
  /** Absent: any port. */
  readonly port?: number;
}

export type HostAllowList = (hostname: string, port: number) => boolean;

/** `host`, `*.host`, either with `:port`; undefined when unreadable. */
export function parseHostPattern(entry: string): HostPattern | undefined {
  const s = entry.trim();
  const wildcard = s.startsWith('*.');
  const rest = wildcard ? s.slice(2) : s;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s/?#@[\]:*]+)(?::(\d{1,5}))?$/.exec(rest);
  if (m === null) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${m[1]!}/`);
  } catch {
    return undefined;
  }
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = normalHost(url.hostname);
  if (host === '' || (wildcard && m[1]!.startsWith('['))) return undefined;
  return { host, wildcard, ...(port !== undefined ? { port } : {}) };
}

/** Lower case, brackets and a trailing dot removed. */
export function normalHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

export function hostAllowList(patterns: readonly HostPattern[]): HostAllowList {
  return (hostname, port) => {
    const host = normalHost(hostname);
    return patterns.some((p) => (p.port === undefined || p.port === port) && (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host));
  };
}

/** Reads `allowHosts` (a list, as `option` declares it); reports unreadable entries; undefined when absent. */
export function readAllowHosts(r: OptionReader, option: Field<readonly string[]>): HostPattern[] | undefined {
  const key = option.env;
  const list = r.get(option);
  if (list === undefined) return undefined;
  const out: HostPattern[] = [];
  for (const [i, entry] of list.entries()) {
    const p = parseHostPattern(entry);
    if (p === undefined) r.fail(key, `entry ${i} (${JSON.stringify(entry)}) must be a host, "*.domain", or either with ":port"`);
    else out.push(p);
  }
  return out;
}
