/**
 * Step-up per route (RFC 9470), end to end against the real provider (op.ts, op-login.ts): access
 * rules that `require` an `acr`, `amr` members or a recent `auth_time`. A signed-in browser that
 * lacks the strength is sent to sign in again with `acr_values` / `max_age` (not a 403), and the
 * session made by that login passes; an API call gets 401 `insufficient_user_authentication`; a
 * bearer JWT is judged by its own claims. Time moves on an injected clock — which the provider
 * also reads for `auth_time` — never by waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { accessToken } from '../helpers/app.js';
import { HttpBrowser, type Response } from '../helpers/http-browser.js';
import { send } from '../helpers/http-send.js';
import { CALLBACK_PATH, startOpStack, type OpStack } from '../helpers/op-stack.js';

const SESSION = 'authservice_session';
const MFA = 'urn:example:mfa';
const PWD = 'urn:example:pwd';
const RULES = `
authzRules:
  - match: { path: /mfa }
    allow: { authenticated: true }
    require: { acr: [${MFA}] }
  - match: { path: /otp }
    allow: { authenticated: true }
    require: { amr: [otp] }
  - match: { path: /fresh }
    allow: { authenticated: true }
    require: { maxAge: 300 }
  - match: { path: / }
    allow: { authenticated: true }
`;

describe('step-up per route', () => {
  // The provider's own clock is the real one: ours runs behind it, so a sign-in stamped with our
  // clock's time is already older than `max_age` for the provider, which then signs the user in again.
  const clock = new ManualClock(Date.now() - 1_000_000);
  let stack: OpStack;
  before(async () => {
    stack = await startOpStack({ clock, yaml: RULES, login: { acrValues: [PWD, MFA] } });
  });
  after(() => stack.stop());

  /** Follows a login redirect through the provider and the callback; resolves with the page it came back to. */
  async function through(b: HttpBrowser, start: Response): Promise<Response> {
    assert.equal(start.status, 302, start.body.slice(0, 200));
    const { stoppedAt } = await b.follow(start.location!, (u) => u.pathname === CALLBACK_PATH);
    assert.ok(stoppedAt, 'back at the callback');
    const cb = await b.request(stoppedAt);
    assert.equal(cb.status, 302, cb.body.slice(0, 300));
    return b.request(cb.location!);
  }

  async function session(b: HttpBrowser) {
    const s = await stack.app.sessions.load(b.cookie('localhost', SESSION)!, { fresh: true });
    assert.ok(s);
    return s;
  }

  it('acr: a weaker session signs in again with acr_values, then passes; an API call gets 401 insufficient_user_authentication', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'alice', acr: PWD, amr: ['pwd'] };
    assert.equal((await through(b, await b.request(stack.url('/home')))).status, 200);
    const first = await session(b);
    assert.equal(first.acr, PWD);
    assert.deepEqual(first.amr, ['pwd']);
    assert.equal(first.authTime, Math.floor(clock.now() / 1000));

    const api = await send(stack.app.ports.ingress, '/mfa', {
      headers: { host: new URL(stack.origin).host, accept: 'application/json', cookie: `${SESSION}=${b.cookie('localhost', SESSION)}` },
    });
    assert.equal(api.status, 401);
    const challenge = String(api.headers['www-authenticate']);
    assert.match(challenge, /^Bearer realm="oidc-judge", error="insufficient_user_authentication", error_description="[^"]+"/);
    assert.match(challenge, new RegExp(`acr_values="${MFA}"`));
    assert.doesNotMatch(challenge, /max_age/);

    const signIns = stack.login.signIns;
    const nav = await b.request(stack.url('/mfa?x=1'));
    assert.equal(nav.status, 302, 'a navigation is sent to sign in again, not refused');
    assert.equal(nav.location!.searchParams.get('acr_values'), MFA);
    assert.equal(nav.location!.searchParams.get('max_age'), null);
    stack.login.next = { sub: 'alice', acr: MFA, amr: ['pwd', 'otp'] };
    const back = await through(b, nav);
    assert.equal(stack.login.signIns, signIns + 1, 'the provider signed the user in again');
    assert.equal(back.status, 200);
    assert.equal(back.url.pathname + back.url.search, '/mfa?x=1');
    assert.equal((await session(b)).acr, MFA);
    assert.equal((await b.request(stack.url('/otp'))).status, 200, 'amr holds otp now');
  });

  it('a provider that signs in without the asked-for acr: a 403, not a redirect loop', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'hank', acr: PWD };
    await through(b, await b.request(stack.url('/home')));
    const nav = await b.request(stack.url('/mfa'));
    assert.equal(nav.location?.searchParams.get('acr_values'), MFA);
    stack.login.honourAcrValues = false;
    const back = await through(b, nav).finally(() => {
      stack.login.honourAcrValues = true;
    });
    assert.equal(back.status, 403);
    assert.match(back.body, /requires a stronger sign-in than the identity provider gave/);
    assert.equal((await session(b)).stepUp?.acrValues?.[0], MFA, 'the session recorded what its login asked for');
  });

  it('amr: a session without the member signs in again (prompt=login)', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'bob', acr: PWD, amr: ['pwd'] };
    await through(b, await b.request(stack.url('/home')));
    const nav = await b.request(stack.url('/otp'));
    assert.equal(nav.status, 302);
    assert.equal(nav.location!.searchParams.get('prompt'), 'login');
    stack.login.next = { sub: 'bob', acr: PWD, amr: ['pwd', 'otp'] };
    assert.equal((await through(b, nav)).status, 200);
  });

  it('maxAge: once the sign-in is older, a navigation signs in again with max_age and the new session passes', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'carol', acr: PWD };
    await through(b, await b.request(stack.url('/home')));
    assert.equal((await b.request(stack.url('/fresh'))).status, 200);
    clock.advance(301_000);
    const nav = await b.request(stack.url('/fresh'));
    assert.equal(nav.status, 302);
    assert.equal(nav.location!.searchParams.get('max_age'), '300');
    assert.equal(nav.location!.searchParams.get('prompt'), null, 'max_age is enough');
    const back = await through(b, nav);
    assert.equal(back.status, 200);
    assert.equal((await session(b)).authTime, Math.floor(clock.now() / 1000));
  });

  it('a fixed login URL carrying acr_values (nginx error_page 401 on a step-up route) signs in strongly enough', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'gina', acr: MFA };
    const start = await b.request(stack.url(`/authservice/login?acr_values=${encodeURIComponent(MFA)}&rd=/mfa`));
    assert.equal(start.location?.searchParams.get('acr_values'), MFA);
    const back = await through(b, start);
    assert.equal(back.url.pathname, '/mfa');
    assert.equal(back.status, 200);
  });

  it('a bearer JWT is judged by its own acr and auth_time: 401 insufficient_user_authentication, or allowed', async () => {
    const host = new URL(stack.origin).host;
    const call = async (path: string, extra: Record<string, unknown>) => {
      const token = await accessToken(stack.op, 'dave@example.com', [], extra, {}, clock.now());
      return send(stack.app.ports.ingress, path, { headers: { host, accept: 'application/json', authorization: `Bearer ${token}` } });
    };
    const weak = await call('/mfa', { acr: PWD });
    assert.equal(weak.status, 401);
    assert.match(String(weak.headers['www-authenticate']), new RegExp(`error="insufficient_user_authentication".*acr_values="${MFA}"`));
    assert.equal((await call('/mfa', { acr: MFA })).status, 200);
    const now = Math.floor(clock.now() / 1000);
    const old = await call('/fresh', { auth_time: now - 301 });
    assert.equal(old.status, 401);
    assert.match(String(old.headers['www-authenticate']), /max_age="300"/);
    assert.equal((await call('/fresh', {})).status, 401, 'no auth_time: not recent enough');
    assert.equal((await call('/fresh', { auth_time: now - 10 })).status, 200);
  });
});

