/**
 * The request target a reverse-proxying forwarder judges and sends upstream: one string for both,
 * so the path that was judged is the path the upstream receives (issue 14). An app's router reads
 * the raw path (Express resolves no `..` and decodes nothing before routing), so a raw
 * `/admin/../` judged as `/` would reach its `/admin` route; and a `..` would climb out of the
 * upstream's base path.
 *
 * `forwardTarget` rewrites only what has one reading everywhere (RFC 3986 §6.2.2): `.` and `..`
 * segments resolved (never above the root; `%2e` counts as `.`), empty segments merged (`//`),
 * escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) decoded. Every other byte of every kept
 * segment is sent as the client spelled it, and the query is kept as is.
 *
 * It refuses (undefined → 400) what no rewrite can make mean the same to every upstream:
 * an escaped `/` `\` `%` `;` (`%2f` `%5c` `%25` `%3b`, any case: decoded they change how the path
 * splits or decodes, kept they are read differently by servers that decode before routing), a raw
 * `\` or `;` (path separators or parameters to some servers, data to others), NUL and other
 * control characters raw or escaped (`%00`–`%1f`, `%7f`), an invalid escape (`%zz`, a lone `%`),
 * escapes that are not UTF-8, a `#`, and a target that is not origin-form (`/…`).
 *
 * For every target it accepts, `normalizePath` reads the result as unambiguous and as the same
 * path it reads the original as.
 */

const SLASH = 0x2f;
const DOT = 0x2e;

/** Whether the path (up to `?`) can be sent as is: nothing to decode, resolve, merge or refuse. */
function plainPath(target: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x5c /* \ */ || c === 0x3b /* ; */ || c === 0x23 /* # */ || c < 0x20 || c === 0x7f) return false;
    if (c !== SLASH) continue;
    const n = target.charCodeAt(i + 1);
    if (n === SLASH) return false;
    if (n !== DOT) continue;
    const n2 = i + 2 < end ? target.charCodeAt(i + 2) : SLASH;
    if (n2 === SLASH) return false;
    if (n2 !== DOT) continue;
    const n3 = i + 3 < end ? target.charCodeAt(i + 3) : SLASH;
    if (n3 === SLASH) return false;
  }
  return true;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function unreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === DOT || b === 0x5f || b === 0x7e;
}

/** Escaped bytes that are refused: `%` `/` `;` `\`, control characters. */
function refusedByte(b: number): boolean {
  return b === 0x25 || b === SLASH || b === 0x3b || b === 0x5c || b < 0x20 || b === 0x7f;
}

/**
 * One segment with unreserved escapes decoded, or undefined when it must be refused. `decoded` is
 * its full decoding (to tell `.` and `..` segments).
 */
function segment(raw: string): { spelled: string; decoded: string } | undefined {
  let spelled = '';
  let literal = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x5c || c === 0x3b || c === 0x23 || c < 0x20 || c === 0x7f) return undefined;
    if (c !== 0x25) continue;
    const h = hexVal(raw.charCodeAt(i + 1));
    const l = hexVal(raw.charCodeAt(i + 2));
    if (h < 0 || l < 0) return undefined;
    const b = (h << 4) | l;
    if (refusedByte(b)) return undefined;
    if (unreserved(b)) {
      spelled += raw.slice(literal, i) + String.fromCharCode(b);
      literal = i + 3;
    }
    i += 2;
  }
  spelled = literal === 0 ? raw : spelled + raw.slice(literal);
  let decoded: string;
  try {
    decoded = spelled.indexOf('%') < 0 ? spelled : decodeURIComponent(spelled);
  } catch {
    return undefined; // escapes that are not UTF-8
  }
  return { spelled, decoded };
}

/**
 * The target to judge and send upstream for a raw request target, or undefined when the request
 * must be refused (400). A target that needs no rewrite is returned unchanged.
 */
export function forwardTarget(target: string): string | undefined {
  if (target.charCodeAt(0) !== SLASH) return undefined;
  const q = target.indexOf('?');
  const end = q < 0 ? target.length : q;
  if (plainPath(target, end)) return target;
  const out: string[] = [];
  const parts = target.slice(1, end).split('/');
  let trailing = false;
  for (const part of parts) {
    const seg = segment(part);
    if (seg === undefined) return undefined;
    trailing = true;
    if (seg.decoded === '' || seg.decoded === '.') continue;
    if (seg.decoded === '..') {
      out.pop();
      continue;
    }
    out.push(seg.spelled);
    trailing = false;
  }
  const path = out.length === 0 ? '/' : '/' + out.join('/') + (trailing ? '/' : '');
  return q < 0 ? path : path + target.slice(q);
}
