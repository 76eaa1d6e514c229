/**
 * Kubeflow ≥ 1.9 behind the judge instead of oauth2-proxy (`set_authorization_header = true`):
 * every request a session vouches for reaches the upstream with `Authorization: Bearer <id_token>`
 * that Istio `RequestAuthentication` would accept — signed by the provider's published keys,
 * `iss` the provider, `aud` the client id — and still valid once the provider's short ID-token
 * lifetime has passed, because the judge refreshed the session first (FORWARD_TOKEN_MIN_TTL).
 * When a refresh brings no new ID token, the old one goes on while valid, then the session fails
 * closed; so does a session without a refresh token.
 *
 * The judge runs on an injected `ManualClock`; the provider (the real `oidc-provider`) keeps real
 * time but measures its ID-token lifetime on the same injected clock (its TTL is asked at every
 * issue), so "120 s later" holds for both. Tokens are checked with jose at the judge's time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errors } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { JudgeClient, optionValue } from '../helpers/app.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { bearerToken as bearer, requestAuthentication, type IstioJwtCheck } from '../helpers/istio-jwt.js';
import { send, type Sent } from '../helpers/http-send.js';
import { ALICE, API, CALLBACK_PATH, CLIENT_ID, NAVIGATION, SESSION_COOKIE, startLoginStack, tokenRequests, type LoginStack } from '../helpers/login-stack.js';

const SECOND = 1000;
const ID_TOKEN_LIFETIME = 120;

/** A stack whose ID tokens live ID_TOKEN_LIFETIME seconds of `clock`, forwarding them as Kubeflow needs. */
function kubeflowStack(clock: ManualClock, extra: { noIdTokenOnRefresh?: boolean; env?: Record<string, string> } = {}): Promise<LoginStack> {
  return startLoginStack({
    clock,
    ttl: { idToken: () => ID_TOKEN_LIFETIME + Math.round((clock.now() - Date.now()) / SECOND) },
    env: { FORWARD_ID_TOKEN_HEADER: 'Authorization', FORWARD_TOKEN_MIN_TTL: '60', ...extra.env },
    ...(extra.noIdTokenOnRefresh ? { noIdTokenOnRefresh: true } : {}),
  });
}

/** Signs alice in with plain HTTP requests; resolves with her `Cookie` value. */
async function signedIn(stack: LoginStack): Promise<string> {
  const b = new HttpBrowser();
  const start = await b.request(stack.url('/authservice/login?rd=/'));
  const cb = await b.signInAt(start.location!, ALICE, CALLBACK_PATH);
  const done = await b.request(cb);
  assert.equal(done.status, 302, done.body);
  const id = b.cookie('localhost', SESSION_COOKIE);
  assert.ok(id);
  return `${SESSION_COOKIE}=${id}`;
}

/** What the upstream received for one API call (a forged Authorization of the client's own included). */
async function upstreamAuthorization(stack: LoginStack, cookie: string): Promise<string[] | undefined> {
  const res = await stack.send('/api/me', { headers: { ...API, cookie, authorization: 'Bearer forged-by-the-client' } });
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['authorization'];
}

