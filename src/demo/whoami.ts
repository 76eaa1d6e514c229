/**
 * The demo's upstream application: a small node:http app behind the judge that shows who the
 * judge says the caller is (the identity headers), every request header it received (cookie and
 * credential values masked), a "Sign out" button posting to the judge's logout route, and an
 * `/admin` page the demo's rules reserve for the `admins` group. Everything shown is escaped.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { esc, layout, sendPage, type HtmlPage } from './html.js';

export interface WhoamiOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Where "Sign out" POSTs, e.g. `/authservice/logout`. */
  readonly logoutAction: string;
  /** The identity headers the judge sets (any case). */
  readonly headerNames: { readonly user: string; readonly groups: string; readonly authMethod: string };
}

export interface Whoami {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const BRAND = 'Demo app · behind oidc-judge';
const MASK = '•••';
const SECRET_NAME = /token|secret|password|passwd|session|api[-_]?key|credential/i;

/** A header value as safe to show: credentials and cookie values are replaced by a mask. */
export function maskHeader(name: string, value: string): string {
  const n = name.toLowerCase();
  if (n === 'cookie') {
    return value
      .split(';')
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .map((c) => `${c.split('=')[0] ?? ''}=${MASK}`)
      .join('; ');
  }
  if (n === 'authorization' || n === 'proxy-authorization') {
    const scheme = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+\S/.exec(value)?.[1];
    return scheme === undefined ? MASK : `${scheme} ${MASK}`;
  }
  if (SECRET_NAME.test(n)) return MASK;
  return value;
}

export function whoamiPage(req: IncomingMessage, o: WhoamiOptions, admin: boolean): HtmlPage {
  const get = (name: string): string | undefined => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const user = get(o.headerNames.user);
  const groups = (get(o.headerNames.groups) ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  const method = get(o.headerNames.authMethod);
  const chips =
    groups.length === 0
      ? '<p class="muted">No groups.</p>'
      : `<ul class="chips" aria-label="Groups">${groups.map((g) => `<li class="chip">${esc(g)}</li>`).join('')}</ul>`;
  const who =
    user === undefined
      ? `<h1>No identity received</h1><p class="sub">This request reached the app without the <code>${esc(o.headerNames.user)}</code> header: nothing in front of it signed the caller in.</p>`
      : `<h1>Signed in as <span id="user">${esc(user)}</span></h1>
<p class="sub">${method === undefined ? 'The judge vouched for this identity.' : `Authenticated by the judge with <strong>${esc(method)}</strong>.`}</p>
<h2>Groups</h2>${chips}`;
  const heading = admin
    ? `<div class="card"><h1>Admin area</h1><p>Only members of the <strong>admins</strong> group reach this page; the judge's rules turn everyone else away.</p></div>`
    : '';
  const identity = new Set(Object.values(o.headerNames).map((n) => n.toLowerCase()));
  const rows: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    rows.push(
      `<tr${identity.has(name) ? ' class="ident"' : ''}><th scope="row">${esc(name)}</th><td><code>${esc(maskHeader(name, req.rawHeaders[i + 1] ?? ''))}</code></td></tr>`,
    );
  }
  const body = `<nav aria-label="Pages"><a href="/">Home</a><a href="/admin">Admin area</a></nav>
${heading}
<div class="card">
${who}
<form method="post" action="${esc(o.logoutAction)}"><button type="submit">Sign out</button></form>
</div>
<div class="card">
<h2>Request headers received</h2>
<p class="muted">${esc(req.method ?? '')} <code>${esc(req.url ?? '')}</code> — cookie and credential values are masked; the judge's identity headers are highlighted.</p>
<div class="table"><table><tbody>${rows.join('')}</tbody></table></div>
</div>`;
  return layout({ title: admin ? 'Admin area · Demo app' : 'Who am I · Demo app', brand: BRAND, body, wide: true });
}

function notFound(): HtmlPage {
  return layout({
    title: 'Not found · Demo app',
    brand: BRAND,
    body: '<nav aria-label="Pages"><a href="/">Home</a></nav><div class="card"><h1>Not found</h1><p>The demo app has only a home page and an admin area.</p></div>',
  });
}

function handle(o: WhoamiOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('ok\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendPage(res, 405, notFound());
    return;
  }
  const admin = path === '/admin' || path.startsWith('/admin/');
  if (path === '/' || admin) sendPage(res, 200, whoamiPage(req, o, admin));
  else sendPage(res, 404, notFound());
}

export async function startWhoami(o: WhoamiOptions): Promise<Whoami> {
  const server: Server = createServer((req, res) => handle(o, req, res));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
