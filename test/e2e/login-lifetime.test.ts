/**
 * How long a browser session lives, with the service on an injected `ManualClock` (the provider
 * and Chromium keep real time): SESSION_MAX_AGE, SESSION_IDLE_TIMEOUT, the refresh of the
 * provider's access token (one grant for many concurrent checks), a provider that is down (the
 * session stays), and a refresh token revoked at the provider (the session ends).
 *
 * Times (seconds): sessions end 120 after login or 60 after the last request; the provider's
 * access tokens live 3700 and the refresh margin is 3600, so a token is due 100 after it was issued.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { ManualClock } from '../../src/clock.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import {
  ALICE,
  API,
  NAVIGATION,
  SESSION_COOKIE,
  echoOn,
  nextTokenRequest,
  sessionId,
  signIn,
  startLoginStack,
  tokenRequests,
  type LoginStack,
} from '../helpers/login-stack.js';
import type { Sent } from '../helpers/http-send.js';

const SECOND = 1000;

describe('browser session lifetime on an injected clock', () => {
  const clock = new ManualClock(Date.now());
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    stack = await startLoginStack({
      clock,
      ttl: { accessToken: 3700 },
      env: { SESSION_MAX_AGE: '120', SESSION_IDLE_TIMEOUT: '60', TOKEN_REFRESH_MARGIN: '3600' },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /**
   * A fresh browser signed in as alice at `path`, and its session cookie (`name=value`). Unless the
   * test keeps the page, its browser is closed before the test moves the clock: a request the page
   * makes late on its own (Chromium asks for /favicon.ico after the load) must not reach the judge
   * after the clock moved, where it would refresh the session behind the test's back.
   */
  async function signedIn(path: string, keep = false): Promise<{ page: Page; id: string; cookie: string }> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url(path));
    await signIn(page, ALICE, stack.url(path));
    const id = await sessionId(page.context(), stack.origin);
    if (!keep) await page.context().close();
    return { page, id, cookie: `${SESSION_COOKIE}=${id}` };
  }

  const api = (cookie: string): Promise<Sent> => stack.send('/api/me', { headers: { ...API, cookie } });
  const userOf = (res: Sent): string[] | undefined => (JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['kubeflow-userid'];

  /** The session still works (200 with alice's identity). */
  async function live(cookie: string): Promise<void> {
    const res = await api(cookie);
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(userOf(res), ['alice@example.com']);
  }

  /** The session is gone: a navigation goes to the provider, an API call gets 401. */
  async function ended(cookie: string): Promise<void> {
    const nav = await stack.send('/some/page', { headers: { ...NAVIGATION, cookie } });
    assert.equal(nav.status, 302);
    assert.ok(nav.headers['location']?.startsWith(`${stack.provider.issuer}/auth?`), nav.headers['location']);
    assert.equal((await api(cookie)).status, 401);
  }

  it('SESSION_MAX_AGE: the session ends at its absolute age even when used and refreshed; the next navigation signs in again', async () => {
    const { page, id, cookie } = await signedIn('/max-age?a=1', true);
    const grants = stack.app.browser.refresher.grants;
    for (const step of [40, 40, 30]) {
      clock.advance(step * SECOND); // 40, 80, 110 s: each within the idle timeout; the token is due at 100
      await live(cookie);
    }
    assert.equal(stack.app.browser.refresher.grants, grants + 1, 'refreshed at 110 s');
    clock.advance(11 * SECOND); // 121 s after login, 11 s after the last request
    await ended(cookie);

    // In the browser the next navigation goes through the provider (still signed in there) and back.
    const authorizations = stack.provider.stats.requests.get('/auth') ?? 0;
    await page.goto(stack.url('/max-age?a=2'));
    assert.equal(page.url(), stack.url('/max-age?a=2'));
    assert.equal(stack.provider.stats.requests.get('/auth'), authorizations + 1);
    assert.notEqual(await sessionId(page.context(), stack.origin), id, 'a new session');
    assert.deepEqual((await echoOn(page)).headers['kubeflow-userid'], ['alice@example.com']);
  });

  it('SESSION_IDLE_TIMEOUT: each request keeps the session alive; 60 s without one ends it', async () => {
    const { cookie } = await signedIn('/idle');
    const grants = stack.app.browser.refresher.grants;
    clock.advance(45 * SECOND);
    await live(cookie);
    clock.advance(45 * SECOND); // 90 s after login, 45 s after the last request
    await live(cookie);
    assert.equal(stack.app.browser.refresher.grants, grants, 'no refresh moved the expiry: the requests did');
    clock.advance(61 * SECOND);
    await ended(cookie);
  });

  it('refreshes a due access token once, at the next check, with the provider’s refresh_token grant', async () => {
    const { id, cookie } = await signedIn('/refresh');
    const before = await stack.app.sessions.load(id, { fresh: true });
    const count = tokenRequests(stack.provider, 'refresh_token');
    clock.advance(50 * SECOND);
    await live(cookie);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), count, 'not due yet');

    clock.advance(51 * SECOND);
    const granted = nextTokenRequest(stack.provider, 'refresh_token');
    await live(cookie);
    assert.deepEqual(await granted, { grantType: 'refresh_token', clientId: stack.config.clientId, ok: true });
    const after = await stack.app.sessions.load(id, { fresh: true });
    assert.ok(before?.accessToken && after?.accessToken && after.accessToken !== before.accessToken, 'a new access token');
    assert.ok((after?.accessExpiresAt ?? 0) > clock.now() + 3000 * SECOND);
    await live(cookie);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), count + 1, 'fresh again: no second grant');
  });

  it('20 concurrent checks of a due session make exactly one refresh grant', async () => {
    const { cookie } = await signedIn('/concurrent');
    clock.advance(50 * SECOND);
    await live(cookie);
    clock.advance(51 * SECOND);
    const count = tokenRequests(stack.provider, 'refresh_token');
    const grants = stack.app.browser.refresher.grants;
    const results = await Promise.all(Array.from({ length: 20 }, () => api(cookie)));
    assert.deepEqual(
      results.map((r) => r.status),
      Array(20).fill(200),
    );
    assert.ok(results.every((r) => userOf(r)?.[0] === 'alice@example.com'));
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), count + 1);
    assert.equal(stack.app.browser.refresher.grants, grants + 1);
  });

  it('ends the session when the provider rejects its revoked refresh token', async () => {
    const { id, cookie } = await signedIn('/revoked');
    const session = await stack.app.sessions.load(id, { fresh: true });
    const configuration = stack.app.browser.client.configuration();
    assert.ok(session?.refreshToken && configuration);
    await oidc.tokenRevocation(configuration, session.refreshToken, { token_type_hint: 'refresh_token' });
    clock.advance(50 * SECOND);
    await live(cookie); // not due: the provider is not asked
    clock.advance(51 * SECOND);
    const refused = nextTokenRequest(stack.provider, 'refresh_token');
    await ended(cookie);
    assert.deepEqual(await refused, { grantType: 'refresh_token', clientId: stack.config.clientId, ok: false, error: 'invalid_grant' });
    assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined);
  });

  it('a session ended while its refresh is in flight stays ended (the refreshed tokens are not written back)', async () => {
    const { id, cookie } = await signedIn('/ended-mid-refresh');
    const session = await stack.app.sessions.load(id, { fresh: true });
    assert.ok(session);
    clock.advance(50 * SECOND);
    await live(cookie); // within SESSION_IDLE_TIMEOUT
    clock.advance(51 * SECOND);
    // The provider has the refresh grant in hand: an operator revokes the user's sessions now
    // (the SQLite delete happens synchronously, before the grant's answer reaches the service).
    const revoked = new Promise<number>((resolve) => {
      const on = (r: { grantType: string }): void => {
        if (r.grantType !== 'refresh_token') return;
        stack.provider.events.off('token', on);
        resolve(stack.app.sessions.revoke({ iss: session.iss, sub: session.sub }));
      };
      stack.provider.events.on('token', on);
    });
    const res = await api(cookie);
    assert.ok((await revoked) >= 1, 'alice’s sessions (this one among them) ended');
    assert.equal(res.status, 401, 'the request whose refresh lost the race is not let in');
    assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, 'not resurrected by the refresh');
  });

  // Last: the provider stays down for the rest of this file.
  it('keeps the session when the provider cannot be reached for a refresh (no logout)', async () => {
    const { cookie } = await signedIn('/provider-down');
    clock.advance(50 * SECOND);
    await live(cookie);
    await stack.provider.stop();
    clock.advance(51 * SECOND);
    const grants = stack.app.browser.refresher.grants;
    await live(cookie);
    assert.ok(stack.app.browser.refresher.grants > grants, 'a refresh was attempted');
    const nav = await stack.send('/provider-down', { headers: { ...NAVIGATION, cookie } });
    assert.equal(nav.status, 200);
    await live(cookie);
  });
});
