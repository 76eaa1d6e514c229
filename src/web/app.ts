/**
 * The web server (Express 5): the homepage, the after-logout page and theme assets, served both
 * at the root and under the service prefix (oidc-authservice deployments rewrite `/authservice/`
 * to `/` in front of it; this works with or without that rewrite). Every other request goes to
 * `own` first (the login callback and logout, answered by the judge's own routes), then gets the
 * themed 404 page. Errors get a themed page with no details. Security headers on every response.
 *
 *   const web = createWebApp({ pages, themesDir, prefixPath: '/authservice/', own, log });
 *   const port = await web.listen('0.0.0.0', 8082);   // resolves with the bound port
 *   await web.close();                                  // stops accepting, waits for requests in flight
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Decision } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { trustMatcher } from '../net/cidr.js';
import type { Logger } from '../obs/log.js';
import type { AssertionDocuments } from '../signing/documents.js';
import { createCsp, originOf, SECURITY_HEADERS } from './csp.js';
import type { ErrorPage, WebPages } from './pages.js';
import { judgeRequestOf, writeDeny } from './request.js';

export interface WebAppDeps {
  readonly pages: WebPages;
  /** The pages of the provider a host belongs to (`providers:`: its theme and client name); default `pages`. */
  readonly pagesFor?: (host: string) => WebPages;
  /** The directory holding one folder per theme (`templates/themes`). */
  readonly themesDir: string;
  /** The service prefix path, e.g. `/authservice/`. */
  readonly prefixPath: string;
  /** The judge's own routes (callback, logout): a Decision, or undefined when not theirs. */
  readonly own?: (req: JudgeRequest) => Promise<Decision | undefined>;
  readonly log: Logger;
  /** TRUSTED_PROXIES: peers whose `X-Forwarded-Proto` is believed. Default: loopback. */
  readonly trustedProxies?: readonly string[];
  /** Origins besides 'self' that pages may post forms to and fetch from (CSP form-action, connect-src). */
  readonly formActions?: readonly string[];
  /** How long browsers may cache theme assets, in seconds. Default 3600. */
  readonly assetMaxAge?: number;
  readonly newId?: () => string;
  /** The assertion keys' JWKS and discovery documents (`ASSERTION_HEADER`), under the prefix and at the root. */
  readonly documents?: AssertionDocuments;
}

export interface WebApp {
  readonly app: Express;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections, closes idle ones, resolves when requests in flight are done. */
  close(): Promise<void>;
}

const NOT_FOUND: ErrorPage = {
  status: 404,
  title: 'Page not found',
  message: 'There is nothing at this address. Check the link, or go back to the start page.',
  action: { href: '/', label: 'Go to the start page' },
};
const SERVER_ERROR: ErrorPage = { status: 500, title: 'Something went wrong', message: 'The page could not be shown. Please try again in a moment.' };
const BAD_REQUEST: ErrorPage = { status: 400, title: 'Bad request', message: 'The request could not be understood.' };

function statusOf(err: unknown): number {
  const s = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : 500;
}

/** Whether `If-None-Match` names this ETag (a list, weak or strong, or `*`). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** JSON documents verifiers fetch and cache: `Cache-Control`, `ETag`, 304 on a match, readable from any origin. */
function serveDocuments(router: express.Router, docs: AssertionDocuments): void {
  for (const [rel, current] of Object.entries(docs.byPath)) {
    router.get(`/${rel}`, (req: Request, res: Response) => {
      const doc = current();
      res.setHeader('cache-control', `public, max-age=${docs.maxAge}`);
      res.setHeader('etag', doc.etag);
      res.setHeader('access-control-allow-origin', '*');
      if (notModified(req.headers['if-none-match'], doc.etag)) {
        res.status(304).end();
        return;
      }
      res.status(200);
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', Buffer.byteLength(doc.body));
      res.end(doc.body);
    });
  }
}

