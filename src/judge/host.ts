/**
 * The host a request is for, as the upstream's server reads it, so that rules scoped to a host hold
 * for every `Host` / `:authority` spelling a server maps to that name.
 *
 * Plain hosts (letters, digits, `-`, `_`, `.`, an optional `:port`) take the fast path: lower-cased,
 * port and one trailing dot dropped. Anything else is read as a WHATWG URL parser reads it (what
 * `new URL(req.url, 'http://' + host)` in an app gives): `user@` dropped, percent-escapes decoded,
 * IDN mapped to punycode, IPv4 numbers and IPv6 addresses in canonical form. A host that parser
 * cannot read — or that holds a comma (several values), whitespace or control characters, or more
 * than an authority — is unreadable: the judge refuses the request (400).
 *
 * When the URL reading differs from the literal one (`user@host`, `%61pp.example.com`,
 * `bücher.example`), the host is ambiguous: skip rules never match it, and access rules judge
 * both readings (the literal one can only fit rules for any host).
 */
import { hostnameOf } from './path.js';

export interface HostReading {
  /** The canonical name: lower-case, no port, no trailing dot, punycode. */
  readonly hostname: string;
  /** The literal reading (`hostnameOf`) when it differs from `hostname`, else undefined. */
  readonly literal: string | undefined;
}

/**
 * Letters, digits, `-`, `.`, `_`, then an optional `:port` (at most 65535). A name whose last label
 * starts with a digit is plain only as a canonical dotted quad: a URL parser reads `2130706433`,
 * `0x7f.1` or `127.000.0.1` as IPv4 numbers.
 */
function isPlain(host: string): boolean {
  let i = 0;
  let label = 0; // start of the last label
  for (; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const l = c | 0x20;
    if ((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) continue;
    if (c === 0x2e) {
      if (i + 1 < host.length && host.charCodeAt(i + 1) !== 0x3a) label = i + 1;
      continue;
    }
    break;
  }
  const first = host.charCodeAt(label);
  if (first >= 0x30 && first <= 0x39 && !DOTTED_QUAD.test(host.slice(0, i))) return false;
  if (i === host.length) return true;
  if (host.charCodeAt(i) !== 0x3a /* : */ || i === host.length - 1 || host.length - i > 6) return false;
  let port = 0;
  for (let k = i + 1; k < host.length; k++) {
    const d = host.charCodeAt(k);
    if (d < 0x30 || d > 0x39) return false;
    port = port * 10 + d - 0x30;
  }
  return port <= 65535;
}

const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.?$/;

/** Characters no server reads as part of one host: controls, whitespace, DEL, `,` (several values). */
function hasForbidden(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x2c) return true;
  }
  return false;
}

function dropDot(h: string): string {
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** The hostname of a plain host (the common case, read without allocating a reading), else undefined. */
export function plainHostname(host: string): string | undefined {
  return host === '' || isPlain(host) ? hostnameOf(host) : undefined;
}

/** The host of a `Host` / `:authority` value, or undefined when no server could read it as one host. An empty host reads as ''. */
export function readHost(host: string): HostReading | undefined {
  const plain = plainHostname(host);
  if (plain !== undefined) return { hostname: plain, literal: undefined };
  if (hasForbidden(host)) return undefined;
  let u: URL;
  try {
    u = new URL(`http://${host}/`);
  } catch {
    return undefined;
  }
  if (u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.hostname === '') return undefined;
  const hostname = dropDot(u.hostname);
  const literal = hostnameOf(host);
  return { hostname, literal: literal === hostname ? undefined : literal };
}

/** A configured host (a rule's `host`, without `*.`) in the form request hosts are compared in. */
export function configHost(host: string): string {
  return readHost(host)?.hostname ?? hostnameOf(host);
}

/**
 * The authority of an absolute-form target (`http://host:port/p`), read like a Host; undefined for
 * origin-form targets. A server must use it instead of `Host` (RFC 9112 §3.2.2).
 */
export function targetAuthority(target: string): string | undefined {
  if (target.charCodeAt(0) === 0x2f) return undefined;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  return m ? m[1] : undefined;
}
