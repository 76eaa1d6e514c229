/**
 * IP addresses and CIDR ranges, for TRUSTED_PROXIES. Every address is kept as 16 bytes: an IPv4
 * address `a.b.c.d` is its IPv4-mapped IPv6 form `::ffff:a.b.c.d`, and an IPv4 range `a.b.c.d/n` is
 * `::ffff:a.b.c.d/(96+n)`. So `127.0.0.1/8` trusts a peer Node reports as `::ffff:127.0.0.1` (a
 * dual-stack listener), `0.0.0.0/0` covers every IPv4 address but no native IPv6 one, and `::/0`
 * covers everything.
 */

/** 16 bytes, network order. */
export type IpBytes = Uint8Array;

export interface Cidr {
  /** The range's first address (host bits cleared). */
  readonly network: IpBytes;
  /** Prefix length in the 128-bit space (IPv4 `/8` is 104). */
  readonly bits: number;
  /** The text it was parsed from, for messages. */
  readonly text: string;
}

const DEC_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4Into(text: string, out: IpBytes, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // No leading zeros: `010` is octal to some parsers and decimal to others.
    if (!DEC_OCTET.test(p)) return false;
    out[at + i] = Number(p);
  }
  return true;
}

function parseV6(text: string): IpBytes | undefined {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  // Convert both sides to 16-bit words; a trailing dotted quad counts as two words.
  const words = (groups: string[], allowV4Last: boolean): number[] | undefined => {
    const ws: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Last && i === groups.length - 1 && g.includes('.')) {
        const four = new Uint8Array(4);
        if (!parseV4Into(g, four, 0)) return undefined;
        ws.push((four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!);
      } else if (HEX_GROUP.test(g)) ws.push(parseInt(g, 16));
      else return undefined;
    }
    return ws;
  };
  const hw = words(head, halves.length === 1);
  const tw = words(tail, true);
  if (hw === undefined || tw === undefined) return undefined;
  if (halves.length === 1 ? hw.length !== 8 : hw.length + tw.length > 7) return undefined;
  const all = [...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw];
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * Parses `a.b.c.d` or an IPv6 address (compressed, with an embedded dotted quad, with a `%zone`
 * which is ignored, or in brackets) into 16 bytes. Returns undefined for anything else.
 */
export function parseIp(text: string): IpBytes | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes(':')) {
    const zone = s.indexOf('%');
    if (zone > 0) s = s.slice(0, zone);
    return parseV6(s);
  }
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  return parseV4Into(s, out, 12) ? out : undefined;
}

/** True when the 16 bytes are an IPv4(-mapped) address. */
export function isV4(addr: IpBytes): boolean {
  for (let i = 0; i < 10; i++) if (addr[i] !== 0) return false;
  return addr[10] === 0xff && addr[11] === 0xff;
}

/** The canonical text of an address: dotted quad for IPv4(-mapped), else lower-case hex groups (not compressed). */
export function formatIp(addr: IpBytes): string {
  if (isV4(addr)) return `${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((addr[i]! << 8) | addr[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * Parses an address (a single-host range) or `address/prefix`. An IPv4 prefix is 0–32, an IPv6
 * one 0–128; host bits are cleared. Returns undefined when the text is not a range.
 */
export function parseCidr(text: string): Cidr | undefined {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const addr = parseIp(addrText);
  if (addr === undefined) return undefined;
  const v4Text = !addrText.includes(':');
  let bits = 128;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^(?:0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > (v4Text ? 32 : 128)) return undefined;
    bits = v4Text ? 96 + n : n;
  }
  const network = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    network[i] = addr[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return { network, bits, text: s };
}

/** Whether `addr` lies in `range`. */
export function cidrContains(range: Cidr, addr: IpBytes): boolean {
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== range.network[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === range.network[full];
}

/** The list of entries that are not valid addresses or ranges (empty when all are fine). */
export function invalidCidrs(ranges: readonly string[]): string[] {
  return ranges.filter((r) => parseCidr(r) === undefined);
}

export interface TrustMatcher {
  /** Whether the peer address (as `socket.remoteAddress` reports it) is in one of the ranges. */
  trusts(addr: string | undefined): boolean;
  /** The ranges as configured, for messages. */
  readonly ranges: readonly string[];
}

/** How many peer addresses the matcher remembers; proxies are few, so this is never reached in practice. */
const CACHE_LIMIT = 1024;

/**
 * Compiles TRUSTED_PROXIES once. Throws naming every invalid entry. Answers are cached per peer
 * address text (bounded), since the same few proxies ask over and over.
 */
export function trustMatcher(ranges: readonly string[]): TrustMatcher {
  const bad = invalidCidrs(ranges);
  if (bad.length > 0) throw new Error(`not an IP address or CIDR range: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  const compiled = ranges.map((r) => parseCidr(r)!);
  const cache = new Map<string, boolean>();
  return {
    ranges: Object.freeze([...ranges]),
    trusts(addr: string | undefined): boolean {
      if (addr === undefined || addr === '' || compiled.length === 0) return false;
      const hit = cache.get(addr);
      if (hit !== undefined) return hit;
      const bytes = parseIp(addr);
      const ok = bytes !== undefined && compiled.some((c) => cidrContains(c, bytes));
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(addr, ok);
      return ok;
    },
  };
}
