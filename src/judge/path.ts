/**
 * Request-target normalization: the one reading of a path that skip rules and route rules match.
 *
 * `normalizePath` keeps only the path (never the query or fragment), percent-decodes it once,
 * turns `\` into `/`, strips `;params` from every segment, collapses repeated slashes and resolves
 * `.` and `..` (never above the root), keeping a trailing slash. Alongside, it says whether the raw
 * path was `ambiguous`: whether an upstream could read it differently than we do. Skip rules never
 * match an ambiguous path (fail closed); access rules judge every reading of it (`pathReadings`):
 * the resolved one, the raw path as a prefix router (Express) matches it, and the decoded path
 * with its dot segments kept as a router that decodes but does not resolve reads it.
 *
 * Ambiguous: encoded `/` `\` `.` `;` `%` (`%2f` `%5c` `%2e` `%3b` `%25`, any case), an invalid
 * escape or invalid UTF-8, NUL and other control characters (raw or encoded), `\`, `;`, a fragment,
 * a `.` or `..` segment (Express-style prefix routers do not resolve them: `/admin/../public` is
 * an `/admin` request there), a leading `//` (some servers read `//host/p` as an authority), and a
 * target that does not start with `/` (absolute-form `http://h/p`, `*`, relative).
 */
export interface NormalizedPath {
  readonly path: string;
  readonly ambiguous: boolean;
  /** True when `path` is known to hold no upper-case or non-ASCII character (false: not known). */
  readonly lowerCase: boolean;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const lenientUtf8 = new TextDecoder('utf-8');

/** Set in `scanPlain`'s answer when the path holds an upper-case or non-ASCII letter. */
const CASED = 0x40000000;

/**
 * Fast path: the end of the path (index of `?`, or the length) when `target` is an origin-form
 * path already normal and unambiguous, so it can be used as is, with `CASED` added when it holds
 * an upper-case or non-ASCII character (access rules then compare a lower-cased copy); -1 otherwise.
 */
function scanPlain(target: string): number {
  if (target.charCodeAt(0) !== SLASH) return -1;
  let cased = 0;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f /* ? */) return i | cased;
    if (c === 0x25 /* % */ || c === 0x5c /* \ */ || c === 0x3b /* ; */ || c === 0x23 /* # */ || c < 0x20 || c === 0x7f) return -1;
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) cased = CASED;
    if (c !== SLASH) continue;
    const n = target.charCodeAt(i + 1); // NaN past the end
    if (n === SLASH) return -1;
    if (n !== DOT) continue;
    const n2 = target.charCodeAt(i + 2);
    if (Number.isNaN(n2) || n2 === SLASH || n2 === 0x3f) return -1;
    if (n2 !== DOT) continue;
    const n3 = target.charCodeAt(i + 3);
    if (Number.isNaN(n3) || n3 === SLASH || n3 === 0x3f) return -1;
  }
  return target.length | cased;
}

function plainEnd(target: string): number {
  const e = scanPlain(target);
  return e < 0 ? -1 : e & ~CASED;
}

