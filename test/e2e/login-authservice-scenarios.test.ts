/**
 * oidc-authservice's own end-to-end scenarios (its e2e/ suite against Dex, see §7 of the
 * reference) against our service configured as there (GROUPS_ALLOWLIST, STRICT_SESSION_VALIDATION,
 * REVOKE_SESSION_ON_FORBIDDEN): users sign in with Chromium at the
 * development provider, then the checks go raw to the judge's HTTP port in Envoy's `http_service`
 * convention (any path; 200 = allow), as Envoy would send them — and once over gRPC ext_authz,
 * where the login redirect and the callback travel as denied responses with one Set-Cookie each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { JudgeClient, optionValue } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { send, type Sent } from '../helpers/http-send.js';
import {
  ALICE,
  BOB,
  CALLBACK_PATH,
  NAVIGATION,
  SESSION_COOKIE,
  callbackUrlFor,
  sessionId,
  signIn,
  startLoginStack,
  type LoginStack,
} from '../helpers/login-stack.js';
import type { DemoUser } from '../../src/demo/users.js';

describe('oidc-authservice e2e scenarios (GROUPS_ALLOWLIST=admins, STRICT_SESSION_VALIDATION=true, REVOKE_SESSION_ON_FORBIDDEN=true)', () => {
  let stack: LoginStack;
  let browser: Browser;
  let grpc: JudgeClient;

  before(async () => {
    // REVOKE_SESSION_ON_FORBIDDEN: oidc-authservice signed a refused user out (our default keeps the session).
    stack = await startLoginStack({ env: { GROUPS_ALLOWLIST: 'admins', STRICT_SESSION_VALIDATION: 'true', REVOKE_SESSION_ON_FORBIDDEN: 'true' } });
    browser = await launchBrowser();
    grpc = new JudgeClient(stack.app.ports.grpc);
  });
  after(async () => {
    grpc?.close();
    await browser?.close();
    await stack?.stop();
  });

  /** A check on the judge's HTTP port, for the host the browser uses. */
  const judge = (path: string, headers: Record<string, string>, method = 'GET'): Promise<Sent> =>
    send(stack.app.ports.http, path, { method, headers: { host: `localhost:${stack.port}`, ...headers } });

  /** Signs `user` in with a fresh browser at `path`; the page shows what the app answered then. */
  async function signedIn(user: DemoUser, path: string): Promise<{ page: Page; status: number | undefined; id: string }> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url(path));
    const landing = await signIn(page, user, stack.url(path));
    return { page, status: landing.status(), id: await sessionId(page.context(), stack.origin) };
  }

  const loginRedirect = (res: Sent): void => {
    assert.equal(res.status, 302, res.body);
    assert.ok(res.headers['location']?.startsWith(`${stack.provider.issuer}/auth?`), res.headers['location']);
  };

  it('TestDexLogin: a user in an allowed group gets 200 with the identity', async () => {
    const { status, id } = await signedIn(ALICE, '/');
    assert.equal(status, 200);
    const res = await judge('/', { ...NAVIGATION, cookie: `${SESSION_COOKIE}=${id}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(res.headers['kubeflow-groups'], 'admins,staff');
    assert.equal(res.headers['auth-method'], 'cookie');
  });

  it('TestDexLogin: a user in no allowed group gets 403, and the same cookie then gets a login redirect (the session was revoked)', async () => {
    const { page, status, id } = await signedIn(BOB, '/notebooks');
    assert.equal(status, 403);
    await page.getByRole('heading', { name: 'Access denied' }).waitFor();
    assert.match(await page.locator('body').innerText(), /You are signed in as bob@example\.com\./);
    loginRedirect(await judge('/notebooks', { ...NAVIGATION, cookie: `${SESSION_COOKIE}=${id}` }));
  });

  it('TestLogout: the cookie alone gets 401; Authorization: Bearer <cookie value> gets 201 with afterLogoutURL; the old cookie then gets a login redirect', async () => {
    const { id } = await signedIn(ALICE, '/');
    const cookie = `${SESSION_COOKIE}=${id}`;
    const cookieOnly = await judge('/authservice/logout', { cookie }, 'POST');
    assert.equal(cookieOnly.status, 401);
    assert.equal((await judge('/', { ...NAVIGATION, cookie })).status, 200, 'still signed in');

    const res = await judge('/authservice/logout', { cookie, authorization: `Bearer ${id}` }, 'POST');
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(JSON.parse(res.body), { afterLogoutURL: '/authservice/site/after_logout' });
    const cleared = [res.headers['set-cookie'] ?? []].flat();
    assert.equal(cleared.length, 1);
    assert.match(cleared[0]!, /^authservice_session=; Path=\/; Max-Age=0/);
    loginRedirect(await judge('/', { ...NAVIGATION, cookie }));
  });

  it('TestStrictSessionValidation: once the provider no longer honours the session’s access token, the same cookie gets a login redirect', async () => {
    const { id } = await signedIn(ALICE, '/strict');
    const cookie = `${SESSION_COOKIE}=${id}`;
    assert.equal((await judge('/strict', { ...NAVIGATION, cookie })).status, 200);
    const session = await stack.app.sessions.load(id, { fresh: true });
    const configuration = stack.app.browser.client.configuration();
    assert.ok(session?.accessToken && configuration);
    await oidc.tokenRevocation(configuration, session.accessToken, { token_type_hint: 'access_token' });
    loginRedirect(await judge('/strict', { ...NAVIGATION, cookie }));
    assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, 'the session was ended');
  });

  it('over gRPC ext_authz, the login redirect and the callback are denied responses with exactly one Set-Cookie', async () => {
    const target = { host: `localhost:${stack.port}`, scheme: 'http' };
    const start = await grpc.check('/grpc/page?x=1', { ...NAVIGATION }, target);
    assert.equal(start.denied_response?.status?.code, 302);
    const startHeaders = start.denied_response?.headers ?? [];
    const location = optionValue(startHeaders, 'location') ?? '';
    assert.ok(location.startsWith(`${stack.provider.issuer}/auth?`), location);
    assert.equal(new URL(location).searchParams.get('redirect_uri'), stack.url(CALLBACK_PATH));
    const binding = startHeaders.filter((h) => h.header.key.toLowerCase() === 'set-cookie').map((h) => h.header.value);
    assert.equal(binding.length, 1);
    const bindingCookie = /^(oidc_state_csrf_[A-Za-z0-9_-]+=[^;]+)/.exec(binding[0]!)?.[1];
    assert.ok(bindingCookie, binding[0]);

    // The browser carries the binding cookie Envoy would have passed on, and signs in at the provider.
    const page = await (await newContext(browser)).newPage();
    const [name, value] = bindingCookie.split('=') as [string, string];
    await page.context().addCookies([{ name, value, url: stack.origin }]);
    await page.goto(location);
    const callback = await callbackUrlFor(page, ALICE);

    const done = await grpc.check(callback.pathname + callback.search, { ...NAVIGATION, cookie: bindingCookie }, target);
    assert.equal(done.denied_response?.status?.code, 302);
    const doneHeaders = done.denied_response?.headers ?? [];
    assert.equal(optionValue(doneHeaders, 'location'), stack.url('/grpc/page?x=1'));
    const session = doneHeaders.filter((h) => h.header.key.toLowerCase() === 'set-cookie').map((h) => h.header.value);
    assert.equal(session.length, 1);
    assert.match(session[0]!, /^authservice_session=[A-Za-z0-9_-]+; Path=\/;.* HttpOnly/);

    const ok = await grpc.check('/grpc/page?x=1', { ...NAVIGATION, cookie: session[0]!.split(';')[0]! }, target);
    assert.equal(ok.status.code, 0);
    assert.equal(optionValue(ok.ok_response?.headers, 'kubeflow-userid'), 'alice@example.com');
    assert.equal(optionValue(ok.ok_response?.headers, 'auth-method'), 'cookie');
  });
});
