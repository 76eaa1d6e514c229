/**
 * Header hygiene for the forwarder, as pure functions over Node's `rawHeaders` lists (`[name,
 * value, …]`, names as sent, values as Latin-1 strings): which headers are hop-by-hop (RFC 9110
 * §7.6.1, plus the non-standard ones proxies also drop), the names a `Connection` header lists,
 * `Cookie` without named cookies, the protocols an `Upgrade` asks for — and, built from those, the
 * header lists the upstream and the client get for one exchange. Every forwarder applies the one
 * strip list of the judge (src/judge/strip.ts) here, whatever its mode.
 */
import { compileStrip, judgeCookies } from '../../judge/strip.js';

/** Hop-by-hop headers: meaningful for one connection only, never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A header as `[name, value]`, name as sent. */
export type RawPair = [name: string, value: string];

/** The lower-case header names listed in every `Connection` header of a raw list (`Connection: close, X-Foo`). */
export function connectionListed(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') out.add(t);
    }
  }
  return out;
}

/**
 * The end-to-end headers of a raw list: without hop-by-hop headers, without every header a
 * `Connection` header names, and without those `drop` says to drop (it gets lower-case names).
 * Names in `keep` survive the hop-by-hop rules (an upgrade keeps `Connection` and `Upgrade`).
 */
export function endToEnd(raw: readonly string[], drop: (lowerName: string) => boolean, keep: ReadonlySet<string> = NONE): RawPair[] {
  const listed = connectionListed(raw);
  const out: RawPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (drop(lower)) continue;
    if (!keep.has(lower) && (HOP_BY_HOP.has(lower) || listed.has(lower))) continue;
    out.push([name, raw[i + 1]!]);
  }
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The `Cookie` header values with the named cookies removed (names compare exactly, as cookie
 * names are case-sensitive), and those whose name starts with one of `prefixes`, joined with
 * `; `; undefined when no cookie is left.
 */
export function withoutCookies(values: readonly string[], names: ReadonlySet<string>, prefixes: readonly string[] = []): string | undefined {
  const kept: string[] = [];
  for (const value of values) {
    for (const part of value.split(';')) {
      const pair = part.trim();
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
      if (!names.has(name) && !prefixes.some((p) => name.startsWith(p))) kept.push(pair);
    }
  }
  return kept.length === 0 ? undefined : kept.join('; ');
}

/** The lower-case protocol names an `Upgrade` header asks for (`websocket`, `spdy/3.1` → `spdy`), in order. */
export function upgradeProtocols(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '') continue;
    const slash = t.indexOf('/');
    out.push(slash < 0 ? t : t.slice(0, slash));
  }
  return out;
}

/** The values of every header named `lowerName` in a raw list, in order. */
export function rawValues(raw: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) out.push(raw[i + 1]!);
  return out;
}

/** What the caller decided about one exchange's headers (the judge's allow, an egress token, …). */
export interface HeaderEdits {
  /** Request headers to set (overwrite), lower-case names; values may be Unicode (sent as UTF-8). */
  readonly set: readonly (readonly [string, string])[];
  /** Request headers to remove, lower-case names. */
  readonly remove: readonly string[];
  /** Cookies removed from `Cookie` (the session and login-binding cookies); the header goes when none is left. */
  readonly stripCookies: readonly string[];
  /** Cookies removed from `Cookie` by name prefix too (the per-attempt login-binding cookies `oidc_state_csrf_*`). */
  readonly stripCookiePrefixes?: readonly string[];
  /** Headers added to the response the client gets. */
  readonly responseHeaders: readonly (readonly [string, string])[];
  /** Correlation id, sent upstream as `x-request-id`. */
  readonly requestId: string;
  readonly client: ClientFacts;
  /**
   * Told the status of the response head the client gets: the upstream's (101 for an accepted
   * upgrade) or the engine's own answer (413, 502, 503). For audit logs; must not throw.
   */
  readonly onResponseHead?: (status: number) => void;
}

/** Facts about the client side, for `X-Forwarded-*`. */
export interface ClientFacts {
  /** The peer address of the connection (`socket.remoteAddress`). */
  readonly peer: string;
  /** Whether the peer is a trusted proxy whose `X-Forwarded-*` headers are believed. */
  readonly trusted: boolean;
  /** `http` or `https` as the client used it. */
  readonly proto: string;
  /** The `Host` the client sent. */
  readonly host: string;
}

/**
 * Headers a client could forge about where a request came from, or which URL it is for (the IIS /
 * Symfony / Zend rewrite headers an upstream may route by instead of the path we judged); only
 * trusted proxies may send them.
 */
