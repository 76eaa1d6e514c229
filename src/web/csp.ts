/**
 * The Content-Security-Policy of the web server's responses. Strict by default: only same-origin
 * styles, images and scripts, no framing, no plugins. A page rendered from a custom template
 * (TEMPLATE_PATH) may carry inline `<script>`/`<style>` elements or `style="…"` attributes, as
 * oidc-authservice's own templates did; those exact snippets are allowed by their SHA-256 hash, so
 * they keep working without opening the policy to anything else.
 */
import { createHash } from 'node:crypto';

export interface CspOptions {
  /** Origins besides 'self' that pages may submit forms to and fetch from (e.g. the provider's sign-out). */
  readonly formActions?: readonly string[];
  /** Origins of theme assets when THEMES_URL is an absolute URL. */
  readonly assetOrigins?: readonly string[];
}

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the character references an attribute value may hold (the DOM hashes the decoded value). */
function decodeAttr(v: string): string {
  return v.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[ref.toLowerCase()] ?? m;
  });
}

export interface InlineHashes {
  readonly scripts: readonly string[];
  readonly styles: readonly string[];
  readonly styleAttrs: readonly string[];
}

/** Hashes of the inline scripts, style elements and style attributes of a page. */
export function inlineHashes(html: string): InlineHashes {
  const scripts = new Set<string>();
  const styles = new Set<string>();
  const styleAttrs = new Set<string>();
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (!/\ssrc\s*=/i.test(` ${m[1]!}`) && m[2]!.trim() !== '') scripts.add(hash(m[2]!));
  }
  for (const m of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)) styles.add(hash(m[1]!));
  for (const m of html.matchAll(/<[a-z][^>]*?\sstyle\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/gi)) {
    styleAttrs.add(hash(decodeAttr(m[1] ?? m[2] ?? m[3] ?? '')));
  }
  return { scripts: [...scripts], styles: [...styles], styleAttrs: [...styleAttrs] };
}

/** Builds policies: `policy()` for non-HTML responses, `forPage(html)` for a rendered page. */
export function createCsp(opts: CspOptions = {}): { policy(): string; forPage(html: string): string } {
  const actions = ['self', ...(opts.formActions ?? [])].map((s) => (s === 'self' ? "'self'" : s)).join(' ');
  const assets = ["'self'", ...(opts.assetOrigins ?? [])].join(' ');
  const build = (h: InlineHashes): string => {
    const scriptSrc = h.scripts.length > 0 ? `script-src 'self' ${h.scripts.join(' ')}` : "script-src 'self'";
    const styleHashes = [...h.styles, ...h.styleAttrs];
    const unsafeHashes = h.styleAttrs.length > 0 ? " 'unsafe-hashes'" : '';
    const styleSrc = `style-src ${assets}${unsafeHashes}${styleHashes.length > 0 ? ` ${styleHashes.join(' ')}` : ''}`;
    return [
      "default-src 'self'",
      scriptSrc,
      styleSrc,
      `img-src ${assets} data:`,
      `font-src ${assets}`,
      `connect-src ${actions}`,
      `form-action ${actions}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ].join('; ');
  };
  const plain = build({ scripts: [], styles: [], styleAttrs: [] });
  return { policy: () => plain, forPage: (html) => build(inlineHashes(html)) };
}

/** The headers every HTML page of ours carries besides its CSP (the web server's and the judge's deny pages alike). */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = Object.freeze([
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
] as const);

/** The origin of an absolute URL (a theme or asset URL), for the CSP; undefined for a path. */
export function originOf(url: string): string | undefined {
  if (!/^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\//.test(url)) return undefined;
  try {
    return new URL(url, 'https://scheme-relative.invalid').origin;
  } catch {
    return undefined;
  }
}
