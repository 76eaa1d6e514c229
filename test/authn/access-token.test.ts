import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { AccessTokenAuthenticator, type AccessTokenConfig } from '../../src/authn/access-token.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { IssuerRegistry, type IssuerKeys, type IssuerStatus } from '../../src/oidc/issuers.js';
import { capturingLogger, requestWith, secs } from '../helpers/bearer.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const AUD = 'istio-ingressgateway.istio-system.svc.cluster.local';
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Counts how often the authenticator asks for an issuer's keys (once per signature verification). */
class CountingKeys implements IssuerKeys {
  calls = 0;
  constructor(private readonly inner: IssuerKeys) {}
  status(iss: string): IssuerStatus {
    this.calls++;
    return this.inner.status(iss);
  }
}

describe('AccessTokenAuthenticator (ACCESS_TOKEN_AUTHN=jwt) against a real OpenID Provider', () => {
  let op: TestOp;
  let op2: TestOp;
  let registry: IssuerRegistry;
  let base: AccessTokenConfig;
  const regClock = new ManualClock(Date.now());
  const http = new HttpClient({ timeoutMs: 3000 });

  before(async () => {
    op = await startOp({ accessTokenClaims: { email: 'svc@example.com', groups: ['services'] } });
    op2 = await startOp();
    base = {
      idTokenHeader: 'Authorization',
      oidcProvider: op.issuer,
      jwtIssuers: [op2.issuer],
      audiences: [AUD, op.resource],
      jwtAlgorithms: ALGS,
      jwtLeeway: 30,
      userIdClaim: 'email',
      groupsClaim: 'groups',
    };
    registry = new IssuerRegistry(
      { ...base, discoveryRetryInterval: 10, jwksRefreshInterval: 300, jwksMinRefetchInterval: 30 },
      { http, clock: regClock, log: capturingLogger().log },
    );
    assert.equal(await registry.discovery(op.issuer)!.attempt(), true);
    assert.equal(await registry.discovery(op2.issuer)!.attempt(), true);
  });
  after(async () => {
    registry.stop();
    await op.stop();
    await op2.stop();
    http.close();
  });

  function setup(over: Partial<AccessTokenConfig> = {}, issuers: IssuerKeys = registry) {
    const clock = new ManualClock(Date.now());
    const { log, lines } = capturingLogger();
    const authn = new AccessTokenAuthenticator({ ...base, ...over }, { clock, issuers, log });
    const claims = (extra: JWTPayload = {}): JWTPayload => ({
      sub: 'u-1',
      email: 'alice@example.com',
      groups: ['admins', 'users'],
      aud: AUD,
      iat: secs(clock.now()),
      exp: secs(clock.now()) + 300,
      ...extra,
    });
    const check = async (token: string, header = 'authorization', prefix = 'Bearer '): Promise<AuthnOutcome> =>
      authn.authenticate(requestWith({ [header]: prefix + token }));
    return { authn, clock, lines, claims, check };
  }

  const invalid = (o: AuthnOutcome, reason?: RegExp): void => {
    assert.equal(o.kind, 'invalid', JSON.stringify(o));
    if (o.kind === 'invalid') {
      assert.equal(o.error, 'invalid_token');
      if (reason) assert.match(o.reason, reason);
    }
  };

  test('valid RS256 and ES256 tokens authenticate, with the identity the judge needs', async () => {
    const { check, claims, lines } = setup();
    for (const alg of ['RS256', 'ES256'] as const) {
      const token = await op.sign(claims(), { alg });
      const o = await check(token);
      assert.equal(o.kind, 'ok', `${alg}: ${JSON.stringify(o)}`);
      if (o.kind !== 'ok') continue;
      assert.equal(o.identity.user, 'alice@example.com');
      assert.deepEqual(o.identity.groups, ['admins', 'users']);
      assert.equal(o.identity.method, 'header');
      assert.equal(o.identity.authenticator, 'access_token');
      assert.equal(o.identity.token, token);
      assert.equal(o.identity.claims['sub'], 'u-1');
      assert.ok(!lines.join('\n').includes(token), 'tokens never logged');
    }
  });

  test('a JWT access token minted by the provider itself (client_credentials, resource indicator)', async () => {
    const { check } = setup();
    const token = await op.clientCredentialsToken();
    const o = await check(token);
    assert.equal(o.kind, 'ok', JSON.stringify(o));
    if (o.kind === 'ok') {
      assert.equal(o.identity.user, 'svc@example.com');
      assert.deepEqual(o.identity.groups, ['services']);
      assert.equal(o.identity.claims['client_id'], op.clientId);
    }
  });

  test('the Bearer prefix is optional; ID_TOKEN_HEADER names the header', async () => {
    const { check, claims } = setup({ idTokenHeader: 'X-Auth-Token' });
    const token = await op.sign(claims());
    assert.equal((await check(token, 'x-auth-token', '')).kind, 'ok');
    assert.equal((await check(token, 'x-auth-token', 'bearer ')).kind, 'ok');
    assert.equal((await check(token, 'authorization')).kind, 'none', 'other headers are not read');
  });

  test('tokens of an extra issuer (JWT_ISSUERS) authenticate with that issuer’s keys', async () => {
    const { check, claims } = setup();
    assert.equal((await check(await op2.sign(claims({ iss: op2.issuer })))).kind, 'ok');
    // signed by the main provider's key but claiming the extra issuer
    invalid(await check(await op.sign(claims({ iss: op2.issuer }))), /signature|signing key/);
  });

  test('exp: expired beyond the leeway → invalid; within the leeway → ok', async () => {
    const { check, claims, clock } = setup();
    const now = secs(clock.now());
    invalid(await check(await op.sign(claims({ iat: now - 600, exp: now - 31 }))), /expired/);
    assert.equal((await check(await op.sign(claims({ iat: now - 600, exp: now - 29 })))).kind, 'ok');
  });

  test('nbf and iat in the future (beyond the leeway) → invalid; missing exp → invalid', async () => {
    const { check, claims, clock } = setup();
    const now = secs(clock.now());
    invalid(await check(await op.sign(claims({ nbf: now + 60 }))), /nbf/);
    assert.equal((await check(await op.sign(claims({ nbf: now + 20 })))).kind, 'ok');
    invalid(await check(await op.sign(claims({ iat: now + 120 }))), /iat/);
    const { exp: _exp, ...noExp } = claims();
    invalid(await check(await op.sign(noExp)), /exp/);
  });

  test('not mine → none: wrong aud, wrong iss, not a JWT, no header, oversized', async () => {
    const { check, claims, authn } = setup();
    assert.equal((await check(await op.sign(claims({ aud: 'someone-else' })))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ aud: ['a', 'b'] })))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ iss: 'https://evil.example' })))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ iss: `${op.issuer}/` })))).kind, 'none');
    assert.equal((await check('an-opaque-token')).kind, 'none');
    assert.equal((await check('a.b.c')).kind, 'none');
    assert.equal((await authn.authenticate(requestWith({}))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ pad: 'x'.repeat(17 * 1024) })))).kind, 'none');
    assert.equal((await check(await op.sign(claims({ aud: ['other', AUD] })))).kind, 'ok', 'an array aud intersecting AUDIENCES is mine');
  });

  test('alg none and HS256 signed with the RSA public key are rejected, even if HS256 is configured', async () => {
    const { check, claims } = setup({ jwtAlgorithms: ['HS256', ...ALGS] });
    invalid(await check(new UnsecuredJWT(claims({ iss: op.issuer })).encode()), /algorithm/);
    const rsa = op.keys.find((k) => k.alg === 'RS256')!;
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    invalid(await check(await new SignJWT(claims({ iss: op.issuer })).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(pem)), /algorithm/);
    const jwk = new TextEncoder().encode(JSON.stringify(rsa.publicJwk));
    invalid(await check(await new SignJWT(claims({ iss: op.issuer })).setProtectedHeader({ alg: 'HS256' }).sign(jwk)), /algorithm/);
    assert.throws(
      () =>
        new AccessTokenAuthenticator(
          { ...base, jwtAlgorithms: ['HS256', 'none'] },
          { clock: new ManualClock(), issuers: registry, log: capturingLogger().log },
        ),
    );
  });

  test('an algorithm outside JWT_ALGORITHMS is rejected', async () => {
    const { check, claims } = setup({ jwtAlgorithms: ['RS256'] });
    invalid(await check(await op.sign(claims(), { alg: 'ES256' })), /algorithm/);
  });

  test('unknown kid → invalid after exactly one JWKS refetch', async () => {
    const { check, claims } = setup();
    regClock.advance(31_000);
    const stranger = await newKey('RS256');
    const before = op.jwksRequests;
    invalid(await check(await op.sign(claims(), { key: stranger })), /signing key/);
    assert.equal(op.jwksRequests - before, 1);
    invalid(await check(await op.sign(claims({ jti: 'again' }), { key: stranger })), /signing key/);
    assert.equal(op.jwksRequests - before, 1, 'no second refetch within JWKS_MIN_REFETCH_INTERVAL');
  });

  test('a tampered signature or payload → invalid', async () => {
    const { check, claims } = setup();
    const token = await op.sign(claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    invalid(await check(`${h}.${p}.${s.slice(0, -4)}AAAA`), /signature/);
    const forged = Buffer.from(JSON.stringify({ ...claims(), iss: op.issuer, email: 'root@example.com' })).toString('base64url');
    invalid(await check(`${h}.${forged}.${s}`), /signature/);
  });

  test('JWKS provider down after warm-up: known keys still verify new tokens', async () => {
    const { check, claims } = setup();
    assert.equal((await check(await op.sign(claims({ jti: 'warm' })))).kind, 'ok');
    await op.stop();
    try {
      const jwks = registry.status(op.issuer);
      assert.equal(jwks.state, 'ready');
      if (jwks.state === 'ready') assert.equal(await jwks.jwks.refresh(), false);
      assert.equal((await check(await op.sign(claims({ jti: 'while-down' }), { alg: 'ES256' }))).kind, 'ok');
    } finally {
      await op.restart();
    }
  });

  test('issuer not discovered yet, or its keys never fetched and the provider down → unavailable (503)', async () => {
    const fresh = new IssuerRegistry(
      { ...base, discoveryRetryInterval: 10, jwksRefreshInterval: 300, jwksMinRefetchInterval: 30 },
      { http, clock: new ManualClock(Date.now()), log: capturingLogger().log },
    );
    const { check, claims } = setup({}, fresh);
    const token = await op.sign(claims());
    assert.equal((await check(token)).kind, 'unavailable');
    assert.equal(await fresh.discovery(op.issuer)!.attempt(), true);
    await op.stop();
    try {
      const o = await check(token);
      assert.equal(o.kind, 'unavailable', JSON.stringify(o));
      if (o.kind === 'unavailable') assert.match(o.reason, /keys unavailable/);
    } finally {
      await op.restart();
    }
    assert.equal((await check(token)).kind, 'unavailable', 'the next fetch waits for JWKS_MIN_REFETCH_INTERVAL');
  });

  test('claims: user id and groups are both required; wrong types never crash', async () => {
    const { check, claims } = setup();
    const { email: _e, ...noEmail } = claims();
    const { groups: _g, ...noGroups } = claims();
    invalid(await check(await op.sign(noEmail)), /"email"/);
    invalid(await check(await op.sign(noGroups)), /"groups"/);
    invalid(await check(await op.sign(claims({ email: 12345 }))), /"email"/);
    invalid(await check(await op.sign(claims({ email: '' }))), /"email"/);
    invalid(await check(await op.sign(claims({ email: ['a@example.com'] }))), /"email"/);
    invalid(await check(await op.sign(claims({ groups: { admin: true } }))), /"groups"/);
    invalid(await check(await op.sign(claims({ groups: ['ok', 7] }))), /"groups"/);
    invalid(await check(await op.sign(claims({ groups: 42 }))), /"groups"/);
    const one = await check(await op.sign(claims({ groups: 'solo' })));
    assert.equal(one.kind, 'ok');
    if (one.kind === 'ok') assert.deepEqual(one.identity.groups, ['solo']);
    const { check: bySub } = setup({ userIdClaim: 'sub' });
    const o = await bySub(await op.sign(claims()));
    assert.equal(o.kind === 'ok' && o.identity.user, 'u-1');
    const { check: byProto } = setup({ userIdClaim: 'constructor', groupsClaim: '__proto__' });
    invalid(await byProto(await op.sign(claims())));
  });

  test('logout tokens and unknown crit headers are rejected', async () => {
    const { check, claims } = setup();
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    invalid(await check(await op.sign(claims({ events }), { header: { typ: 'logout+jwt' } })), /logout/);
    invalid(await check(await op.sign(claims({ events }))), /logout/);
    invalid(await check(await op.sign(claims(), { header: { typ: 'logout+jwt' } })), /logout/);
    invalid(await check(await op.sign(claims(), { header: { crit: ['urn:example:ext'], 'urn:example:ext': 1 } })), /crit/);
  });

  test('several keys match a token without kid: the right one verifies it', async () => {
    const { check, claims } = setup();
    const extra = await newKey('RS256');
    op.rotate([...op.keys, extra]);
    const st = registry.status(op.issuer);
    if (st.state === 'ready') await st.jwks.refresh();
    assert.equal((await check(await op.sign(claims(), { kid: null }))).kind, 'ok');
    assert.equal((await check(await op.sign(claims(), { key: extra, kid: null }))).kind, 'ok');
  });

  test('token cache: a second presentation costs no verification; never used past exp', async () => {
    const counting = new CountingKeys(registry);
    const { authn, check, claims, clock } = setup({}, counting);
    const token = await op.sign(claims({ exp: secs(clock.now()) + 60 }));
    assert.equal((await check(token)).kind, 'ok');
    assert.equal(counting.calls, 1);
    const hit = authn.authenticate(requestWith({ authorization: `Bearer ${token}` }));
    assert.ok(!(hit instanceof Promise), 'a cache hit answers synchronously');
    assert.equal(hit.kind === 'ok' && hit.identity.token, token);
    assert.equal(counting.calls, 1);

    clock.advance(60_000); // exp reached: the entry is dropped; the leeway still lets verification pass
    assert.equal((await check(token)).kind, 'ok');
    assert.equal(counting.calls, 2);
    clock.advance(31_000);
    invalid(await check(token), /expired/);
    assert.equal(counting.calls, 3);

    const bad = await op.sign(claims({ email: 7 }));
    invalid(await check(bad));
    invalid(await check(bad));
    assert.equal(counting.calls, 5, 'failures are not cached');
  });
});