describe('Kubeflow ≥ 1.9: the session’s ID token forwarded as Authorization: Bearer', () => {
  const clock = new ManualClock(Date.now());
  let stack: LoginStack;
  /** Istio RequestAuthentication's check, at the judge's time. */
  let verify: IstioJwtCheck;

  before(async () => {
    stack = await kubeflowStack(clock);
    verify = await requestAuthentication(stack.provider.issuer, CLIENT_ID, () => clock.now());
  });
  after(() => stack?.stop());

  it('reaches the upstream with a verifiable ID token (forwarder, HTTP and gRPC doors), and a fresh one after the ID token’s lifetime', async () => {
    const cookie = await signedIn(stack);
    const first = bearer(await upstreamAuthorization(stack, cookie));
    const { payload } = await verify(first);
    assert.equal(payload['email'], ALICE.email);

    // The HTTP door (Envoy http_service) answers the same header on its allow.
    const door: Sent = await send(stack.app.ports.http, '/api/me', { headers: { host: `localhost:${stack.port}`, ...API, cookie } });
    assert.equal(door.status, 200);
    assert.equal(door.headers['authorization'], `Bearer ${first}`);
    // And the gRPC door (Envoy / Istio ext_authz): set in ok_response, the client's replaced.
    const grpc = new JudgeClient(stack.app.ports.grpc);
    try {
      const checked = await grpc.check('/api/me', { ...API, cookie, authorization: 'Bearer forged' }, { host: `localhost:${stack.port}`, scheme: 'http' });
      assert.equal(optionValue(checked.ok_response?.headers, 'authorization'), `Bearer ${first}`);
    } finally {
      grpc.close();
    }

    const grants = tokenRequests(stack.provider, 'refresh_token');
    clock.advance((ID_TOKEN_LIFETIME + 10) * SECOND);
    await assert.rejects(verify(first), errors.JWTExpired, 'the first ID token has expired by now');
    const second = bearer(await upstreamAuthorization(stack, cookie));
    assert.notEqual(second, first);
    const fresh = await verify(second);
    assert.ok((fresh.payload.exp ?? 0) * SECOND - clock.now() > 60 * SECOND, 'more than FORWARD_TOKEN_MIN_TTL left');
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1, 'one refresh');
    assert.equal(bearer(await upstreamAuthorization(stack, cookie)), second, 'fresh: no second refresh');
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1);
  });

  it('20 concurrent checks of a session whose ID token expired make one refresh, and all carry the new token', async () => {
    const cookie = await signedIn(stack);
    const first = bearer(await upstreamAuthorization(stack, cookie));
    clock.advance((ID_TOKEN_LIFETIME + 10) * SECOND);
    const grants = tokenRequests(stack.provider, 'refresh_token');
    const seen = await Promise.all(Array.from({ length: 20 }, () => upstreamAuthorization(stack, cookie)));
    const tokens = new Set(seen.map(bearer));
    assert.equal(tokens.size, 1, 'one token for all');
    assert.ok(!tokens.has(first));
    await verify([...tokens][0]!);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1);
  });

  it('never forwards on a skipped path, and a client’s own Authorization does not get through there either', async () => {
    const cookie = await signedIn(stack);
    const res = await stack.send('/authservice/site/homepage', { headers: { ...NAVIGATION, cookie, authorization: 'Bearer forged' } });
    assert.equal(res.status, 200);
    const skipped = stack.seen.filter((s) => s.url.startsWith('/authservice/'));
    assert.ok(skipped.every((s) => s.headers['authorization'] === undefined));
  });

  it('a session without a refresh token forwards its ID token while valid, then fails closed: navigation → sign-in, API → 401', async () => {
    const cookie = await signedIn(stack);
    const id = cookie.slice(SESSION_COOKIE.length + 1);
    const s = await stack.app.sessions.load(id, { fresh: true });
    assert.ok(s?.refreshToken);
    const { refreshToken: _gone, ...withoutRefresh } = s;
    assert.ok(await stack.app.sessions.update(id, withoutRefresh));
    const token = bearer(await upstreamAuthorization(stack, cookie));
    clock.advance(70 * SECOND); // within FORWARD_TOKEN_MIN_TTL: nothing to refresh with, still valid
    assert.equal(bearer(await upstreamAuthorization(stack, cookie)), token);
    clock.advance(60 * SECOND); // expired
    const api = await stack.send('/api/me', { headers: { ...API, cookie } });
    assert.equal(api.status, 401);
    const nav = await stack.send('/some/page', { headers: { ...NAVIGATION, cookie } });
    assert.equal(nav.status, 302);
    assert.ok(nav.headers['location']?.startsWith(`${stack.provider.issuer}/auth?`), nav.headers['location']);
  });
});

