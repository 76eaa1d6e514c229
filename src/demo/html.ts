/**
 * The small HTML kit shared by the demo's pages (the development OpenID Provider's sign-in,
 * logout and error pages, and the "who am I" upstream app): escaping, one stylesheet, and a
 * layout that ships a strict Content-Security-Policy naming the page's only inline style (and
 * script, if any) by hash. No external assets, phone friendly, light and dark.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** HTML-escapes any value for text and double-quoted attribute positions. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{--bg:#f3f5f9;--card:#fff;--text:#16191d;--muted:#525a66;--line:#dde2ea;--accent:#1d5bd8;--accent-ink:#fff;
--soft:#eef2f8;--soft-ink:#173f94;--bad:#b3261e;--bad-bg:#fdf1f0;--bad-line:#f3c7c3;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0e1217;--card:#171c23;--text:#e8ecf1;--muted:#a3adba;--line:#2b323c;--accent:#5b93ff;
--accent-ink:#0a1020;--soft:#1d2633;--soft-ink:#c9dcff;--bad:#ff8a80;--bad-bg:#2a1614;--bad-line:#5b2421}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:420px;margin:0 auto;padding:40px 16px}
main.wide{max-width:880px}
.brand{display:flex;align-items:center;gap:10px;margin:0 0 20px;color:var(--muted);font-weight:600;font-size:14px;letter-spacing:.02em}
.brand svg{flex:none}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:28px 24px;box-shadow:0 1px 2px rgba(16,24,40,.04),0 8px 24px rgba(16,24,40,.06)}
.card+.card{margin-top:16px}
h1{font-size:24px;line-height:1.25;margin:0 0 6px}
h2{font-size:16px;margin:0 0 12px}
p{margin:0 0 12px}
.sub{color:var(--muted);margin:0 0 24px}
label{display:block;font-weight:600;font-size:14px;margin:0 0 6px}
input[type=text],input[type=password]{display:block;width:100%;font:inherit;padding:11px 12px;border:1px solid var(--line);border-radius:10px;background:var(--card);color:var(--text);margin:0 0 16px}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid color-mix(in srgb,var(--accent) 45%,transparent);outline-offset:2px}
button,.button{display:inline-block;font:inherit;font-weight:600;border:0;border-radius:10px;padding:12px 16px;cursor:pointer;background:var(--accent);color:var(--accent-ink);text-decoration:none;text-align:center}
button.block{display:block;width:100%}
button.ghost{background:transparent;color:var(--text);border:1px solid var(--line)}
button.link{background:none;padding:0;border-radius:4px;color:var(--accent);font-weight:600}
.cancel{margin:16px 0 0;text-align:center}
.cancel p{margin:0}
.row{display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.row>button{flex:1 1 auto}
.alert{background:var(--bad-bg);color:var(--bad);border:1px solid var(--bad-line);border-radius:10px;padding:10px 12px;margin:0 0 16px;font-size:14px}
.hint{background:var(--soft);color:var(--soft-ink);border-radius:12px;padding:14px 16px;font-size:14px}
.hint h2{font-size:14px;margin:0 0 8px}
.hint ul{list-style:none;margin:0;padding:0}
.hint li+li{margin-top:8px}
.hint code,td code{font-family:var(--mono);font-size:13px;word-break:break-all}
.muted{color:var(--muted);font-size:14px}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 16px;padding:0;list-style:none}
.chip{background:var(--soft);color:var(--soft-ink);border-radius:999px;padding:3px 10px;font-size:13px;font-weight:600}
nav{display:flex;gap:14px;margin:0 0 16px;font-size:14px}
nav a{color:var(--accent);text-decoration:none;font-weight:600}
.table{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-size:14px}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-top:1px solid var(--line)}
th{font-weight:600;white-space:nowrap;color:var(--muted)}
td{word-break:break-word}
.masked{color:var(--muted);font-style:italic}
tr.ident th{color:var(--accent)}
@media (max-width:560px){.table tr{display:block;border-top:1px solid var(--line);padding:8px 0}
.table th,.table td{display:block;border:0;padding:2px 0;white-space:normal}}
`;

const LOGO = `<svg width="28" height="28" viewBox="0 0 28 28" aria-hidden="true"><rect width="28" height="28" rx="8" fill="#1d5bd8"/><path d="M14 6l6 3v5c0 4-2.6 7-6 8-3.4-1-6-4-6-8V9z" fill="#fff" opacity=".92"/><path d="M11 14l2 2 4-4" stroke="#1d5bd8" stroke-width="2" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

const CSS_HASH = sha256(CSS);

export interface HtmlPage {
  readonly html: string;
  /** The Content-Security-Policy that goes with `html`. */
  readonly csp: string;
}

export interface LayoutOptions {
  readonly title: string;
  /** Trusted HTML: callers escape every value they put in it. */
  readonly body: string;
  /** The brand line above the content. */
  readonly brand: string;
  /** One inline script (allowed by hash), e.g. an auto-submit. */
  readonly script?: string;
  readonly wide?: boolean;
}

export function layout(o: LayoutOptions): HtmlPage {
  const script = o.script === undefined ? '' : `<script>${o.script}</script>`;
  const scriptSrc = o.script === undefined ? "'none'" : sha256(o.script);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${esc(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main${o.wide ? ' class="wide"' : ''}>
<div class="brand">${LOGO}<span>${esc(o.brand)}</span></div>
${o.body}
</main>
${script}
</body>
</html>`;
  const csp = `default-src 'none'; style-src ${CSS_HASH}; script-src ${scriptSrc}; img-src data:; base-uri 'none'; frame-ancestors 'none'`;
  return { html, csp };
}

/** Headers every demo page is sent with. */
export function pageHeaders(page: HtmlPage): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': page.csp,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

export function sendPage(res: ServerResponse, status: number, page: HtmlPage): void {
  const body = Buffer.from(page.html, 'utf8');
  res.writeHead(status, { ...pageHeaders(page), 'content-length': String(body.length) });
  res.end(body);
}
