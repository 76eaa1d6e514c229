/**
 * Where a browser may be sent after login or logout. oidc-authservice echoed the remembered path
 * into `Location` unchecked (a `//evil.example/…` request could become a protocol-relative
 * redirect) and never validated `next`. Here every target is parsed the way a browser parses it
 * (WHATWG URL: IDN hosts punycoded, `\` read as `/`, dot segments resolved) and accepted only when
 * it lands on the request's own origin or on an allowed host; the accepted URL is re-serialized
 * from that parse, so the browser goes exactly where we checked. Anything else is refused and the
 * caller falls back to its default page.
 */
import type { JudgeRequest } from '../judge/request.js';
import { hostAllowed } from '../net/allowed-hosts.js';

/** Targets longer than this are refused outright. */
export const MAX_REDIRECT_LENGTH = 4096;

export interface RedirectPolicy {
  /**
   * Hosts besides the request's own that redirects may go to: exact `host[:port]` (without a port:
   * the scheme's default port), or `*.example.com[:port]` for subdomains only (not the apex).
   * Entries that are not valid hosts never match (see net/allowed-hosts.ts `allowedHostError`).
   */
  readonly allowedHosts: readonly string[];
}

/** The URL the user asked for: `scheme://host` + raw target; the target alone when there is no host or it is not origin-form. */
export function originalUrl(req: JudgeRequest): string {
  if (req.host === '' || !req.path.startsWith('/')) return req.path;
  return `${req.scheme}://${req.host}${req.path}`;
}

/**
 * The absolute URL to redirect to, or `undefined` when `target` is unsafe. Accepted: a path
 * starting with one `/` (resolved against `requestOrigin`), or an absolute http(s) URL on the
 * request's origin or on an allowed host (https, or http only when the request itself is http).
 * Never throws.
 */
export function safeRedirect(target: string, requestOrigin: string, policy: RedirectPolicy): string | undefined {
  try {
    return check(target, requestOrigin, policy);
  } catch {
    return undefined;
  }
}

/**
 * oidc-authservice's `AFTER_LOGIN_URL?next=<original>`: sets `next` (URL-encoded) on
 * `afterLoginUrl`, keeping its other query parameters byte for byte and its fragment.
 * An empty `afterLoginUrl` means "go back to `original`".
 */
export function afterLoginTarget(afterLoginUrl: string, original: string): string {
  if (afterLoginUrl === '') return original;
  const hash = afterLoginUrl.indexOf('#');
  const fragment = hash >= 0 ? afterLoginUrl.slice(hash) : '';
  const beforeHash = hash >= 0 ? afterLoginUrl.slice(0, hash) : afterLoginUrl;
  const q = beforeHash.indexOf('?');
  const base = q >= 0 ? beforeHash.slice(0, q) : beforeHash;
  const params =
    q >= 0
      ? beforeHash
          .slice(q + 1)
          .split('&')
          .filter((p) => p !== '' && paramName(p) !== 'next')
      : [];
  params.push('next=' + encodeComponent(original));
  return `${base}?${params.join('&')}${fragment}`;
}

/** The validated URL a login started by `req` should return to, else `fallback`. */
export function returnToFromRequest(req: JudgeRequest, policy: RedirectPolicy, fallback: string): string {
  const scheme = req.scheme.toLowerCase();
  if ((scheme !== 'http' && scheme !== 'https') || !HOST_HEADER.test(req.host) || !req.path.startsWith('/')) return fallback;
  return plainReturnTo(scheme, req.host, req.path) ?? safeRedirect(originalUrl(req), `${scheme}://${req.host}`, policy) ?? fallback;
}

