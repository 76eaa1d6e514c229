/**
 * Regression tests for the login-attempt cookies and the login-failed page:
 * - two tabs of a fresh browser starting a login at the same instant each get their own attempt
 *   cookie, so both sign-ins complete and land on their own original URLs (before per-attempt
 *   cookies, the second Set-Cookie overwrote the first and the first tab's callback failed);
 * - every start sets exactly one sealed attempt cookie, and a browser never holds more than
 *   `MAX_ATTEMPT_COOKIES` (the oldest one's name is reused);
 * - the binding holds: a callback with another browser's cookies is a 400, and does not spend
 *   the attempt; once spent, it is refused as already used;
 * - the login-failed page shows the real status and its "Try again" goes to the page the user
 *   wanted (validated), else to the homepage;
 * - the per-attempt cookies never reach the application.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Response } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { ALICE, API, CALLBACK_PATH, echoOn, NAVIGATION, sessionId, signIn, SESSION_COOKIE, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

const BINDING = /^oidc_state_csrf(?:_[A-Za-z0-9_-]+)?$/;
const ATTEMPT_COOKIE = /^(oidc_state_csrf_[A-Za-z0-9_-]{8})=([A-Za-z0-9_-]+); Path=\/; .*; Max-Age=600$/;
const otherBrowserValue = (): string => randomBytes(32).toString('base64url');

describe('login: concurrent tabs and the browser binding', () => {
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    stack = await startLoginStack();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A login start over raw HTTP: its state and its single Set-Cookie. */
  async function start(path: string, cookie?: string): Promise<{ state: string; setCookie: string[] }> {
    const res = await stack.send(path, { headers: { ...NAVIGATION, ...(cookie !== undefined ? { cookie } : {}) } });
    assert.equal(res.status, 302);
    const state = new URL(String(res.headers.location)).searchParams.get('state');
    assert.ok(state);
    return { state, setCookie: res.headers['set-cookie'] ?? [] };
  }

  it('two tabs of a fresh browser starting at the same instant both sign in and land on their own URLs', async () => {
    const context = await newContext(browser);
    const starts: Response[] = [];
    context.on('response', (r) => {
      const u = new URL(r.url());
      if (u.origin === stack.origin && (u.pathname === '/tab-one' || u.pathname === '/tab-two') && r.status() === 302) starts.push(r);
    });
    const [one, two] = [await context.newPage(), await context.newPage()];
    const targets = [stack.url('/tab-one?x=1'), stack.url('/tab-two')] as const;
    await Promise.all([one.goto(targets[0]), two.goto(targets[1])]);

    // Each start set its own attempt cookie (one Set-Cookie each, per-attempt names).
    assert.equal(starts.length, 2);
    const names = await Promise.all(starts.map(async (r) => /^([^=]+)=/.exec((await r.headerValue('set-cookie')) ?? '')?.[1]));
    for (const n of names) assert.match(n ?? '', /^oidc_state_csrf_[A-Za-z0-9_-]{8}$/);
    assert.notEqual(names[0], names[1]);

    await signIn(one, ALICE, targets[0]);
    await signIn(two, ALICE, targets[1]);
    assert.equal((await echoOn(one)).url, '/tab-one?x=1');
    assert.equal((await echoOn(two)).url, '/tab-two');
    // The spent attempt cookies were cleared by the callbacks.
    assert.deepEqual(
      (await context.cookies(stack.origin)).filter((c) => BINDING.test(c.name)),
      [],
    );

    // The application never sees them, even if a browser sent one to it.
    const session = `${SESSION_COOKIE}=${await sessionId(context, stack.origin)}`;
    const res = await stack.send('/api/me', { headers: { ...API, cookie: `oidc_state_csrf_Ab3x=v; ${session}; a=1; oidc_state_csrf=w` } });
    assert.equal(res.status, 200);
    assert.deepEqual((JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['cookie'], ['a=1']);
    await context.close();
  });

  it("every start sets exactly one sealed attempt cookie; a browser holding the most gets the oldest one's name reused", async () => {
    const fresh = await start('/reports?q=secret-query');
    assert.equal(fresh.setCookie.length, 1);
    const cookie = fresh.setCookie[0]!;
    const [, name, value] = ATTEMPT_COOKIE.exec(cookie) ?? [];
    assert.ok(name && value, cookie);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.ok(fresh.state.endsWith('.' + name.slice('oidc_state_csrf_'.length)), 'the state names its cookie');
    for (const hidden of [fresh.state.split('.')[0]!, 'secret-query', 'reports']) assert.ok(!cookie.includes(hidden), `the cookie shows ${hidden}`);

    // Five pending attempts (the most kept): a sixth start overwrites the oldest, still one Set-Cookie.
    const jar = new Map<string, string>();
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await start(`/tab-${i}`, [...jar].map(([n, v]) => `${n}=${v}`).join('; ') || undefined);
      assert.equal(s.setCookie.length, 1);
      const [, n, v] = ATTEMPT_COOKIE.exec(s.setCookie[0]!) ?? [];
      jar.set(n!, v!);
      names.push(n!);
    }
    assert.equal(new Set(names.slice(0, 5)).size, 5, 'five distinct attempts');
    assert.equal(names[5], names[0], "the sixth reuses the oldest one's name");
    assert.equal(jar.size, 5);
  });

  it('still refuses a callback carrying another browser\'s attempt cookies (400, "Try again" to the homepage), without spending the attempt', async () => {
    const mine = await start('/reports?q=1');
    const myCookie = mine.setCookie[0]!.split(';')[0]!;
    const myName = myCookie.split('=')[0]!;
    const callback = `${CALLBACK_PATH}?code=not-used&state=${encodeURIComponent(mine.state)}&iss=${encodeURIComponent(stack.provider.issuer)}`;
    const other = `oidc_state_csrf=${otherBrowserValue()}; ${myName}=${otherBrowserValue()}; oidc_state_csrf_zzzz=${otherBrowserValue()}`;
    const refused = await stack.send(callback, { headers: { ...NAVIGATION, cookie: other } });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /started in another browser/);
    assert.match(refused.body, /Error 400/);
    assert.match(refused.body, /href="http:\/\/localhost:\d+\/authservice\/site\/homepage">Try again/);
    assert.ok(!refused.body.includes('/reports'), "another browser's target is not shown");
    assert.equal(refused.headers['set-cookie'], undefined);

    // The attempt is still this browser's to finish (the code here is fake, so the provider refuses
    // the exchange — but the state was spent: single use from then on).
    const mineAgain = await stack.send(callback, { headers: { ...NAVIGATION, cookie: myCookie } });
    assert.doesNotMatch(mineAgain.body, /started in another browser/, 'the refused callback did not spend the attempt');
    const late = await stack.send(callback, { headers: { ...NAVIGATION, cookie: myCookie } });
    assert.equal(late.status, 400, 'single use');
    assert.match(late.body, /already used/);
  });

  it('the login-failed page shows its real status and "Try again" returns to the page the user wanted', async () => {
    const page = await (await newContext(browser)).newPage();
    const wanted = stack.url('/reports?q=1&r=2');
    await page.goto(wanted);
    const callback = page.waitForResponse((r) => new URL(r.url()).pathname === CALLBACK_PATH);
    await page.getByRole('button', { name: 'Cancel sign-in' }).click();
    assert.equal((await callback).status(), 403);
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    assert.equal((await page.locator('.eyebrow').textContent())?.trim(), 'Error 403');
    const retry = page.getByRole('link', { name: 'Try again' });
    assert.equal(await retry.getAttribute('href'), wanted);
    await retry.click();
    await page.getByLabel('Email or username').waitFor();
    await signIn(page, ALICE, wanted);
    await page.context().close();
  });
});
