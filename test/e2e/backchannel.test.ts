/**
 * OpenID Back-Channel Logout end to end: real Chromium, the development OpenID Provider (a real
 * `oidc-provider` with back-channel logout) with our client's `backchannel_logout_uri` registered,
 * and the assembled service behind its forwarder. A logout that starts at the provider (RP-initiated
 * logout there, not at our logout route) reaches us as a logout token and ends our sessions:
 * with `backchannel_logout_session_required` only the session of that provider session (`sid`),
 * without it every session of the user (`sub`). SESSION_CACHE_TTL is long: only invalidation
 * can explain a session ending.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { ALICE, API, BACKCHANNEL_PATH, nextBackchannel, sessionId, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

async function signedIn(browser: Browser, stack: LoginStack): Promise<{ page: Page; id: string }> {
  const page = await (await newContext(browser)).newPage();
  await page.goto(stack.url('/'));
  await signIn(page, ALICE, stack.url('/'));
  return { page, id: await sessionId(page.context(), stack.origin) };
}

/** Logs `page`'s browser out at the provider (end_session with the session's ID token as hint: no confirmation). */
async function logoutAtProvider(page: Page, stack: LoginStack, id: string): Promise<void> {
  const session = await stack.app.sessions.load(id, { fresh: true });
  assert.ok(session?.idToken, 'the session keeps its ID token');
  const end = new URL(`${stack.provider.issuer}/session/end`);
  end.searchParams.set('id_token_hint', session.idToken);
  await page.goto(end.href);
}

/** Status of an API request to the app with this session cookie (200 signed in, 401 not). */
async function statusWith(stack: LoginStack, id: string): Promise<number> {
  return (await stack.send('/api/who', { headers: { ...API, cookie: `authservice_session=${id}` } })).status;
}

describe('back-channel logout with sid (backchannel_logout_session_required)', () => {
  let stack: LoginStack;
  let browser: Browser;
  before(async () => {
    stack = await startLoginStack({ backchannel: { sessionRequired: true }, env: { SESSION_CACHE_TTL: '300' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a logout at the provider ends the session of that provider session, and only that one', async () => {
    const first = await signedIn(browser, stack);
    const second = await signedIn(browser, stack);
    assert.equal(await statusWith(stack, first.id), 200);
    assert.equal(await statusWith(stack, second.id), 200);
    const stored = await stack.app.sessions.load(first.id);
    assert.ok(stored?.sid, 'the ID token carried a sid');

    const delivered = nextBackchannel(stack.provider);
    await logoutAtProvider(first.page, stack, first.id);
    const record = await delivered;
    assert.equal(record.ok, true, record.error);
    assert.equal(record.sid, stored.sid);

    assert.equal(await statusWith(stack, first.id), 401, 'the first browser is signed out');
    assert.equal(await stack.app.sessions.load(first.id, { fresh: true }), undefined);
    assert.equal(await statusWith(stack, second.id), 200, 'the other provider session goes on');
  });

  it('a forged logout token through the front is refused (400) and ends nothing', async () => {
    const { id } = await signedIn(browser, stack);
    const session = await stack.app.sessions.load(id);
    assert.ok(session?.idToken);
    // An ID token of this very user, signed by the provider: still not a logout token.
    const res = await stack.send(BACKCHANNEL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: session.idToken }).toString(),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(JSON.parse(res.body).error, 'invalid_request');
    assert.equal(await statusWith(stack, id), 200);
  });
});

describe('back-channel logout with sub only', () => {
  let stack: LoginStack;
  let browser: Browser;
  before(async () => {
    stack = await startLoginStack({ backchannel: { sessionRequired: false }, env: { SESSION_CACHE_TTL: '300' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a logout at the provider ends every session of the user', async () => {
    const first = await signedIn(browser, stack);
    const second = await signedIn(browser, stack);
    assert.equal(await statusWith(stack, second.id), 200);
    assert.equal((await stack.app.sessions.load(first.id))?.sid, undefined, 'no sid in the ID token: the provider sends sub only');
    const delivered = nextBackchannel(stack.provider);
    await logoutAtProvider(first.page, stack, first.id);
    const record = await delivered;
    assert.equal(record.ok, true, record.error);
    assert.equal(await statusWith(stack, first.id), 401);
    assert.equal(await statusWith(stack, second.id), 401, 'the same user in another browser is signed out too');
  });
});
