/**
 * The escapers the page templates apply to every value they print, chosen by where the value
 * lands (see html-context.ts): HTML text and attributes, URLs (with Go's `#ZgotmplZ` for unsafe
 * schemes), CSS values and JavaScript strings. They mirror Go's `html/template` so that templates
 * written for oidc-authservice render the same, and stay safe whatever the value holds.
 */

/** What Go's html/template prints in place of a value that is unsafe where it lands. */
export const ZGOTMPLZ = 'ZgotmplZ';

const HTML: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
  '`': '&#96;',
  '\0': '\uFFFD',
};

/** For HTML text and quoted attribute values: `& < > " ' \`` become character references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`\0]/g, (c) => HTML[c]!);
}

/** For unquoted attribute values: also whitespace and `=`, which would end or split the value. */
export function escapeUnquotedAttr(s: string): string {
  return s.replace(/[&<>"'`\0\s=]/g, (c) => HTML[c] ?? `&#${c.charCodeAt(0)};`);
}

/**
 * Whether a URL is one a page may link to: no scheme (relative), or http, https, mailto. As Go
 * does, anything before the first `:` that precedes any `/` counts as a scheme, so ` javascript:`
 * and `java\tscript:` are refused too.
 */
export function isSafeUrl(url: string): boolean {
  const colon = url.indexOf(':');
  if (colon < 0) return true;
  const scheme = url.slice(0, colon);
  if (scheme.includes('/')) return true;
  const s = scheme.toLowerCase();
  return s === 'http' || s === 'https' || s === 'mailto';
}

const HEX = '0123456789abcdef';
const isHex = (b: number | undefined): boolean => b !== undefined && ((b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102));
const isAlnum = (b: number): boolean => (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
/** RFC 3986 reserved characters kept when normalizing (not `'`, `(`, `)`: Go encodes those). */
const RESERVED = new Set([...'!#$&*+,/:;=?@[]'].map((c) => c.charCodeAt(0)));
const UNRESERVED = new Set([...'-._~'].map((c) => c.charCodeAt(0)));

/**
 * Percent-encodes a URL's UTF-8 bytes as Go's html/template does. `normalize` keeps reserved
 * characters and existing `%xx` escapes (a URL or a path); otherwise everything but unreserved
 * characters is encoded (a query parameter value).
 */
function processUrl(s: string, normalize: boolean): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const keep =
      isAlnum(b) || UNRESERVED.has(b) || (normalize && RESERVED.has(b)) || (normalize && b === 37 /* % */ && isHex(bytes[i + 1]) && isHex(bytes[i + 2]));
    out += keep ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

export const normalizeUrl = (s: string): string => processUrl(s, true);
export const escapeUrlComponent = (s: string): string => processUrl(s, false);

/** Where in a URL a value lands, judged from the static text before it (`\0` marks earlier values). */
export type UrlPart = 'start' | 'scheme?' | 'path' | 'query';

export function urlPart(before: string): UrlPart {
  if (before === '') return 'start';
  if (/[?#]/.test(before)) return 'query';
  if (/[/:]/.test(before)) return 'path';
  return 'scheme?';
}

/** The escaper for a value inside a URL, given the URL text before it. */
export function urlEscaper(before: string): (s: string) => string {
  const part = urlPart(before);
  switch (part) {
    case 'start':
      return (s) => (isSafeUrl(s) ? normalizeUrl(s) : `#${ZGOTMPLZ}`);
    case 'scheme?':
      // Static text so far, no separator: the value may still complete a scheme (`java` + `script:`).
      if (!before.includes('\0')) return (s) => (isSafeUrl(before + s) ? normalizeUrl(s) : `#${ZGOTMPLZ}`);
      // An earlier value decided part of it; this one must not add a scheme separator.
      return (s) => normalizeUrl(s).replace(/:/g, '%3a');
    case 'path':
      return normalizeUrl;
    case 'query':
      return escapeUrlComponent;
  }
}

/** A CSS value outside strings and `url()`: only words, numbers, colours, lengths and lists. */
export function filterCssValue(s: string): string {
  if (/[\0"'()/;@[\\\]`{}<>:&=]/.test(s) || s.includes('--') || /expression|mozbinding/i.test(s)) return ZGOTMPLZ;
  return s;
}

/** Inside a CSS string: every character but letters, digits and a few safe ones as a hex escape. */
export function escapeCssString(s: string): string {
  return s.replace(/[^A-Za-z0-9 _.,#%-]/gu, (c) => `\\${c.codePointAt(0)!.toString(16)} `);
}

/** Inside a JavaScript string (or template) literal: anything that could end it, or the script, as `\uXXXX`. */
export function escapeJsString(s: string): string {
  return s.replace(/[\0-\x1f"'`&+/<>\\$={}\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** In JavaScript code: the value as a string literal, as Go prints a string in a JS value position. */
export function jsStringLiteral(s: string): string {
  return `"${escapeJsString(s)}"`;
}
