import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deny, type Decision } from '../../src/judge/decision.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createLogger } from '../../src/obs/log.js';
import { templatesDir } from '../../src/paths.js';
import { createWebApp, type WebApp, type WebAppDeps } from '../../src/web/app.js';
import { createPages } from '../../src/web/pages.js';
import { send, type Sent } from '../helpers/http-send.js';

const root = mkdtempSync(join(tmpdir(), 'oidc-judge-web-'));
/** A copy of the real themes directory, plus a dotfile and a nested directory to probe. */
const themesDir = join(root, 'themes');
cpSync(join(templatesDir, 'themes'), themesDir, { recursive: true });
writeFileSync(join(themesDir, 'kubeflow', '.secret'), 'do not serve');
mkdirSync(join(themesDir, 'kubeflow', 'sub'));
writeFileSync(join(root, 'outside.txt'), 'outside the themes directory');

const context = { ProviderURL: 'https://idp.example.com', ClientName: 'Kubeflow', ThemeURL: '/authservice/site/themes/kubeflow', Frontend: {} };
const pages = createPages({ templateDirs: [join(templatesDir, 'default')], context, prefixPath: '/authservice/' });

interface Harness {
  web: WebApp;
  port: number;
  seen: JudgeRequest[];
  logs: string[];
  own: (req: JudgeRequest) => Promise<Decision | undefined>;
}

async function start(more: Partial<WebAppDeps> = {}): Promise<Harness> {
  const logs: string[] = [];
  const h: Harness = { seen: [], logs, own: async () => undefined } as unknown as Harness;
  h.web = createWebApp({
    pages,
    themesDir,
    prefixPath: '/authservice/',
    log: createLogger('info', { write: (line: string) => void logs.push(line) }),
    own: async (req) => {
      h.seen.push(req);
      return h.own(req);
    },
    ...more,
  });
  h.port = await h.web.listen('127.0.0.1', 0);
  return h;
}

function assertSecurityHeaders(r: Sent): void {
  const csp = String(r.headers['content-security-policy']);
  for (const d of ["default-src 'self'", "style-src 'self'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(d), `CSP has ${d}: ${csp}`);
  }
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['x-frame-options'], 'DENY');
  assert.equal(r.headers['x-powered-by'], undefined);
}

after(() => rmSync(root, { recursive: true, force: true }));

