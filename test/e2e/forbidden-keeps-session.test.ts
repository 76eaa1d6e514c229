/**
 * A 403 no longer signs the user out (issue 14, item 4). oidc-authservice ended the session of any
 * user an authorizer refused, so a link from another site to a forbidden path signed them out, and
 * the 403 page's "log in again" landed the same user on the same 403. Now the session stays — on
 * the HTTP judge (Envoy `http_service` convention), over gRPC ext_authz and through the built-in
 * forwarder — and the 403 page's "Sign in with another account" (a same-origin POST that ends the
 * session, then a login with `prompt`) lets Chromium sign in as someone else and come back to the
 * refused page. `REVOKE_SESSION_ON_FORBIDDEN=true` restores the old behaviour.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { JudgeClient } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { send, type Sent } from '../helpers/http-send.js';
import { ALICE, BOB, NAVIGATION, SESSION_COOKIE, sessionId, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { switchPrompt } from '../../src/oidc/switch-account.js';

/** /admin is for the admins group (alice); every other path for anyone signed in (bob too). */
const RULES = `
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { groups: [admins] }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;

/** A link followed from another site: a top-level navigation, cross-site. */
const FROM_ELSEWHERE = { ...NAVIGATION, 'sec-fetch-site': 'cross-site', referer: 'https://elsewhere.example/' };

async function signedInAs(browser: Browser, stack: LoginStack, user: typeof BOB, path: string): Promise<{ page: Page; id: string }> {
  const page = await (await newContext(browser)).newPage();
  await page.goto(stack.url(path));
  await signIn(page, user);
  await page.waitForURL(stack.url(path));
  return { page, id: await sessionId(page.context(), stack.origin) };
}

describe('a 403 keeps the session (default)', () => {
  let stack: LoginStack;
  let browser: Browser;
  let grpc: JudgeClient;

  before(async () => {
    stack = await startLoginStack({ yaml: RULES });
    browser = await launchBrowser();
    grpc = new JudgeClient(stack.app.ports.grpc);
  });
  after(async () => {
    grpc?.close();
    await browser?.close();
    await stack?.stop();
  });

  const judge = (path: string, headers: Record<string, string>): Promise<Sent> =>
    send(stack.app.ports.http, path, { headers: { host: `localhost:${stack.port}`, ...headers } });

  it('HTTP judge: a guest following a link to a forbidden path gets 403, and the next allowed request is still 200', async () => {
    const { page, id } = await signedInAs(browser, stack, BOB, '/reports');
    await page.context().close();
    const cookie = `${SESSION_COOKIE}=${id}`;
    const refused = await judge('/admin/users', { ...FROM_ELSEWHERE, cookie });
    assert.equal(refused.status, 403);
    assert.doesNotMatch(String(refused.headers['set-cookie'] ?? ''), /authservice_session=;/, 'the session cookie is not cleared');
    const next = await judge('/reports', { ...NAVIGATION, cookie });
    assert.equal(next.status, 200);
    assert.equal(next.headers['kubeflow-userid'], 'bob@example.com');
    assert.ok(await stack.app.sessions.load(id, { fresh: true }), 'the session is in the store');
  });

  it('gRPC ext_authz: 403 on the forbidden path, then OK with the identity on an allowed one', async () => {
    const { page, id } = await signedInAs(browser, stack, BOB, '/grpc-start');
    await page.context().close();
    const target = { host: `localhost:${stack.port}`, scheme: 'http' };
    const cookie = `${SESSION_COOKIE}=${id}`;
    const refused = await grpc.check('/admin', { ...FROM_ELSEWHERE, cookie }, target);
    assert.equal(refused.denied_response?.status?.code, 403);
    const next = await grpc.check('/reports', { ...NAVIGATION, cookie }, target);
    assert.equal(next.status.code, 0);
    assert.ok(next.ok_response?.headers.some((h) => h.header.key === 'kubeflow-userid' && h.header.value === 'bob@example.com'));
  });

  it('Chromium: the 403 page keeps bob signed in; "Sign in with another account" ends his session and brings alice back to the refused page', async () => {
    const { page, id: bobSession } = await signedInAs(browser, stack, BOB, '/');
    const refused = page.waitForResponse((r) => r.url() === stack.url('/admin?tab=users') && r.request().isNavigationRequest());
    await page.goto(stack.url('/admin?tab=users'));
    assert.equal((await refused).status(), 403);
    await page.getByRole('heading', { name: 'Access denied' }).waitFor();
    assert.equal(await sessionId(page.context(), stack.origin), bobSession, 'the cookie is kept');
    assert.ok(await stack.app.sessions.load(bobSession, { fresh: true }), 'bob is still signed in');

    const authorization = page.waitForRequest((r) => r.url().startsWith(`${stack.provider.issuer}/auth?`));
    await page.getByRole('button', { name: 'Sign in with another account' }).click();
    const asked = new URL((await authorization).url());
    assert.equal(asked.searchParams.get('prompt'), switchPrompt(stack.app.browser.client.metadata));
    await signIn(page, ALICE);
    await page.waitForURL(stack.url('/admin?tab=users'));
    await page.getByText('alice@example.com').first().waitFor();
    assert.equal(await stack.app.sessions.load(bobSession, { fresh: true }), undefined, "bob's session was ended");
    const aliceSession = await sessionId(page.context(), stack.origin);
    assert.notEqual(aliceSession, bobSession);
    assert.equal((await stack.app.sessions.load(aliceSession, { fresh: true }))?.user, 'alice@example.com');
  });

  it('the switch through Envoy’s front doors (HTTP judge, gRPC): a 302 to the provider with prompt and one Set-Cookie, the session ended', async () => {
    const sameOrigin = { origin: stack.origin, 'sec-fetch-site': 'same-origin', accept: 'text/html' };
    const target = { host: `localhost:${stack.port}`, scheme: 'http', method: 'POST' };
    const doors: [string, (cookie: string) => Promise<{ status: number | undefined; location: string; setCookies: string[] }>][] = [
      [
        'HTTP judge',
        async (cookie) => {
          const r = await send(stack.app.ports.http, '/authservice/switch-account?rd=%2Fadmin', {
            method: 'POST',
            headers: { host: `localhost:${stack.port}`, ...sameOrigin, cookie },
          });
          return { status: r.status, location: String(r.headers['location']), setCookies: [r.headers['set-cookie'] ?? []].flat() };
        },
      ],
      [
        'gRPC',
        async (cookie) => {
          const r = await grpc.check('/authservice/switch-account?rd=%2Fadmin', { ...sameOrigin, cookie }, target);
          const headers = r.denied_response?.headers ?? [];
          return {
            status: r.denied_response?.status?.code,
            location: headers.find((h) => h.header.key === 'location')?.header.value ?? '',
            setCookies: headers.filter((h) => h.header.key === 'set-cookie').map((h) => h.header.value),
          };
        },
      ],
    ];
    for (const [door, post] of doors) {
      const { page, id } = await signedInAs(browser, stack, BOB, `/door-${door.replace(/\W/g, '')}`);
      await page.context().close();
      const r = await post(`${SESSION_COOKIE}=${id}`);
      assert.equal(r.status, 302, door);
      const location = new URL(r.location);
      assert.equal(location.origin + location.pathname, `${stack.provider.issuer}/auth`, door);
      assert.equal(location.searchParams.get('prompt'), 'login', `${door}: the development provider lists no prompt_values_supported`);
      // One Set-Cookie per deny through a proxy: the login attempt's; the dead session cookie finds nothing.
      assert.equal(r.setCookies.length, 1, `${door}: ${r.setCookies.join(' | ')}`);
      assert.doesNotMatch(r.setCookies[0]!, /^authservice_session=/);
      assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, `${door}: the session ended`);
    }
  });

  it('the switch is a protected logout: a cross-site POST is refused (403) and the session stays', async () => {
    const { page, id } = await signedInAs(browser, stack, BOB, '/csrf');
    await page.context().close();
    const cookie = `${SESSION_COOKIE}=${id}`;
    for (const headers of [
      { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { cookie, origin: 'https://evil.example' },
      { cookie },
    ]) {
      const r = await stack.send('/authservice/switch-account?rd=%2Fadmin', { method: 'POST', headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
    }
    assert.ok(await stack.app.sessions.load(id, { fresh: true }), 'still signed in');
    assert.equal((await stack.send('/csrf', { headers: { ...NAVIGATION, cookie } })).status, 200);
  });

  it('the switch returns only to a safe target: rd on another origin comes back to the site root, signed in as the new user', async () => {
    const { page, id } = await signedInAs(browser, stack, BOB, '/rd');
    // A page of ours posts the switch with a hostile rd (as a tampered 403 page would).
    const action = `/authservice/switch-account?rd=${encodeURIComponent('https://evil.example/x')}`;
    await page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = ${JSON.stringify(action)};
      document.body.append(form);
      form.submit();
    })()`);
    await signIn(page, ALICE);
    await page.waitForURL(stack.url('/'));
    await page.getByText('alice@example.com').first().waitFor();
    assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, 'bob was signed out');
  });
});