/** The path part of any request target (origin-form, absolute-form, other), without query or fragment. */
function pathPart(target: string): { raw: string; odd: boolean } {
  let end = target.length;
  let fragment = false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) {
      end = i;
      fragment = c === 0x23;
      break;
    }
  }
  const raw = end === target.length ? target : target.slice(0, end);
  if (raw.charCodeAt(0) === SLASH) return { raw, odd: fragment };
  // absolute-form: scheme "://" authority path
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(raw);
  if (m) return { raw: raw.length === m[0].length ? '/' : raw.slice(m[0].length), odd: true };
  return { raw: '/' + raw, odd: true };
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Bytes whose encoded form changes how the path splits or reads: `%` `.` `/` `;` `\`. */
function isStructural(b: number): boolean {
  return b === 0x25 || b === DOT || b === SLASH || b === 0x3b || b === 0x5c;
}

/** Percent-decodes once. Sets `state.ambiguous` for structural or control bytes, bad escapes and bad UTF-8. */
function decodeOnce(p: string, state: { ambiguous: boolean }): string {
  let out = '';
  let literal = 0; // start of the pending run of literal characters
  let i = 0;
  while (i < p.length) {
    if (p.charCodeAt(i) !== 0x25) {
      i++;
      continue;
    }
    const runStart = i;
    while (i < p.length && p.charCodeAt(i) === 0x25) {
      const h = hexVal(p.charCodeAt(i + 1));
      const l = hexVal(p.charCodeAt(i + 2));
      if (h < 0 || l < 0) break;
      const b = (h << 4) | l;
      if (isStructural(b) || b < 0x20 || b === 0x7f) state.ambiguous = true;
      i += 3;
    }
    if (i === runStart) {
      state.ambiguous = true; // `%zz`, `%4`, a lone `%`: kept literally
      i++;
      continue;
    }
    out += p.slice(literal, runStart) + decodeRun(p.slice(runStart, i), state);
    literal = i;
  }
  return out + p.slice(literal);
}

/** A run of valid `%XX` escapes as UTF-8; invalid UTF-8 is ambiguous and decoded with replacement characters. */
function decodeRun(run: string, state: { ambiguous: boolean }): string {
  try {
    return decodeURIComponent(run);
  } catch {
    state.ambiguous = true;
    const bytes = new Uint8Array(run.length / 3);
    for (let k = 0; k < bytes.length; k++) bytes[k] = (hexVal(run.charCodeAt(3 * k + 1)) << 4) | hexVal(run.charCodeAt(3 * k + 2));
    return lenientUtf8.decode(bytes);
  }
}

/** Slow path: decode, then resolve segment by segment. */
function resolve(raw: string, odd: boolean): NormalizedPath {
  const state = { ambiguous: odd };
  let p = raw.indexOf('%') >= 0 ? decodeOnce(raw, state) : raw;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c || c === 0x3b) {
      state.ambiguous = true;
      break;
    }
  }
  if (plainEnd(p) === p.length) return { path: p, ambiguous: state.ambiguous, lowerCase: false };
  if (p.indexOf('\\') >= 0) p = p.replaceAll('\\', '/');
  if (p.startsWith('//')) state.ambiguous = true;
  const out: string[] = [];
  const segments = p.split('/');
  let trailing = false;
  // segments[0] is the empty string before the leading slash
  for (let i = 1; i < segments.length; i++) {
    let seg = segments[i]!;
    const semi = seg.indexOf(';');
    if (semi >= 0) seg = seg.slice(0, semi);
    trailing = true;
    if (seg === '') continue;
    if (seg === '.') {
      state.ambiguous = true;
      continue;
    }
    if (seg === '..') {
      state.ambiguous = true;
      out.pop();
      continue;
    }
    out.push(seg);
    trailing = false;
  }
  if (out.length === 0) return { path: '/', ambiguous: state.ambiguous, lowerCase: true };
  return { path: '/' + out.join('/') + (trailing ? '/' : ''), ambiguous: state.ambiguous, lowerCase: false };
}

/**
 * Normalizes a request target (`/p?q`, or absolute-form `http://host/p?q`) to the path skip and
 * route rules match, and says whether an upstream might read the raw path differently.
 */
export function normalizePath(rawTarget: string): NormalizedPath {
  const e = scanPlain(rawTarget);
  if (e >= 0) {
    const end = e & ~CASED;
    return { path: end === rawTarget.length ? rawTarget : rawTarget.slice(0, end), ambiguous: false, lowerCase: (e & CASED) === 0 };
  }
  const { raw, odd } = pathPart(rawTarget);
  return resolve(raw, odd);
}

/**
 * The readings of an ambiguous target other than its normalized path, in the form rules compare
 * (distinct, none equal to `normalized`); the shared empty list when there are none. An upstream
 * that forwards or routes the raw path may read it as:
 *   * raw: the path part as sent, undecoded, nothing resolved — a prefix router (Express, Go
 *     `strings.HasPrefix`) sees `/admin/../x`, `/admin/..;/x` under `/admin`;
 *   * decoded, dot segments kept: decoded once, `\` as `/`, `;params` stripped, repeated slashes
 *     merged, `.`/`..` kept as segments — a router that decodes but never resolves (`/%61dmin/../x`
 *     is under `/admin` there).
 * Unambiguous targets have one reading, the normalized path, and never come here.
 */
export function otherReadings(rawTarget: string, normalized: string): readonly string[] {
  const { raw } = pathPart(rawTarget);
  const decoded = unresolved(raw);
  if (raw === normalized) return decoded === normalized ? NO_READINGS : [decoded];
  if (decoded === normalized || decoded === raw) return [raw];
  return [raw, decoded];
}

export const NO_READINGS: readonly string[] = Object.freeze([]);

/** Decoded once, `\` → `/`, `;params` stripped, empty segments dropped, dot segments KEPT. */
function unresolved(raw: string): string {
  let p = raw.indexOf('%') >= 0 ? decodeOnce(raw, { ambiguous: true }) : raw;
  if (p.indexOf('\\') >= 0) p = p.replaceAll('\\', '/');
  const out: string[] = [];
  let trailing = false;
  for (const part of p.split('/')) {
    const semi = part.indexOf(';');
    const seg = semi >= 0 ? part.slice(0, semi) : part;
    trailing = seg === '';
    if (!trailing) out.push(seg);
  }
  if (out.length === 0) return '/';
  return '/' + out.join('/') + (trailing ? '/' : '');
}

/** Lower-case host without port: `App.Example.com:8443` → `app.example.com`, `[::1]:80` → `[::1]`; a trailing dot is dropped. */
export function hostnameOf(host: string): string {
  let h = host;
  if (h.charCodeAt(0) === 0x5b /* [ */) {
    const close = h.indexOf(']');
    if (close > 0) h = h.slice(0, close + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0 && colon === h.lastIndexOf(':')) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}