describe('a provider that sends no new ID token on refresh', () => {
  const clock = new ManualClock(Date.now());
  let stack: LoginStack;
  before(async () => {
    stack = await kubeflowStack(clock, { noIdTokenOnRefresh: true });
  });
  after(() => stack?.stop());

  it('keeps the old ID token while it is valid (one refresh, not one per check), then fails closed', async () => {
    const cookie = await signedIn(stack);
    const first = bearer(await upstreamAuthorization(stack, cookie));
    const grants = tokenRequests(stack.provider, 'refresh_token');
    clock.advance(70 * SECOND); // within FORWARD_TOKEN_MIN_TTL: refreshed, but no ID token came back
    assert.equal(bearer(await upstreamAuthorization(stack, cookie)), first);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1);
    clock.advance(10 * SECOND);
    assert.equal(bearer(await upstreamAuthorization(stack, cookie)), first);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1, 'not asked again');
    clock.advance(50 * SECOND); // the kept ID token has expired
    assert.equal((await stack.send('/api/me', { headers: { ...API, cookie } })).status, 401);
    const nav = await stack.send('/some/page', { headers: { ...NAVIGATION, cookie } });
    assert.equal(nav.status, 302);
    assert.ok(nav.headers['location']?.startsWith(`${stack.provider.issuer}/auth?`));
  });
});

describe('a forwarded ID token that expired while the provider is down', () => {
  const clock = new ManualClock(Date.now());
  let stack: LoginStack;
  before(async () => {
    stack = await kubeflowStack(clock);
  });
  after(() => stack?.stop());

  it('is never sent: the check answers 503 (not a sign-in, not an allow) until the provider answers', async () => {
    const cookie = await signedIn(stack);
    bearer(await upstreamAuthorization(stack, cookie));
    const seen = stack.seen.length;
    await stack.provider.stop();
    clock.advance((ID_TOKEN_LIFETIME + 10) * SECOND);
    assert.equal((await stack.send('/api/me', { headers: { ...API, cookie } })).status, 503);
    assert.equal((await stack.send('/some/page', { headers: { ...NAVIGATION, cookie } })).status, 503);
    assert.equal(stack.seen.length, seen, 'nothing reached the upstream');
  });
});

describe('a forwarded access token (FORWARD_ACCESS_TOKEN_HEADER)', () => {
  const clock = new ManualClock(Date.now());
  let stack: LoginStack;
  before(async () => {
    stack = await startLoginStack({
      clock,
      ttl: { accessToken: () => 120 + Math.round((clock.now() - Date.now()) / SECOND) },
      // No refresh margin of its own: only the forwarded token's minimum TTL asks for one.
      env: { FORWARD_ACCESS_TOKEN_HEADER: 'X-Auth-Request-Access-Token', FORWARD_TOKEN_MIN_TTL: '60', TOKEN_REFRESH_MARGIN: '0' },
    });
  });
  after(() => stack?.stop());

  const accessSeen = async (cookie: string): Promise<string[] | undefined> => {
    const res = await stack.send('/api/me', { headers: { ...API, cookie, 'x-auth-request-access-token': 'forged' } });
    assert.equal(res.status, 200, res.body);
    return (JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['x-auth-request-access-token'];
  };

  it('goes upstream raw, and is renewed once it would expire within FORWARD_TOKEN_MIN_TTL', async () => {
    const cookie = await signedIn(stack);
    const id = cookie.slice(SESSION_COOKIE.length + 1);
    const first = await accessSeen(cookie);
    assert.deepEqual(first, [(await stack.app.sessions.load(id, { fresh: true }))?.accessToken]);
    clock.advance(30 * SECOND); // 90 s left
    assert.deepEqual(await accessSeen(cookie), first);
    const grants = tokenRequests(stack.provider, 'refresh_token');
    clock.advance(40 * SECOND); // 50 s left
    const second = await accessSeen(cookie);
    assert.notDeepEqual(second, first);
    assert.deepEqual(second, [(await stack.app.sessions.load(id, { fresh: true }))?.accessToken]);
    assert.equal(tokenRequests(stack.provider, 'refresh_token'), grants + 1);
  });
});
