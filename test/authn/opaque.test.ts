import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OpaqueTokenAuthenticator, normalizeUserinfo, type OpaqueConfig } from '../../src/authn/opaque.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { Discovery } from '../../src/oidc/discovery.js';
import { capturingLogger, requestWith } from '../helpers/bearer.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { ALICE, BASIC, BOB, startOpaqueOp, type OpaqueOp } from './opaque-op.js';

const USERINFO = '/me';

describe('OpaqueTokenAuthenticator (ACCESS_TOKEN_AUTHN=opaque) against the development provider', () => {
  let op: OpaqueOp;
  let discovery: Discovery;
  const http = new HttpClient({ timeoutMs: 3000 });
  let base: OpaqueConfig;

  before(async () => {
    op = await startOpaqueOp();
    discovery = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log });
    assert.equal(await discovery.attempt(), true);
    base = {
      idTokenHeader: 'Authorization',
      oidcProvider: op.issuer,
      clientId: BASIC.id,
      idtokenAuthnEnabled: true,
      userIdClaim: 'email',
      groupsClaim: 'groups',
      cacheEnabled: false,
      cacheExpirationMinutes: 5,
    };
  });
  after(async () => {
    await op.stop();
    http.close();
  });

  /** `metadata`: what discovery found (`null`: not discovered yet). */
  function setup(over: Partial<OpaqueConfig> = {}, metadata: Readonly<Record<string, unknown>> | null = discovery.metadata!) {
    const clock = new ManualClock(Date.now());
    const { log, lines } = capturingLogger();
    const authn = new OpaqueTokenAuthenticator({ ...base, ...over }, { discovery: { metadata: metadata ?? undefined }, http, clock, log });
    const check = async (token: string, header = 'authorization'): Promise<AuthnOutcome> => authn.authenticate(requestWith({ [header]: `Bearer ${token}` }));
    return { authn, clock, lines, check };
  }

  test('a valid token: the userinfo claims, USERID_CLAIM as the user, GROUPS_CLAIM as the groups', async () => {
    const { check } = setup();
    const { accessToken } = await op.issue(ALICE);
    assert.doesNotMatch(accessToken, /\./, 'the provider issues opaque access tokens');
    const out = await check(accessToken);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    if (out.kind !== 'ok') return;
    assert.equal(out.identity.user, 'alice@example.com');
    assert.deepEqual(out.identity.groups, ['admins', 'staff']);
    assert.equal(out.identity.method, 'header');
    assert.equal(out.identity.authenticator, 'access_token');
    assert.equal(out.identity.claims['email_verified'], true);
    assert.equal(out.identity.token, accessToken);
  });

  test('a real refresh token presented as a bearer → 401 invalid_token: userinfo takes access tokens only, never cached', async () => {
    const { check, authn } = setup({ cacheEnabled: true });
    const { refreshToken } = await op.issue(ALICE);
    assert.ok(refreshToken, 'the provider issued a refresh token');
    const n = op.requests(USERINFO);
    const out = await check(refreshToken);
    assert.deepEqual(out, { kind: 'invalid', reason: 'the provider rejected the token (userinfo 401)', error: 'invalid_token', fallThrough: true });
    assert.equal(op.requests(USERINFO), n + 1);
    assert.equal(authn.cacheSize, 0);
  });

  test('USERID_CLAIM can be any string claim; ID_TOKEN_HEADER is where the bearer is read', async () => {
    const { check } = setup({ userIdClaim: 'preferred_username', idTokenHeader: 'X-Access-Token' });
    const { accessToken } = await op.issue(BOB);
    const out = await check(accessToken, 'x-access-token');
    assert.equal(out.kind === 'ok' && out.identity.user, 'bob');
    assert.equal((await check(accessToken, 'authorization')).kind, 'none', 'not in the configured header');
  });

  test('a token whose userinfo lacks GROUPS_CLAIM or USERID_CLAIM → 401 (as oidc-authservice)', async () => {
    const { check } = setup();
    const { accessToken } = await op.issue(ALICE, 'openid email');
    const out = await check(accessToken);
    assert.equal(out.kind, 'invalid');
    assert.match(out.kind === 'invalid' ? out.reason : '', /"groups"/);
    const noEmail = setup({ userIdClaim: 'department' });
    const out2 = await noEmail.check((await op.issue(ALICE)).accessToken);
    assert.match(out2.kind === 'invalid' ? out2.reason : '', /"department"/);
  });

  test('a token the provider rejects (revoked) → 401 invalid_token that a later authenticator may still override', async () => {
    const { check, lines } = setup();
    const { accessToken } = await op.issue(ALICE);
    await op.revoke(accessToken);
    const out = await check(accessToken);
    assert.deepEqual(out, { kind: 'invalid', reason: 'the provider rejected the token (userinfo 401)', error: 'invalid_token', fallThrough: true });
    assert.ok(!lines.join('').includes(accessToken), 'the token is never logged');
  });

  test('JWTs of other issuers and ID tokens for this client are not sent to the provider', async () => {
    const other: TestOp = await startOp();
    try {
      const { check } = setup();
      const before = op.requests(USERINFO);
      const foreign = await other.sign({ sub: 'x', email: 'x@example.com', groups: [], exp: Math.floor(Date.now() / 1000) + 60 });
      assert.equal((await check(foreign)).kind, 'none');
      const { idToken } = await op.issue(ALICE);
      assert.equal((await check(idToken)).kind, 'none', 'left to the id_token authenticator');
      assert.equal(op.requests(USERINFO), before, 'userinfo was not asked');
      // With the ID-token authenticator off, an ID token of our provider goes (and is refused there).
      const sent = await setup({ idtokenAuthnEnabled: false }).check(idToken);
      assert.equal(sent.kind, 'invalid');
      assert.equal(op.requests(USERINFO), before + 1);
    } finally {
      await other.stop();
    }
  });

  test('CACHE_ENABLED=false: every check asks the provider, but concurrent checks of one token share a call', async () => {
    const { check, authn } = setup();
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests(USERINFO);
    await check(accessToken);
    await check(accessToken);
    assert.equal(op.requests(USERINFO), n + 2);
    const outs = await Promise.all(Array.from({ length: 5 }, () => check(accessToken)));
    assert.ok(outs.every((o) => o.kind === 'ok'));
    assert.equal(op.requests(USERINFO), n + 3);
    assert.equal(authn.cacheSize, 0);
  });

  test('CACHE_ENABLED: an answer is reused for CACHE_EXPIRATION_MINUTES, then asked again; rejections are never cached', async () => {
    const { check, clock, authn } = setup({ cacheEnabled: true, cacheExpirationMinutes: 1 });
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests(USERINFO);
    assert.equal((await check(accessToken)).kind, 'ok');
    assert.equal(authn.cacheSize, 1);
    clock.advance(59_000);
    assert.equal((await check(accessToken)).kind, 'ok');
    assert.equal(op.requests(USERINFO), n + 1, 'the second check came from the cache');
    // Revoked meanwhile: the cached answer stands until the entry ends (documented), then 401.
    await op.revoke(accessToken);
    clock.advance(2_000);
    assert.equal((await check(accessToken)).kind, 'invalid');
    assert.equal(op.requests(USERINFO), n + 2);
    assert.equal((await check(accessToken)).kind, 'invalid');
    assert.equal(op.requests(USERINFO), n + 3, 'a rejection is not cached');
  });

  test('provider not discovered yet, or not advertising userinfo → unavailable (503), never an allow', async () => {
    const { accessToken } = await op.issue(ALICE);
    assert.deepEqual(await setup({}, null).check(accessToken), { kind: 'unavailable', reason: 'provider not discovered yet' });
    const { userinfo_endpoint: _gone, ...noUserinfo } = discovery.metadata!;
    assert.equal((await setup({}, noUserinfo).check(accessToken)).kind, 'unavailable');
  });

  test('email_verified as a boolean, "true"/"false", or absent; anything else is refused', () => {
    assert.deepEqual(normalizeUserinfo({ email_verified: 'true' }), { email_verified: true });
    assert.deepEqual(normalizeUserinfo({ email_verified: 'false' }), { email_verified: false });
    assert.deepEqual(normalizeUserinfo({ email_verified: false }), { email_verified: false });
    assert.deepEqual(normalizeUserinfo({ sub: 'x' }), { sub: 'x' });
    assert.equal(normalizeUserinfo({ email_verified: 1 }), 'malformed "email_verified" claim');
  });
});