export function createWebApp(deps: WebAppDeps): WebApp {
  const { pages, log } = deps;
  const trust = trustMatcher(deps.trustedProxies ?? ['127.0.0.1/8', '::1/128']);
  const newId = deps.newId ?? randomUUID;
  const assetOrigin = originOf(pages.themeUrl);
  const csp = createCsp({ formActions: deps.formActions ?? [], assetOrigins: assetOrigin === undefined ? [] : [assetOrigin] });
  const prefix = `/${deps.prefixPath.replace(/^\/+|\/+$/g, '')}`;

  /** Pages are static per process but for the error ones: keep each page's policy with its HTML. */
  const policies = new Map<string, string>();
  const policyFor = (html: string): string => {
    let p = policies.get(html);
    if (p === undefined) {
      p = csp.forPage(html);
      if (policies.size < 64) policies.set(html, p);
    }
    return p;
  };

  function sendPage(res: Response, status: number, html: string): void {
    res.status(status);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-security-policy', policyFor(html));
    res.setHeader('content-length', Buffer.byteLength(html));
    res.end(html);
  }

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('case sensitive routing', true);

  app.use((_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    res.setHeader('content-security-policy', csp.policy());
    next();
  });

  const site = express.Router({ caseSensitive: true });
  const pagesOf = (req: Request): WebPages => deps.pagesFor?.(req.headers.host ?? '') ?? pages;
  site.get('/site/homepage', (req, res) => sendPage(res, 200, pagesOf(req).homepage()));
  site.get('/site/after_logout', (req, res) => sendPage(res, 200, pagesOf(req).afterLogout()));
  // A link to the logout route (a bookmark, a typed URL) asks first; only the form's POST signs out.
  site.get('/logout', (req, res) => sendPage(res, 200, pagesOf(req).signOut(`${prefix === '/' ? '' : prefix}/logout`)));
  site.use(
    '/site/themes',
    express.static(deps.themesDir, {
      index: false,
      dotfiles: 'deny',
      redirect: false,
      fallthrough: true,
      etag: true,
      lastModified: true,
      maxAge: (deps.assetMaxAge ?? 3600) * 1000,
    }),
  );
  if (deps.documents !== undefined) serveDocuments(site, deps.documents);
  if (prefix !== '/') app.use(prefix, site);
  app.use(site);

  app.use(async (req: Request, res: Response) => {
    const decision = deps.own === undefined ? undefined : await deps.own(judgeRequestOf(req, trust, newId));
    if (decision?.kind === 'deny') {
      writeDeny(res, decision);
      return;
    }
    // An allow means "proxy it upstream"; the web server has nothing behind it.
    sendPage(res, 404, pages.error(NOT_FOUND));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = statusOf(err);
    const kind = err instanceof Error ? err.name : typeof err;
    const code = (err as { code?: unknown } | null)?.code;
    log[status >= 500 ? 'error' : 'warn']({ kind, ...(typeof code === 'string' ? { code } : {}), status, method: req.method }, 'web request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    try {
      // A page that failed can be asked for again (a GET, on this site); anything else starts over at the root.
      const retry = req.method === 'GET' && req.originalUrl.startsWith('/') && !req.originalUrl.startsWith('//') ? req.originalUrl : '/';
      sendPage(res, status, pages.error(status >= 500 ? { ...SERVER_ERROR, action: { href: retry, label: 'Try again' } } : { ...BAD_REQUEST, status }));
    } catch {
      res
        .status(status)
        .type('text/plain')
        .end(status >= 500 ? 'Internal Server Error' : 'Bad Request');
    }
  });

  let server: Server | undefined;
  return {
    app,
    listen(host, port) {
      const s = createServer(app);
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve((s.address() as AddressInfo).port);
        });
      });
    },
    close() {
      const s = server;
      if (s === undefined) return Promise.resolve();
      server = undefined;
      return new Promise((resolve, reject) => {
        s.close((err) => (err === undefined ? resolve() : reject(err)));
        s.closeIdleConnections();
      });
    },
  };
}
