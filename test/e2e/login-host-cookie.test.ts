/**
 * `SESSION_COOKIE_NAME=__Host-authservice_session` (issue 14, item 6) in real Chromium: the whole
 * login works, the session cookie is host-only, Secure, `Path=/`; the login-attempt cookies take
 * the `__Host-` prefix too; neither reaches the application. (A `__Host-` name with a Domain, a
 * Path other than `/` or Secure off is refused at start-up: test/config/cookie-prefix.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { ALICE, API, NAVIGATION, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

const NAME = '__Host-authservice_session';

describe('login with a __Host- session cookie', () => {
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    stack = await startLoginStack({ env: { SESSION_COOKIE_NAME: NAME } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs in; the session and attempt cookies are __Host- (Secure, Path=/, no Domain) and the app sees neither', async () => {
    const start = await stack.send('/hosted?x=1', { headers: NAVIGATION });
    assert.equal(start.status, 302);
    assert.equal(start.headers['set-cookie']?.length, 1);
    assert.match(
      start.headers['set-cookie']![0]!,
      /^__Host-oidc_state_csrf_[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=600$/,
    );

    const context = await newContext(browser);
    const page = await context.newPage();
    const target = stack.url('/hosted?x=1');
    await page.goto(target);
    const attempts = (await context.cookies(stack.origin)).filter((c) => c.name.startsWith('__Host-oidc_state_csrf_'));
    assert.equal(attempts.length, 1, 'Chromium kept the __Host- attempt cookie');
    await page.getByLabel('Email or username').fill(ALICE.email);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(target);

    const cookies = await context.cookies(stack.origin);
    const session = cookies.find((c) => c.name === NAME);
    assert.ok(session, 'Chromium kept the __Host- session cookie');
    assert.equal(session.secure, true);
    assert.equal(session.path, '/');
    assert.equal(session.domain, 'localhost');
    assert.deepEqual(
      cookies.filter((c) => c.name.includes('oidc_state_csrf')),
      [],
      'the spent attempt cookie was cleared',
    );

    const res = await stack.send('/api/me', { headers: { ...API, cookie: `${NAME}=${session.value}; __Host-oidc_state_csrf_AAAAAAAA=x; a=1` } });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body) as { headers: Record<string, string[]> };
    assert.deepEqual(seen.headers['kubeflow-userid'], [ALICE.email]);
    assert.deepEqual(seen.headers['cookie'], ['a=1']);
    await context.close();
  });
});