function forwardingFact(lower: string): boolean {
  return lower.startsWith('x-forwarded-') || lower === 'forwarded' || lower === 'x-real-ip' || lower.startsWith('x-original-') || lower === 'x-rewrite-url';
}

/** The built-in strip list (the ingress's allows add `STRIP_HEADERS` and the prefixed names they saw). */
const STRIP = compileStrip();

/** The judge's cookies under their default names: the forwarder modes keep them from their upstreams too. */
export const FORWARDER_COOKIES = judgeCookies('authservice_session');

/** `::ffff:10.0.0.1` → `10.0.0.1`; anything else as is. */
function peerText(peer: string): string {
  return peer.startsWith('::ffff:') && peer.includes('.') ? peer.slice(7) : peer;
}

/** Framing and routing headers the engine always writes itself, whatever the request or a Connection header says. */
const OWNED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'cookie',
  'expect',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

export interface RequestHeadInput {
  /** `req.rawHeaders`. */
  readonly raw: readonly string[];
  readonly edits: HeaderEdits;
  /** The `Host` to send upstream. */
  readonly host: string;
  /** The request's body framing as Node parsed it. */
  readonly body: { readonly contentLength: string | undefined; readonly chunked: boolean };
  /** The client's `Upgrade` value when tunnelling an upgrade. */
  readonly upgrade?: string;
  /** `wireValue` from the HTTP front door: Unicode values as their UTF-8 bytes. */
  readonly wire: (v: string) => string;
}

/**
 * The header list (flat, for `http.request`) the upstream gets: end-to-end headers minus the ones
 * the edits remove or set, minus forgeable forwarding facts from untrusted peers; then `Host`, the
 * cookies left, body framing re-stated from what Node parsed (never a `Transfer-Encoding` we did not
 * parse), the upgrade pair, the edits' headers, `X-Forwarded-For/Proto/Host` and `X-Request-Id`.
 */
export function upstreamRequestHeaders(input: RequestHeadInput): string[] {
  const { raw, edits, wire } = input;
  const { client } = edits;
  const removed = new Set<string>(OWNED);
  for (const n of edits.remove) removed.add(n.toLowerCase());
  for (const [n] of edits.set) removed.add(n.toLowerCase());
  const drop = client.trusted ? (n: string) => removed.has(n) || STRIP.stripped(n) : (n: string) => removed.has(n) || STRIP.stripped(n) || forwardingFact(n);
  const out: string[] = ['host', input.host];
  for (const [n, v] of endToEnd(raw, drop)) out.push(n, v);
  // A `Cookie` the edits set (the judge's allow, rewritten) replaces the client's.
  const cookies = edits.set.some(([n]) => n === 'cookie') ? [] : rawValues(raw, 'cookie');
  if (cookies.length > 0) {
    const prefixes = edits.stripCookiePrefixes ?? [];
    const left = edits.stripCookies.length === 0 && prefixes.length === 0 ? cookies.join('; ') : withoutCookies(cookies, new Set(edits.stripCookies), prefixes);
    if (left !== undefined) out.push('cookie', left);
  }
  if (input.body.chunked) out.push('transfer-encoding', 'chunked');
  else if (input.body.contentLength !== undefined) out.push('content-length', input.body.contentLength);
  if (input.upgrade !== undefined) out.push('connection', 'upgrade', 'upgrade', input.upgrade);
  for (const [n, v] of edits.set) out.push(n, wire(v));
  const prior = client.trusted ? rawValues(raw, 'x-forwarded-for').join(', ') : '';
  out.push('x-forwarded-for', prior === '' ? peerText(client.peer) : `${prior}, ${peerText(client.peer)}`);
  out.push('x-forwarded-proto', client.proto);
  const fwdHost = client.trusted ? rawValues(raw, 'x-forwarded-host')[0] : undefined;
  out.push('x-forwarded-host', fwdHost ?? client.host);
  out.push('x-request-id', edits.requestId);
  return out;
}

/**
 * The header list the client gets from an upstream response: end-to-end headers (a 101 keeps
 * `Connection` and `Upgrade`), `Content-Length` kept whatever a `Connection` header lists, then
 * the edits' response headers.
 */
export function clientResponseHeaders(raw: readonly string[], edits: HeaderEdits, wire: (v: string) => string, upgraded = false): string[] {
  const out: string[] = [];
  for (const [n, v] of endToEnd(raw, (n) => n === 'content-length', upgraded ? UPGRADE_PAIR : NONE)) out.push(n, v);
  const length = rawValues(raw, 'content-length')[0];
  if (length !== undefined && !upgraded) out.push('content-length', length);
  for (const [n, v] of edits.responseHeaders) out.push(n, wire(v));
  return out;
}

const UPGRADE_PAIR: ReadonlySet<string> = new Set(['connection', 'upgrade']);