describe('REVOKE_SESSION_ON_FORBIDDEN=true: the old behaviour', () => {
  let stack: LoginStack;
  let browser: Browser;
  let grpc: JudgeClient;

  before(async () => {
    stack = await startLoginStack({ yaml: RULES, env: { REVOKE_SESSION_ON_FORBIDDEN: 'true' } });
    browser = await launchBrowser();
    grpc = new JudgeClient(stack.app.ports.grpc);
  });
  after(async () => {
    grpc?.close();
    await browser?.close();
    await stack?.stop();
  });

  it('a 403 over HTTP, gRPC or the forwarder ends the session: the same cookie then gets a login redirect', async () => {
    const target = { host: `localhost:${stack.port}`, scheme: 'http' };
    const doors: [string, (cookie: string) => Promise<number | undefined>][] = [
      [
        'HTTP judge',
        async (cookie) => (await send(stack.app.ports.http, '/admin', { headers: { host: `localhost:${stack.port}`, ...FROM_ELSEWHERE, cookie } })).status,
      ],
      ['gRPC', async (cookie) => (await grpc.check('/admin', { ...FROM_ELSEWHERE, cookie }, target)).denied_response?.status?.code],
      ['forwarder', async (cookie) => (await stack.send('/admin', { headers: { ...FROM_ELSEWHERE, cookie } })).status],
    ];
    for (const [door, refuse] of doors) {
      const { page, id } = await signedInAs(browser, stack, BOB, `/${door.replace(/\W/g, '')}`);
      await page.context().close();
      const cookie = `${SESSION_COOKIE}=${id}`;
      assert.equal(await refuse(cookie), 403, door);
      assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, `${door}: the session was ended`);
      const next = await stack.send('/reports', { headers: { ...NAVIGATION, cookie } });
      assert.equal(next.status, 302, door);
      assert.ok(String(next.headers['location']).startsWith(`${stack.provider.issuer}/auth?`), door);
    }
  });
});
