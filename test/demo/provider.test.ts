import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { contrast, launchBrowser, newContext, watchProblems, PHONE, screenshot } from '../helpers/browser.js';
import { projectRoot } from '../../src/paths.js';
import type { DevProvider } from '../../src/demo/provider.js';
import { authorizationUrl, discover, startOpFor, startRp, submitLogin, CLIENT_ID, type Rp } from './rp.js';

describe('development OpenID Provider: discovery, sign-in page, PKCE', () => {
  let rp: Rp;
  let op: DevProvider;
  let browser: Browser;

  before(async () => {
    rp = await startRp();
    op = await startOpFor(rp);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await op?.stop();
    await rp?.stop();
  });

  it('publishes the endpoints and features the judge relies on', async () => {
    const res = await fetch(`${op.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = (await res.json()) as Record<string, unknown>;
    assert.equal(d['issuer'], op.issuer);
    for (const [key, path] of [
      ['authorization_endpoint', '/auth'],
      ['token_endpoint', '/token'],
      ['userinfo_endpoint', '/me'],
      ['jwks_uri', '/jwks'],
      ['end_session_endpoint', '/session/end'],
      ['revocation_endpoint', '/token/revocation'],
      ['introspection_endpoint', '/token/introspection'],
    ] as const) {
      assert.equal(d[key], `${op.issuer}${path}`, key);
    }
    assert.equal(d['authorization_response_iss_parameter_supported'], true);
    assert.deepEqual(d['code_challenge_methods_supported'], ['S256']);
    assert.deepEqual(d['response_types_supported'], ['code']);
    assert.equal(d['backchannel_logout_supported'], true);
    assert.equal(d['backchannel_logout_session_supported'], true);
    for (const s of ['openid', 'email', 'profile', 'groups']) assert.ok((d['scopes_supported'] as string[]).includes(s), s);
    assert.ok((d['claims_supported'] as string[]).includes('groups'));
  });

  it('uses the issuer host it is given, on the port it listens on', async () => {
    const other = await startOpFor(rp, { issuerHost: 'localhost' });
    try {
      assert.equal(other.issuer, `http://localhost:${other.port}`);
      const d = (await (await fetch(`${other.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(d['issuer'], other.issuer);
    } finally {
      await other.stop();
    }
  });

  it('requires PKCE: a request without code_challenge is sent back with an error and iss', async () => {
    const q = new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: rp.redirectUri, state: 's1' });
    const res = await fetch(`${op.issuer}/auth?${q}`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    const back = new URL(res.headers.get('location') ?? '');
    assert.equal(`${back.origin}${back.pathname}`, rp.redirectUri);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
    assert.equal(back.searchParams.get('iss'), op.issuer);
    assert.equal(back.searchParams.get('state'), 's1');
  });

  it('refuses a redirect_uri that is not registered, on its own error page', async () => {
    const q = new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:1/elsewhere' });
    const res = await fetch(`${op.issuer}/auth?${q}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.match(html, /Something went wrong/);
    assert.match(html, /redirect_uri/);
  });

  it('answers an interaction page without its cookie with "Sign-in expired"', async () => {
    const res = await fetch(`${op.issuer}/interaction/not-a-real-uid`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Sign-in expired/);
  });

  it('refuses an interaction cookie presented for another interaction uid', async () => {
    const start = await authorizationUrl(await discover(op), rp);
    const res = await fetch(start.url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    const uid = /^\/interaction\/([^/?]+)$/.exec(res.headers.get('location') ?? '')?.[1];
    assert.ok(uid);
    const cookie = res.headers
      .getSetCookie()
      .filter((c) => c.startsWith('_interaction='))
      .concat(res.headers.getSetCookie().filter((c) => c.startsWith('_interaction.sig=')))
      .map((c) => c.split(';')[0])
      .join('; ');
    assert.match(cookie, /_interaction=.*_interaction\.sig=/);
    const own = await fetch(`${op.issuer}/interaction/${uid}`, { headers: { cookie } });
    assert.equal(own.status, 200);
    const other = await fetch(`${op.issuer}/interaction/someone-else`, { headers: { cookie } });
    assert.equal(other.status, 400);
    assert.match(await other.text(), /Sign-in mismatch/);
    const post = await fetch(`${op.issuer}/interaction/someone-else`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=alice-demo',
    });
    assert.equal(post.status, 400);
  });

  it('shows the error on a wrong password, keeps the username, then accepts the right one', async () => {
    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      const config = await discover(op);
      const start = await authorizationUrl(config, rp);
      await page.goto(start.url.href);
      const before = op.stats.logins.length;
      const statuses: number[] = [];
      page.on('response', (r) => {
        if (r.request().method() === 'POST') statuses.push(r.status());
      });
      await submitLogin(page, 'alice@example.com', 'not-the-password');
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Wrong email or password/);
      assert.equal(await page.getByLabel('Email or username').inputValue(), 'alice@example.com');
      assert.equal(await page.getByLabel('Password').inputValue(), '');
      assert.deepEqual(statuses, [200]);
      assert.deepEqual(op.stats.logins.slice(before), [{ username: 'alice@example.com', ok: false }]);

      await page.getByLabel('Password').fill('alice-demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.href.startsWith(rp.redirectUri));
      const back = new URL(page.url());
      assert.ok(back.searchParams.get('code'));
      assert.equal(back.searchParams.get('iss'), op.issuer);
      assert.equal(back.searchParams.get('state'), start.state);
      assert.deepEqual(
        op.stats.logins.slice(before).map((l) => l.ok),
        [false, true],
      );
      assert.deepEqual(problems.consoleErrors, []);
    } finally {
      await ctx.close();
    }
  });

  it('cancel sends the browser back with access_denied', async () => {
    const ctx = await newContext(browser);
    try {
      const page = await ctx.newPage();
      const start = await authorizationUrl(await discover(op), rp);
      await page.goto(start.url.href);
      await page.getByRole('button', { name: 'Cancel sign-in' }).click();
      await page.waitForURL((u) => u.href.startsWith(rp.redirectUri));
      assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
    } finally {
      await ctx.close();
    }
  });

  it("the sign-in page reads well in light and dark (WCAG AA) in the service pages' colours", async () => {
    // The service theme's primary colour (templates/themes/kubeflow/styles.css), light and dark.
    const primary = { light: 'rgb(29, 91, 216)', dark: 'rgb(91, 147, 255)' };
    for (const colorScheme of ['light', 'dark'] as const) {
      const ctx = await browser.newContext({ viewport: PHONE, colorScheme });
      try {
        const page = await ctx.newPage();
        const start = await authorizationUrl(await discover(op), rp);
        await page.goto(start.url.href);
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        // A string: the tests compile without DOM types.
        const c = await page.evaluate<Record<'card' | 'heading' | 'label' | 'button' | 'buttonText' | 'hint' | 'hintText', string>>(`(() => {
          const style = (sel) => getComputedStyle(document.querySelector(sel));
          return {
            card: style('.card').backgroundColor,
            heading: style('h1').color,
            label: style('label').color,
            button: style('button[type=submit]').backgroundColor,
            buttonText: style('button[type=submit]').color,
            hint: style('[role=note]').backgroundColor,
            hintText: style('[role=note]').color,
          };
        })()`);
        assert.equal(c.button, primary[colorScheme], `${colorScheme}: the same primary colour as the service's pages`);
        assert.ok(contrast(c.heading, c.card) >= 7, `${colorScheme} heading ${contrast(c.heading, c.card)}`);
        assert.ok(contrast(c.label, c.card) >= 4.5, `${colorScheme} label ${contrast(c.label, c.card)}`);
        assert.ok(contrast(c.buttonText, c.button) >= 4.5, `${colorScheme} button ${contrast(c.buttonText, c.button)}`);
        assert.ok(contrast(c.hintText, c.hint) >= 4.5, `${colorScheme} hint ${contrast(c.hintText, c.hint)}`);
      } finally {
        await ctx.close();
      }
    }
  });

  it('renders the sign-in page at phone width without console errors, overflow or outside requests', async () => {
    const ctx = await newContext(browser, PHONE);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      const outside: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(op.issuer) && !r.url().startsWith('data:')) outside.push(r.url());
      });
      const start = await authorizationUrl(await discover(op), rp);
      const res = await page.goto(start.url.href);
      assert.equal(res?.status(), 200);
      assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'none'/);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assert.match(await page.locator('body').innerText(), /to continue to Demo App/);
      const hint = await page.getByRole('note').innerText();
      for (const u of op.users) {
        assert.ok(hint.includes(u.email), u.email);
        assert.ok(hint.includes(u.password), 'password shown in the hint box');
      }
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      const button = await page.getByRole('button', { name: 'Sign in' }).boundingBox();
      assert.ok(button && button.height >= 40 && button.width >= 300, 'a large tap target');
      const dir = join(projectRoot, '.build', 'screenshots');
      mkdirSync(dir, { recursive: true });
      await screenshot(page, join(dir, 'devop-login-390.png'));
      assert.deepEqual(problems.consoleErrors, []);
      assert.deepEqual(problems.failedRequests, []);
      assert.deepEqual(outside, []);
    } finally {
      await ctx.close();
    }
  });
});
