import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext, watchProblems, PHONE, screenshot } from '../helpers/browser.js';
import { send } from '../helpers/http-send.js';
import { projectRoot } from '../../src/paths.js';
import { maskHeader, startWhoami, type Whoami } from '../../src/demo/whoami.js';

const headerNames = { user: 'kubeflow-userid', groups: 'kubeflow-groups', authMethod: 'Auth-Method' };

describe('whoami demo upstream', () => {
  let app: Whoami;
  let browser: Browser;

  before(async () => {
    app = await startWhoami({ logoutAction: '/authservice/logout', headerNames });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows the user, the auth method and the groups as chips', async () => {
    const res = await send(app.port, '/', { headers: { 'kubeflow-userid': 'alice@example.com', 'kubeflow-groups': 'admins, staff', 'auth-method': 'cookie' } });
    assert.equal(res.status, 200);
    assert.match(res.body, /Signed in as <span id="user">alice@example\.com<\/span>/);
    assert.match(res.body, /<li class="chip">admins<\/li><li class="chip">staff<\/li>/);
    assert.match(res.body, /with <strong>cookie<\/strong>/);
    assert.match(res.body, /<form method="post" action="\/authservice\/logout"><button type="submit">Sign out<\/button><\/form>/);
    assert.match(String(res.headers['content-security-policy']), /script-src 'none'/);
  });

  it('escapes hostile header values and masks cookie and credential values', async () => {
    const hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
    const res = await send(app.port, '/?q=<b>', {
      headers: {
        'kubeflow-userid': hostile,
        'kubeflow-groups': '<b>bold</b>,x"y',
        cookie: 'authservice_session=SESSION-SECRET-1; theme=DARK-SECRET-2',
        authorization: 'Bearer TOKEN-SECRET-3',
        'x-id-token': 'ID-SECRET-4',
        'x-custom': '<i>shown</i>',
      },
    });
    assert.equal(res.status, 200);
    for (const secret of ['SESSION-SECRET-1', 'DARK-SECRET-2', 'TOKEN-SECRET-3', 'ID-SECRET-4']) assert.ok(!res.body.includes(secret), secret);
    assert.ok(!res.body.includes('<img'));
    assert.ok(!res.body.includes('<script>alert'));
    assert.ok(!res.body.includes('<b>'));
    assert.ok(res.body.includes('authservice_session=•••; theme=•••'));
    assert.ok(res.body.includes('Bearer •••'));
    assert.ok(res.body.includes('&#60;i&#62;shown&#60;/i&#62;'));
    assert.ok(res.body.includes('<li class="chip">x&#34;y</li>'));

    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      let dialogs = 0;
      page.on('dialog', (d) => {
        dialogs++;
        void d.dismiss();
      });
      await page.setExtraHTTPHeaders({ 'kubeflow-userid': hostile, 'kubeflow-groups': '<b>bold</b>' });
      await page.goto(`${app.url}/`);
      assert.equal(await page.locator('#user').textContent(), hostile);
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.locator('.chip').first().textContent(), '<b>bold</b>');
      assert.equal(dialogs, 0);
      assert.deepEqual(problems.consoleErrors, []);
    } finally {
      await ctx.close();
    }
  });

  it('renders the admin page, a not-found page, and says when no identity arrived', async () => {
    const admin = await send(app.port, '/admin', { headers: { 'kubeflow-userid': 'alice@example.com', 'kubeflow-groups': 'admins' } });
    assert.equal(admin.status, 200);
    assert.match(admin.body, /<h1>Admin area<\/h1>/);
    assert.match(admin.body, /alice@example\.com/);
    const none = await send(app.port, '/');
    assert.match(none.body, /No identity received/);
    assert.equal((await send(app.port, '/elsewhere')).status, 404);
    assert.equal((await send(app.port, '/', { method: 'POST' })).status, 405);
    assert.equal((await send(app.port, '/healthz')).body, 'ok\n');
  });

  it('masks by header name', () => {
    assert.equal(maskHeader('Cookie', 'a=1; b=2'), 'a=•••; b=•••');
    assert.equal(maskHeader('authorization', 'Basic dXNlcjpwYXNz'), 'Basic •••');
    assert.equal(maskHeader('authorization', 'opaque'), '•••');
    assert.equal(maskHeader('Proxy-Authorization', 'Bearer x'), 'Bearer •••');
    assert.equal(maskHeader('x-auth-token', 'abc'), '•••');
    assert.equal(maskHeader('x-forwarded-proto', 'https'), 'https');
  });

  it('looks right on a phone, without console errors or overflow', async () => {
    const ctx = await newContext(browser, PHONE);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      await page.setExtraHTTPHeaders({
        'kubeflow-userid': 'alice@example.com',
        'kubeflow-groups': 'admins,staff',
        'auth-method': 'cookie',
        authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.a-very-long-token-value-that-must-not-be-shown',
        'x-forwarded-for': '127.0.0.1',
      });
      await page.goto(`${app.url}/`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      const dir = join(projectRoot, '.build', 'screenshots');
      mkdirSync(dir, { recursive: true });
      await screenshot(page, join(dir, 'devop-whoami-390.png'));
      assert.deepEqual(problems.consoleErrors, []);
      assert.deepEqual(problems.failedRequests, []);
    } finally {
      await ctx.close();
    }
  });
});
