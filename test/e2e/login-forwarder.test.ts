/**
 * The browser login through the built-in ingress forwarder, with real Chromium, the development
 * OpenID Provider and the assembled service: back at the original URL, identity upstream but never
 * our cookies, cookie attributes, API clients get 401, several tabs, replayed / foreign / cancelled
 * callbacks, browser logout through the provider, and logout CSRF refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import {
  AFTER_LOGOUT_PATH,
  ALICE,
  API,
  CALLBACK_PATH,
  NAVIGATION,
  SESSION_COOKIE,
  callbackUrlFor,
  echoOn,
  sessionCookie,
  sessionId,
  signIn,
  startLoginStack,
  type LoginStack,
} from '../helpers/login-stack.js';

/** No stack frames, no exception names: what a failure page must never show. */
const STACK_TRACE = /\n\s+at |Error:|TypeError|\.ts:\d+|\.js:\d+/;

describe('browser login through the ingress forwarder', () => {
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    stack = await startLoginStack({ env: { LOGOUT_AT_PROVIDER: 'true' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function freshPage(): Promise<Page> {
    return (await newContext(browser)).newPage();
  }

  /** Goes to `path` (without a session: to the provider's sign-in form) and signs alice in. */
  async function signedIn(path = '/'): Promise<Page> {
    const page = await freshPage();
    await page.goto(stack.url(path));
    await signIn(page, ALICE, stack.url(path));
    return page;
  }

  it('sends a navigation to the provider and back to the original URL, query included; the upstream sees the identity, never our cookies', async () => {
    const page = await freshPage();
    await page.context().addCookies([{ name: 'app_pref', value: 'dark', url: stack.origin }]);
    await page.goto(stack.url('/some/page?x=1&y=2'));
    assert.ok(page.url().startsWith(`${stack.provider.issuer}/interaction/`), page.url());
    const callback = page.waitForRequest((r) => new URL(r.url()).pathname === CALLBACK_PATH);
    await signIn(page, ALICE, stack.url('/some/page?x=1&y=2'));

    const echo = await echoOn(page);
    assert.equal(echo.url, '/some/page?x=1&y=2');
    assert.deepEqual(echo.headers['kubeflow-userid'], ['alice@example.com']);
    assert.deepEqual(echo.headers['kubeflow-groups'], ['admins,staff']);
    assert.deepEqual(echo.headers['auth-method'], ['cookie']);
    assert.match(echo.headers['cookie']?.join('; ') ?? '', /\bapp_pref=dark\b/, 'other cookies reach the upstream');
    for (const seen of stack.seen) {
      assert.doesNotMatch(seen.headers['cookie']?.join('; ') ?? '', /authservice_session=|oidc_state_csrf=/, `${seen.url} got our cookies`);
    }

    const cookie = await sessionCookie(page.context(), stack.origin);
    assert.ok(cookie, 'a session cookie is set');
    assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Lax', '/']);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43,}$/);

    // The callback URL is single use: replaying it shows the themed failure page, and the session stays.
    const replay = await page.goto((await callback).url());
    assert.equal(replay?.status(), 400);
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    assert.match(await page.locator('body').innerText(), /already used/);
    assert.ok(await page.locator('link[rel=stylesheet][href*="/authservice/site/themes/"]').count(), 'the page is themed');
    const again = await page.goto(stack.url('/some/page?again=1'));
    assert.equal(again?.status(), 200);
    assert.deepEqual((await echoOn(page)).headers['kubeflow-userid'], ['alice@example.com']);
  });

  it('answers an API request without a session with 401 JSON, not a redirect', async () => {
    const page = await freshPage();
    const home = await page.goto(stack.url('/authservice/site/homepage'));
    assert.equal(home?.status(), 200);
    const res = await page.evaluate(async () => {
      const r = await fetch('/api/items', { headers: { accept: 'application/json' }, redirect: 'manual' });
      return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
    });
    assert.equal(res.status, 401);
    assert.match(res.type ?? '', /^application\/json/);
    assert.equal((JSON.parse(res.body) as { error: string }).error, 'unauthenticated');

    const raw = await stack.send('/api/items', { headers: API });
    assert.equal(raw.status, 401);
    assert.equal(raw.headers['location'], undefined);
  });

  it('lets two tabs sign in at once, each landing on its own original URL', async () => {
    const one = await freshPage();
    const two = await one.context().newPage();
    await one.goto(stack.url('/tabs/one?n=1'));
    await two.goto(stack.url('/tabs/two?n=2'));
    assert.ok(one.url().startsWith(stack.provider.issuer) && two.url().startsWith(stack.provider.issuer));
    await signIn(one, ALICE, stack.url('/tabs/one?n=1'));
    await signIn(two, ALICE, stack.url('/tabs/two?n=2'));
    assert.equal((await echoOn(two)).url, '/tabs/two?n=2');
    await one.reload();
    assert.deepEqual((await echoOn(one)).headers['kubeflow-userid'], ['alice@example.com']);
  });

  it('refuses a callback carried into another browser (login CSRF): 400, no session there', async () => {
    // The attacker signs in to their own account and keeps the callback URL for someone else.
    const attacker = await freshPage();
    await attacker.goto(stack.url('/mine'));
    const url = await callbackUrlFor(attacker, ALICE);
    assert.ok(url.searchParams.get('code') && url.searchParams.get('state'));

    const victim = await freshPage();
    await victim.goto(stack.url('/theirs')); // the victim has a login attempt (and binding cookie) of its own
    const res = await victim.goto(url.href);
    assert.equal(res?.status(), 400);
    await victim.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    assert.equal(await sessionCookie(victim.context(), stack.origin), undefined);
  });

  it('shows a themed page without a stack trace when the user cancels at the provider (access_denied)', async () => {
    const page = await freshPage();
    await page.goto(stack.url('/cancelled'));
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === CALLBACK_PATH);
    await page.getByRole('button', { name: 'Cancel sign-in' }).click();
    const res = await response;
    assert.equal(new URL(res.url()).searchParams.get('error'), 'access_denied');
    assert.equal(res.status(), 403);
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    const text = await page.locator('body').innerText();
    assert.match(text, /cancelled or denied/);
    assert.doesNotMatch(await page.content(), STACK_TRACE);
    assert.equal(await sessionCookie(page.context(), stack.origin), undefined);
  });

  it('signs out with the app’s button through the provider to the after-logout page; the old cookie is refused afterwards', async () => {
    const page = await signedIn('/');
    await page.getByRole('heading', { name: /Signed in as/ }).waitFor();
    const old = await sessionId(page.context(), stack.origin);
    const logouts = stack.provider.stats.logouts;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(stack.url(AFTER_LOGOUT_PATH));
    await page.getByRole('heading', { name: /successfully logged out/ }).waitFor();
    assert.equal(stack.provider.stats.logouts, logouts + 1, 'the provider session ended too');
    assert.equal(await sessionCookie(page.context(), stack.origin), undefined, 'the cookie is cleared');

    const cookie = `${SESSION_COOKIE}=${old}`;
    const nav = await stack.send('/', { headers: { ...NAVIGATION, cookie } });
    assert.equal(nav.status, 302);
    assert.ok(nav.headers['location']?.startsWith(`${stack.provider.issuer}/auth?`), nav.headers['location']);
    const api = await stack.send('/api/items', { headers: { ...API, cookie } });
    assert.equal(api.status, 401);
  });

  it('refuses a cross-site logout POST (401) and the session keeps working', async () => {
    const page = await signedIn('/csrf');
    const cookie = `${SESSION_COOKIE}=${await sessionId(page.context(), stack.origin)}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    const byOrigin = await stack.send('/authservice/logout', { method: 'POST', headers: { ...form, origin: 'http://evil.example' }, body: '' });
    assert.equal(byOrigin.status, 401);
    const bySite = await stack.send('/authservice/logout', {
      method: 'POST',
      headers: { ...form, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
      body: '',
    });
    assert.equal(bySite.status, 401);
    assert.equal(bySite.headers['set-cookie'], undefined, 'the cookie is not cleared');

    const still = await stack.send('/api/items', { headers: { ...API, cookie } });
    assert.equal(still.status, 200);
    assert.deepEqual((JSON.parse(still.body) as { headers: Record<string, string[]> }).headers['kubeflow-userid'], ['alice@example.com']);
  });
});
