import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { IdTokenAuthenticator, type IdTokenConfig } from '../../src/authn/id-token.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { IssuerRegistry, type IssuerKeys, type IssuerStatus } from '../../src/oidc/issuers.js';
import { capturingLogger, requestWith, secs } from '../helpers/bearer.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const ALGS = ['RS256', 'ES256', 'PS256'];

class CountingKeys implements IssuerKeys {
  calls = 0;
  constructor(private readonly inner: IssuerKeys) {}
  status(iss: string): IssuerStatus {
    this.calls++;
    return this.inner.status(iss);
  }
}

describe('IdTokenAuthenticator against a real OpenID Provider', () => {
  let op: TestOp;
  let extra: TestOp;
  let registry: IssuerRegistry;
  let base: IdTokenConfig;
  const regClock = new ManualClock(Date.now());
  const http = new HttpClient({ timeoutMs: 3000 });

  before(async () => {
    op = await startOp();
    extra = await startOp();
    base = {
      idTokenHeader: 'Authorization',
      oidcProvider: op.issuer,
      clientId: op.clientId,
      jwtAlgorithms: ALGS,
      jwtLeeway: 30,
      userIdClaim: 'email',
      groupsClaim: 'groups',
    };
    registry = new IssuerRegistry(
      { oidcProvider: op.issuer, jwtIssuers: [extra.issuer], discoveryRetryInterval: 10, jwksRefreshInterval: 300, jwksMinRefetchInterval: 30 },
      { http, clock: regClock, log: capturingLogger().log },
    );
    assert.equal(await registry.discovery(op.issuer)!.attempt(), true);
    assert.equal(await registry.discovery(extra.issuer)!.attempt(), true);
  });
  after(async () => {
    registry.stop();
    await op.stop();
    await extra.stop();
    http.close();
  });

  function setup(over: Partial<IdTokenConfig> = {}, issuers: IssuerKeys = registry) {
    const clock = new ManualClock(Date.now());
    const { log, lines } = capturingLogger();
    const authn = new IdTokenAuthenticator({ ...base, ...over }, { clock, issuers, log });
    const claims = (more: JWTPayload = {}): JWTPayload => ({
      sub: 'u-2',
      email: 'bob@example.com',
      aud: op.clientId,
      iat: secs(clock.now()),
      exp: secs(clock.now()) + 300,
      ...more,
    });
    const check = async (token: string): Promise<AuthnOutcome> => authn.authenticate(requestWith({ authorization: `Bearer ${token}` }));
    return { authn, clock, lines, claims, check };
  }

  const invalid = (o: AuthnOutcome, reason?: RegExp): void => {
    assert.equal(o.kind, 'invalid', JSON.stringify(o));
    if (o.kind === 'invalid' && reason) assert.match(o.reason, reason);
  };

  test('valid RS256 and ES256 ID tokens authenticate; groups are optional', async () => {
    const { check, claims, lines } = setup();
    for (const alg of ['RS256', 'ES256'] as const) {
      const token = await op.sign(claims(), { alg });
      const o = await check(token);
      assert.equal(o.kind, 'ok', `${alg}: ${JSON.stringify(o)}`);
      if (o.kind !== 'ok') continue;
      assert.equal(o.identity.user, 'bob@example.com');
      assert.deepEqual(o.identity.groups, []);
      assert.equal(o.identity.authenticator, 'id_token');
      assert.equal(o.identity.method, 'header');
      assert.equal(o.identity.token, token);
      assert.ok(!lines.join('\n').includes(token));
    }
    const withGroups = await check(await op.sign(claims({ groups: ['g1'], aud: ['other', op.clientId], azp: op.clientId })));
    assert.equal(withGroups.kind === 'ok' && withGroups.identity.groups.join(), 'g1');
  });

  test('OIDC Core 3.1.3.7: several audiences need azp = CLIENT_ID; an azp, when present, must be CLIENT_ID (401 otherwise)', async () => {
    const { check, claims } = setup();
    const ok = [
      {},
      { azp: op.clientId },
      { aud: [op.clientId] },
      { aud: [op.clientId], azp: op.clientId },
      { aud: [op.clientId, 'other'], azp: op.clientId },
      { aud: ['other', op.clientId], azp: op.clientId },
    ];
    for (const c of ok) assert.equal((await check(await op.sign(claims(c)))).kind, 'ok', JSON.stringify(c));
    invalid(await check(await op.sign(claims({ aud: [op.clientId, 'other'] }))), /several audiences and no "azp"/);
    invalid(await check(await op.sign(claims({ aud: [op.clientId, op.clientId] }))), /several audiences and no "azp"/);
    for (const c of [
      { aud: [op.clientId, 'other'], azp: 'other' },
      { azp: 'other' },
      { aud: [op.clientId], azp: 'other' },
      { azp: op.clientId.toUpperCase() },
      { azp: [op.clientId] },
      { azp: null },
      { azp: '' },
    ]) {
      invalid(await check(await op.sign(claims(c))), /"azp" claim is not this client/);
    }
  });

  test('malformed groups are treated as missing, never a crash', async () => {
    const { check, claims } = setup();
    for (const groups of [42, { a: 1 }, ['x', null], '']) {
      const o = await check(await op.sign(claims({ groups })));
      assert.equal(o.kind === 'ok' && o.identity.groups.length, 0, JSON.stringify(groups));
    }
  });

  test('not mine → none: another audience, another issuer (even a JWT_ISSUERS one), not a JWT', async () => {
    const { check, claims } = setup();
    assert.equal((await check(await op.sign(claims({ aud: 'istio-ingressgateway.istio-system.svc.cluster.local' })))).kind, 'none');
    assert.equal((await check(await extra.sign(claims({ iss: extra.issuer })))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ iss: 'https://evil.example' })))).kind, 'none');
    assert.equal((await check('opaque')).kind, 'none');
  });

  test('an access token (typ at+jwt) whose audience is the client is not taken as an ID token', async () => {
    const { check, claims } = setup();
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) assert.equal((await check(await op.sign(claims(), { header: { typ } }))).kind, 'none', typ);
    assert.equal((await check(await op.sign(claims(), { header: { typ: 'JWT' } }))).kind, 'ok');
  });

  test('mine but bad → invalid (401), not a login redirect: expired, nbf, alg none, HS256 with the public key', async () => {
    const { check, claims, clock } = setup();
    const now = secs(clock.now());
    invalid(await check(await op.sign(claims({ exp: now - 31 }))), /expired/);
    assert.equal((await check(await op.sign(claims({ exp: now - 29 })))).kind, 'ok', 'within the leeway');
    invalid(await check(await op.sign(claims({ nbf: now + 31 }))), /nbf/);
    invalid(await check(new UnsecuredJWT(claims({ iss: op.issuer })).encode()), /algorithm/);
    const rsa = op.keys.find((k) => k.alg === 'RS256')!;
    const secret = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    invalid(await check(await new SignJWT(claims({ iss: op.issuer })).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(secret)), /algorithm/);
  });

  test('missing or non-string user id claim → invalid', async () => {
    const { check, claims } = setup();
    const { email: _e, ...noEmail } = claims();
    invalid(await check(await op.sign(noEmail)), /"email"/);
    invalid(await check(await op.sign(claims({ email: 1 }))), /"email"/);
    invalid(await check(await op.sign(claims({ email: null }))), /"email"/);
  });

  test('a back-channel logout token (aud = client id) is never a credential', async () => {
    const { check, clock } = setup();
    const logout = {
      aud: op.clientId,
      iat: secs(clock.now()),
      exp: secs(clock.now()) + 120,
      jti: 'l-1',
      sub: 'u-2',
      email: 'bob@example.com',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    };
    invalid(await check(await op.sign(logout, { header: { typ: 'logout+jwt' } })), /logout/);
  });

  test('unknown kid → invalid after one refetch', async () => {
    const { check, claims } = setup();
    regClock.advance(31_000);
    const before = op.jwksRequests;
    invalid(await check(await op.sign(claims(), { key: await newKey('ES256') })), /signing key/);
    assert.equal(op.jwksRequests - before, 1);
  });

  test('a key published after start-up is found by the unknown-kid refetch', async () => {
    const { check, claims } = setup();
    const k = await newKey('RS256');
    op.rotate([...op.keys, k]);
    regClock.advance(31_000);
    assert.equal((await check(await op.sign(claims(), { key: k }))).kind, 'ok');
  });

  test('provider down after warm-up: tokens still verify with the last good keys', async () => {
    const { check, claims } = setup();
    assert.equal((await check(await op.sign(claims({ jti: 'a' })))).kind, 'ok');
    await op.stop();
    try {
      const st = registry.status(op.issuer);
      if (st.state === 'ready') assert.equal(await st.jwks.refresh(), false);
      assert.equal((await check(await op.sign(claims({ jti: 'b' })))).kind, 'ok');
    } finally {
      await op.restart();
    }
  });

  test('token cache: verified once until exp, then verified again', async () => {
    const counting = new CountingKeys(registry);
    const { check, claims, clock } = setup({}, counting);
    const token = await op.sign(claims({ exp: secs(clock.now()) + 10 }));
    assert.equal((await check(token)).kind, 'ok');
    assert.equal((await check(token)).kind, 'ok');
    assert.equal(counting.calls, 1);
    clock.advance(10_000);
    assert.equal((await check(token)).kind, 'ok', 'within the leeway');
    assert.equal(counting.calls, 2);
    clock.advance(40_000);
    invalid(await check(token), /expired/);
  });
});