/** A lower-case DNS name whose last label starts with a letter (no IPv4 reading), no punycode, an optional port. */
const PLAIN_HOST = /^(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*(?::([1-9][0-9]{0,4}))?$/;
/** A path (one leading `/`) and query of characters the URL parser keeps as they are: no `%`, `\`, quotes, spaces or controls. */
const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/;

/**
 * The return URL of a login start without parsing, when the request's own URL is already in the
 * form the parser would give it (a plain host and a plain path without dot segments): then it is
 * on the request's origin and its path is safe, so `safeRedirect` would answer exactly
 * `scheme://host/path?query`. `undefined` means "ask `safeRedirect`". A login start is on the path
 * of every stranger's navigation; the parse and checks cost as much as the rest of it.
 */
export function plainReturnTo(scheme: string, host: string, target: string): string | undefined {
  if (target.length > MAX_REDIRECT_LENGTH || !PLAIN_TARGET.test(target)) return undefined;
  const q = target.indexOf('?');
  if ((q < 0 ? target : target.slice(0, q)).includes('/.')) return undefined;
  const m = PLAIN_HOST.exec(host);
  if (m === null || host.includes('xn--')) return undefined;
  const port = m[1];
  if (port !== undefined && (Number(port) > 65535 || port === (scheme === 'https' ? '443' : '80'))) return undefined;
  return `${scheme}://${host}${target}`;
}

// ── checking ──────────────────────────────────────────────────────────────────────────────

/** A Host header we build an origin from: reg-name / IP-literal characters and a port, nothing that ends or escapes the authority. */
const HOST_HEADER = /^[A-Za-z0-9._\-:[\]]+$/;
/** The only absolute form accepted: `http://` or `https://`, any case (never `https:host`, `https:/host`, `https:\\host`). */
const ABSOLUTE = /^https?:\/\//i;

function check(target: string, requestOrigin: string, policy: RedirectPolicy): string | undefined {
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_REDIRECT_LENGTH) return undefined;
  if (hasControl(target)) return undefined;
  const base = parseOrigin(requestOrigin);
  if (base === undefined) return undefined;

  const headEnd = firstOf(target, '?', '#');
  const head = target.slice(0, headEnd);
  if (head.includes('\\')) return undefined; // browsers read `\` as `/`: `/\evil.com`, `https:\\evil.com`

  let url: URL;
  if (target.charCodeAt(0) === 0x2f /* / */) {
    if (target.charCodeAt(1) === 0x2f) return undefined; // protocol-relative
    url = new URL(target, base.origin);
  } else if (ABSOLUTE.test(target)) {
    const rest = head.slice(head.indexOf('//') + 2);
    const slash = rest.indexOf('/');
    const authority = slash >= 0 ? rest.slice(0, slash) : rest;
    // userinfo, percent-encoded or blank authorities are refused before the parser sees them
    if (authority === '' || /[@%\s]/.test(authority)) return undefined;
    url = new URL(target);
  } else {
    return undefined; // other schemes, relative references, leading spaces …
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  if (url.origin !== base.origin) {
    if (url.protocol === 'http:' && base.protocol !== 'http:') return undefined;
    if (!hostAllowed(url, policy.allowedHosts)) return undefined;
  }
  if (!pathIsSafe(url.pathname)) return undefined;
  const result = url.href;
  return hasControl(result) ? undefined : result;
}

function parseOrigin(requestOrigin: string): { origin: string; protocol: string } | undefined {
  if (typeof requestOrigin !== 'string' || !ABSOLUTE.test(requestOrigin) || hasControl(requestOrigin)) return undefined;
  const u = new URL(requestOrigin);
  if (u.username !== '' || u.password !== '' || u.hostname === '') return undefined;
  return { origin: u.origin, protocol: u.protocol };
}

/** C0 controls (CR, LF, TAB, NUL …), DEL and C1 controls. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function firstOf(s: string, a: string, b: string): number {
  const i = s.indexOf(a);
  const j = s.indexOf(b);
  if (i < 0) return j < 0 ? s.length : j;
  return j < 0 ? i : Math.min(i, j);
}

/**
 * The parsed path must not turn into an authority for anyone who decodes it again (an upstream
 * that redirects to its own path): after each round of percent-decoding (`%2f`, `%252f` …) and
 * with leading `.`/`..` segments dropped, it must not start with `//`, `/\` or `\`, nor hold
 * control characters (`%0d%0a`, `%00`, `%09`).
 */
function pathIsSafe(pathname: string): boolean {
  let p = pathname;
  for (let round = 0; round < 4; round++) {
    if (hasControl(p)) return false;
    const stripped = p.replace(/^(?:[/\\]\.{1,2}(?=[/\\]))+/, '');
    if (/^(?:[/\\]{2}|\\)/.test(stripped)) return false;
    const next = p.replace(/%([0-7][0-9a-f])/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (next === p) return true;
    p = next;
  }
  return false; // still decoding after four rounds: nobody legitimate encodes that deep
}

// ── query helpers ─────────────────────────────────────────────────────────────────────────

function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = (eq >= 0 ? pair.slice(0, eq) : pair).replaceAll('+', ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `encodeURIComponent` that does not throw on lone surrogates (they become U+FFFD). */
function encodeComponent(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
  }
}