describe('web server', () => {
  let h: Harness;
  before(async () => {
    h = await start({ formActions: ['https://idp.example.com'] });
  });
  after(() => h.web.close());

  for (const base of ['', '/authservice']) {
    it(`GET ${base}/site/homepage and ${base}/site/after_logout render the pages, not cacheable`, async () => {
      const home = await send(h.port, `${base}/site/homepage`);
      assert.equal(home.status, 200);
      assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(home.headers['cache-control'], 'no-store');
      assert.match(home.body, /Welcome to Kubeflow/);
      assertSecurityHeaders(home);
      const out = await send(h.port, `${base}/site/after_logout`);
      assert.equal(out.status, 200);
      assert.match(out.body, /You have successfully logged out from Kubeflow/);
      assert.equal(out.headers['cache-control'], 'no-store');
    });

    it(`GET ${base}/site/themes/kubeflow/* serves the theme with types and cache headers`, async () => {
      const types: Record<string, RegExp> = { 'styles.css': /^text\/css; charset=utf-8$/i, 'logo.svg': /^image\/svg\+xml/, 'bg.svg': /^image\/svg\+xml/ };
      for (const [file, type] of Object.entries(types)) {
        const r = await send(h.port, `${base}/site/themes/kubeflow/${file}`);
        assert.equal(r.status, 200, file);
        assert.match(String(r.headers['content-type']), type);
        assert.equal(r.headers['cache-control'], 'public, max-age=3600');
        assert.ok(r.headers['etag'] !== undefined);
        assertSecurityHeaders(r);
      }
      const head = await send(h.port, `${base}/site/themes/kubeflow/styles.css`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    });
  }

  it('HEAD of a page answers its headers without a body', async () => {
    const r = await send(h.port, '/authservice/site/homepage', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.ok(Number(r.headers['content-length']) > 0);
  });

  it('refuses traversal out of the themes directory, dotfiles and directories with the 404 page', async () => {
    const probes = [
      '/site/themes/../outside.txt',
      '/site/themes/kubeflow/../../outside.txt',
      '/site/themes/%2e%2e/outside.txt',
      '/site/themes/kubeflow/..%2f..%2foutside.txt',
      '/authservice/site/themes/kubeflow/%2e%2e%2f%2e%2e%2foutside.txt',
      '/site/themes/kubeflow/.secret',
      '/site/themes/kubeflow/%2esecret',
      '/site/themes/kubeflow/',
      '/site/themes/kubeflow',
      '/site/themes/kubeflow/sub/',
      '/site/themes/',
      '/site/themes/kubeflow/nope.css',
    ];
    for (const p of probes) {
      const r = await send(h.port, p);
      assert.equal(r.status, 404, p);
      assert.match(r.body, /Page not found/, p);
      assert.ok(!r.body.includes('outside the themes') && !r.body.includes('do not serve'), p);
      assert.equal(r.headers['location'], undefined, p);
    }
  });

  for (const base of ['', '/authservice']) {
    it(`GET ${base}/logout asks first: a sign-out page whose form posts to the logout route, and Cancel`, async () => {
      const r = await send(h.port, `${base}/logout`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['cache-control'], 'no-store');
      assertSecurityHeaders(r);
      assert.match(r.body, /Sign out of Kubeflow\?<\/h1>/);
      assert.match(r.body, /<form class="button-wrapper" method="post" action="\/authservice\/logout">/);
      assert.match(r.body, /<a class="button button-secondary" href="\/authservice\/site\/homepage">Cancel<\/a>/);
      assert.ok(!h.seen.some((q) => q.path.endsWith('/logout')), 'the logout route never sees a GET: nobody is signed out');
    });
  }

  it('answers anything else with the themed 404 page and the security headers', async () => {
    const r = await send(h.port, '/nope/<script>');
    assert.equal(r.status, 404);
    assert.match(r.body, /<a class="button[^"]*" href="\/">Go to the start page<\/a>/);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.body, /Page not found/);
    assert.match(r.body, /\/authservice\/site\/themes\/kubeflow\/styles\.css/);
    assertSecurityHeaders(r);
    assert.match(String(r.headers['content-security-policy']), /form-action 'self' https:\/\/idp\.example\.com/);
  });

  it('hands other requests to `own` with the original path and writes its Deny as it is', async () => {
    h.own = async (req) =>
      req.path.startsWith('/authservice/oidc/callback')
        ? deny(302, 'login-complete', '', [
            ['location', '/app'],
            ['set-cookie', 'authservice_session=abc; Path=/; HttpOnly'],
            ['set-cookie', 'oidc_state=; Max-Age=0'],
          ])
        : undefined;
    const r = await send(h.port, '/authservice/oidc/callback?code=c&state=s', {
      headers: { host: 'Kubeflow.Example.com', 'x-forwarded-proto': 'https', 'x-request-id': 'rid-7', 'X-Custom': 'v', cookie: ['a=1', 'b=2'] },
    });
    assert.equal(r.status, 302);
    assert.equal(r.headers['location'], '/app');
    assert.deepEqual(r.headers['set-cookie'], ['authservice_session=abc; Path=/; HttpOnly', 'oidc_state=; Max-Age=0']);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const j = h.seen.at(-1)!;
    assert.equal(j.path, '/authservice/oidc/callback?code=c&state=s');
    assert.equal(j.method, 'GET');
    assert.equal(j.scheme, 'https');
    assert.equal(j.host, 'kubeflow.example.com');
    assert.equal(j.headers['x-custom'], 'v');
    assert.equal(j.headers['cookie'], 'a=1; b=2');
    assert.equal(j.requestId, 'rid-7');
    assert.equal(j.peer, '127.0.0.1');
    assert.equal(j.via, 'web');
    assert.equal(j.denyStyle, 'redirect');
  });

  it('gives `own` POSTs at the root form too (logout without the prefix rewrite)', async () => {
    h.own = async (req) =>
      req.method === 'POST' && req.path === '/logout' ? deny(201, 'logout', '{"afterLogoutURL":"/x"}', [['content-type', 'application/json']]) : undefined;
    const r = await send(h.port, '/logout', { method: 'POST', headers: { 'content-length': '0' } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.body, '{"afterLogoutURL":"/x"}');
    assert.match(h.seen.at(-1)!.requestId, /^[0-9a-f-]{36}$/);
  });

  it('an allow from `own` is a 404: there is nothing to proxy to', async () => {
    h.own = async () => ({ kind: 'allow', upstreamHeaders: [], removeHeaders: [], responseHeaders: [], reason: 'skip' });
    const r = await send(h.port, '/authservice/anything');
    assert.equal(r.status, 404);
    assert.match(r.body, /Page not found/);
  });

  it('an error thrown by `own` is a themed 500 page without details; the log names the kind only', async () => {
    h.own = async () => {
      throw new TypeError('secret-detail-123');
    };
    const r = await send(h.port, '/authservice/oidc/callback');
    assert.equal(r.status, 500);
    assert.match(r.body, /Something went wrong/);
    assert.ok(!r.body.includes('secret-detail-123') && !r.body.includes('TypeError') && !r.body.includes('at '));
    assertSecurityHeaders(r);
    const line = h.logs.find((l) => l.includes('web request failed'));
    assert.ok(line !== undefined);
    assert.equal(JSON.parse(line).kind, 'TypeError');
    assert.ok(!h.logs.join('').includes('secret-detail-123'));
  });
});

describe('web server: proxies and custom templates', () => {
  it('ignores X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const h = await start({ trustedProxies: ['10.0.0.0/8'] });
    try {
      await send(h.port, '/x', { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(h.seen.at(-1)!.scheme, 'http');
    } finally {
      await h.web.close();
    }
  });

  it("allows a custom template's inline style and script by hash, nothing else", async () => {
    const custom = join(root, 'custom');
    mkdirSync(custom);
    const style = 'background-image:url(/authservice/site/themes/kubeflow/bg.svg);';
    const script = 'document.title = "x";';
    writeFileSync(join(custom, 'homepage.html'), `<main style="background-image:url({{ .ThemeURL }}/bg.svg);"></main><script>${script}</script>`);
    const custPages = createPages({ templateDirs: [join(templatesDir, 'default'), custom], context, prefixPath: '/authservice/' });
    const h = await start({ pages: custPages });
    try {
      const r = await send(h.port, '/site/homepage');
      const csp = String(r.headers['content-security-policy']);
      const sha = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
      assert.ok(csp.includes(`script-src 'self' ${sha(script)}`), csp);
      assert.ok(csp.includes(`style-src 'self' 'unsafe-hashes' ${sha(style)}`), csp);
      const plain = await send(h.port, '/site/after_logout');
      assert.ok(!String(plain.headers['content-security-policy']).includes('sha256'));
    } finally {
      await h.web.close();
    }
  });
});