describe('OpaqueTokenAuthenticator when the provider fails', () => {
  let server: Server;
  let status = 500;
  let base: string;
  const http = new HttpClient({ timeoutMs: 3000 });
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      res
        .writeHead(status, { 'content-type': 'application/json', ...(status === 302 ? { location: 'http://elsewhere.invalid/me' } : {}) })
        .end(status === 200 ? '["not an object"]' : '{"error":"server_error"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    server.closeAllConnections();
    http.close();
  });

  const config: OpaqueConfig = {
    idTokenHeader: 'Authorization',
    oidcProvider: 'https://idp.example.com',
    clientId: 'c',
    idtokenAuthnEnabled: true,
    userIdClaim: 'email',
    groupsClaim: 'groups',
    cacheEnabled: true,
    cacheExpirationMinutes: 5,
  };
  const check = (userinfo: string, client: HttpClient = http): Promise<AuthnOutcome> | AuthnOutcome => {
    const { log } = capturingLogger();
    const md = { issuer: config.oidcProvider, jwks_uri: `${base}/jwks`, userinfo_endpoint: userinfo };
    const authn = new OpaqueTokenAuthenticator(config, { discovery: { metadata: md }, http: client, clock: new ManualClock(), log });
    return authn.authenticate(requestWith({ authorization: 'Bearer some-opaque-token' }));
  };

  test('5xx → unavailable', async () => {
    status = 500;
    assert.deepEqual(await check(`${base}/me`), { kind: 'unavailable', reason: 'userinfo answered 500' });
    status = 503;
    assert.equal((await check(`${base}/me`)).kind, 'unavailable');
  });

  test('404 (a misconfigured endpoint) and a body that is not a JSON object → unavailable', async () => {
    status = 404;
    assert.equal((await check(`${base}/me`)).kind, 'unavailable');
    status = 200;
    assert.match(JSON.stringify(await check(`${base}/me`)), /unavailable.*JSON object/);
  });

  test('a redirect is not followed with the bearer (the service builds this client with maxRedirects 0) → unavailable', async () => {
    status = 302;
    const noRedirects = new HttpClient({ maxRedirects: 0 });
    try {
      assert.deepEqual(await check(`${base}/me`, noRedirects), { kind: 'unavailable', reason: 'userinfo answered 302' });
    } finally {
      noRedirects.close();
    }
  });

  test('nobody listening → unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.deepEqual(await check(`http://127.0.0.1:${port}/me`), { kind: 'unavailable', reason: 'userinfo: network' });
  });
});