describe('step-up: the strength recorded at login survives a token refresh', () => {
  const clock = new ManualClock(Date.now() - 1_000_000);
  let stack: OpStack;
  before(async () => {
    // offline_access needs prompt=consent at oidc-provider: OIDC_AUTH_PARAMS adds it. Access
    // tokens live 300 s; a margin of 290 s makes one due 10 s after it was issued.
    stack = await startOpStack({
      clock,
      yaml: RULES,
      login: { acrValues: [PWD, MFA] },
      env: { OIDC_SCOPES: 'openid,email,offline_access', OIDC_AUTH_PARAMS: 'prompt=consent', TOKEN_REFRESH_MARGIN: '290' },
    });
  });
  after(() => stack.stop());

  it('after a refresh the session keeps acr, amr and auth_time, and still passes the rule without a new sign-in', async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'erin', acr: MFA, amr: ['pwd', 'otp'] };
    const start = await b.request(stack.url('/mfa'));
    assert.equal(start.location?.searchParams.get('prompt'), 'consent');
    const { stoppedAt } = await b.follow(start.location!, (u) => u.pathname === CALLBACK_PATH);
    const cb = await b.request(stoppedAt!);
    assert.equal((await b.request(cb.location!)).status, 200);
    const id = b.cookie('localhost', SESSION)!;
    const before = await stack.app.sessions.load(id, { fresh: true });
    assert.ok(before?.refreshToken, 'a refresh token');

    const grants = stack.app.browser.refresher.grants;
    const signIns = stack.login.signIns;
    clock.advance(11_000);
    assert.equal((await b.request(stack.url('/mfa'))).status, 200);
    assert.equal(stack.app.browser.refresher.grants, grants + 1, 'refreshed');
    const after = await stack.app.sessions.load(id, { fresh: true });
    assert.notEqual(after?.accessToken, before.accessToken);
    assert.deepEqual([after?.acr, after?.amr, after?.authTime], [MFA, ['pwd', 'otp'], before.authTime]);
    assert.equal(stack.login.signIns, signIns, 'no new sign-in');
  });

  it("a step-up's own prompt replaces OIDC_AUTH_PARAMS' prompt (one prompt on the wire)", async () => {
    const b = new HttpBrowser();
    stack.login.next = { sub: 'frank', acr: PWD, amr: ['pwd'] };
    const start = await b.request(stack.url('/home'));
    const { stoppedAt } = await b.follow(start.location!, (u) => u.pathname === CALLBACK_PATH);
    await b.request(stoppedAt!);
    const nav = await b.request(stack.url('/otp'));
    assert.equal(nav.status, 302);
    assert.deepEqual(nav.location!.searchParams.getAll('prompt'), ['login']);
  });
});
