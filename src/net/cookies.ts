/**
 * Cookies: reading the browser's `Cookie` header (RFC 6265 §4.2, tolerant: garbage is skipped,
 * never thrown on), writing `Set-Cookie` for our own cookies (strict: an invalid name, value or
 * attribute is our bug, so it throws a `TypeError`), and removing our cookies from the header
 * an upstream receives. Values are never decoded, only unquoted, and never logged.
 */

export interface CookieOptions {
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'Lax' | 'Strict' | 'None';
  domain?: string;
  path: string;
  maxAgeSeconds?: number;
}

/**
 * Every cookie of a `Cookie` header, in order. A name can repeat — a browser sends one cookie per
 * matching Path/Domain, most specific first — so each name maps to all its values. Pairs without
 * `=` or with an empty name are skipped; a value in double quotes loses the quotes.
 */
export function parseCookies(header: string | undefined): Map<string, string[]> {
  const cookies = new Map<string, string[]>();
  if (typeof header !== 'string') return cookies;
  eachPair(header, (name, value) => {
    const values = cookies.get(name);
    if (values === undefined) cookies.set(name, [value]);
    else values.push(value);
  });
  return cookies;
}

/** All values of cookie `name` in `header`, in the order the browser sent them. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  if (typeof header !== 'string' || !header.includes(name)) return values;
  eachPair(header, (n, value) => {
    if (n === name) values.push(value);
  });
  return values;
}

/** `name=value; Path=…; Max-Age=N; Expires=…; Domain=…; Secure; HttpOnly; SameSite=…` for a `Set-Cookie` header. */
export function serializeCookie(name: string, value: string, opts: CookieOptions, now: Date): string {
  checkName(name, opts);
  if (typeof value !== 'string' || !COOKIE_VALUE.test(value)) throw new TypeError(`invalid value for cookie ${name}`);
  let expiry = '';
  if (opts.maxAgeSeconds !== undefined) {
    const maxAge = opts.maxAgeSeconds;
    if (!Number.isSafeInteger(maxAge) || maxAge < 0) throw new TypeError(`invalid Max-Age for cookie ${name}: ${maxAge}`);
    expiry = `; Max-Age=${maxAge}; Expires=${imfFixdate(new Date(now.getTime() + maxAge * 1000))}`;
  }
  return `${name}=${value}; Path=${opts.path}${expiry}${attributes(opts)}`;
}

/** A `Set-Cookie` that deletes cookie `name`: empty value, `Max-Age=0`, `Expires` in 1970, the same Path and Domain it was set with. */
export function clearCookie(name: string, opts: Omit<CookieOptions, 'maxAgeSeconds'>): string {
  checkName(name, opts);
  return `${name}=; Path=${opts.path}; Max-Age=0; Expires=${EPOCH}${attributes(opts)}`;
}

/**
 * `header` without the cookies named in `names` (so an upstream never sees them), or `undefined`
 * when nothing is left. Other cookies are kept byte for byte, in order (joined by `; `); when
 * nothing is removed the header is returned unchanged.
 */
export function withoutCookies(header: string | undefined, names: readonly string[]): string | undefined {
  if (typeof header !== 'string') return undefined;
  const kept: string[] = [];
  let removed = false;
  for (const segment of header.split(';')) {
    const pair = trimOws(segment);
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    // compared after trimming any whitespace: some upstream parsers (Go's) trim more than SP/HTAB
    if (names.includes((eq >= 0 ? pair.slice(0, eq) : pair).trim())) removed = true;
    else kept.push(pair);
  }
  if (kept.length === 0) return undefined;
  return removed ? kept.join('; ') : header;
}

// ── parsing ───────────────────────────────────────────────────────────────────────────────

/** Calls `fn` for every `name=value` pair with a non-empty name, trimmed of spaces and tabs, value unquoted. O(length). */
function eachPair(header: string, fn: (name: string, value: string) => void): void {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const segment = header.slice(start, end);
    start = end + 1;
    const eq = segment.indexOf('=');
    if (eq < 0) continue;
    const name = trimOws(segment.slice(0, eq));
    if (name === '') continue;
    fn(name, unquote(trimOws(segment.slice(eq + 1))));
  }
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Trims spaces and tabs (RFC 6265 WSP) only. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isOws(s.charCodeAt(a))) a++;
  while (b > a && isOws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function unquote(v: string): string {
  return v.length >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(v.length - 1) === 0x22 ? v.slice(1, -1) : v;
}

// ── serializing ───────────────────────────────────────────────────────────────────────────

/** RFC 7230 token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 cookie-value: cookie-octets, optionally in double quotes. */
const COOKIE_VALUE = /^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$/;
/** Path attribute: starts with `/`, then printable ASCII except `;`. */
const PATH = /^\/[\x20-\x3A\x3C-\x7E]*$/;
/** Domain attribute: dot-separated labels, an optional leading dot. */
const DOMAIN = /^\.?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const SAME_SITE = new Set(['Lax', 'Strict', 'None']);
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

/** The name and the attributes every cookie of ours needs; browsers silently drop `__Host-`/`__Secure-` cookies that break their rules. */
function checkName(name: string, opts: Omit<CookieOptions, 'maxAgeSeconds'>): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  if (typeof opts.path !== 'string' || !PATH.test(opts.path)) throw new TypeError(`invalid Path for cookie ${name}`);
  if (opts.domain !== undefined && (typeof opts.domain !== 'string' || !DOMAIN.test(opts.domain))) throw new TypeError(`invalid Domain for cookie ${name}`);
  if (!SAME_SITE.has(opts.sameSite)) throw new TypeError(`invalid SameSite for cookie ${name}`);
  const lower = name.toLowerCase();
  if ((lower.startsWith('__secure-') || lower.startsWith('__host-')) && !opts.secure) throw new TypeError(`cookie ${name} must be Secure`);
  if (lower.startsWith('__host-') && (opts.path !== '/' || opts.domain !== undefined)) throw new TypeError(`cookie ${name} must have Path=/ and no Domain`);
}

/** `; Domain=…; Secure; HttpOnly; SameSite=…` */
function attributes(opts: Omit<CookieOptions, 'maxAgeSeconds'>): string {
  let s = '';
  if (opts.domain !== undefined) s += `; Domain=${opts.domain}`;
  if (opts.secure) s += '; Secure';
  if (opts.httpOnly) s += '; HttpOnly';
  return `${s}; SameSite=${opts.sameSite}`;
}

/** RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
function imfFixdate(d: Date): string {
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 1970 || year > 9999) throw new TypeError('cookie expiry out of range');
  return d.toUTCString();
}
