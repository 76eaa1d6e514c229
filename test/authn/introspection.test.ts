import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  IntrospectionAuthenticator,
  clientAuthentication,
  identityFromIntrospection,
  policyProblem,
  type IntrospectionConfig,
} from '../../src/authn/introspection.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { Discovery } from '../../src/oidc/discovery.js';
import { capturingLogger, requestWith } from '../helpers/bearer.js';
import { ALICE, BASIC, POST, startOpaqueOp, type OpaqueOp } from './opaque-op.js';

const INTROSPECT = '/token/introspection';
const TTL = 120;

describe('IntrospectionAuthenticator (ACCESS_TOKEN_AUTHN=introspection) against the development provider', () => {
  let op: OpaqueOp;
  let discovery: Discovery;
  const http = new HttpClient({ timeoutMs: 3000 });
  let base: IntrospectionConfig;

  before(async () => {
    op = await startOpaqueOp({ ttl: { accessToken: TTL } });
    discovery = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log });
    assert.equal(await discovery.attempt(), true);
    base = {
      idTokenHeader: 'Authorization',
      oidcProvider: op.issuer,
      clientId: BASIC.id,
      clientSecret: BASIC.secret,
      tokenEndpointAuthMethod: 'client_secret_basic',
      idtokenAuthnEnabled: true,
      userIdClaim: 'email',
      groupsClaim: 'groups',
      cacheEnabled: true,
      cacheExpirationMinutes: 60,
      introspectionUrl: '',
      introspectionRequiredScopes: [],
      introspectionAudiences: [],
      introspectionTokenTypeRequired: true,
      jwtLeeway: 0,
    };
  });
  after(async () => {
    await op.stop();
    http.close();
  });

  /** `metadata`: what discovery found (`null`: not discovered yet). */
  function setup(over: Partial<IntrospectionConfig> = {}, metadata: Readonly<Record<string, unknown>> | null = discovery.metadata!) {
    const clock = new ManualClock(Date.now());
    const { log, lines } = capturingLogger();
    const authn = new IntrospectionAuthenticator({ ...base, ...over }, { discovery: { metadata: metadata ?? undefined }, http, clock, log });
    const check = async (token: string): Promise<AuthnOutcome> => authn.authenticate(requestWith({ authorization: `Bearer ${token}` }));
    return { authn, clock, lines, check };
  }
  const reasonOf = (o: AuthnOutcome): string => (o.kind === 'invalid' || o.kind === 'unavailable' ? o.reason : o.kind);

  test('an active token: the user from the response (no email there → sub), its claims, Auth-Method header', async () => {
    const { check } = setup();
    const { accessToken } = await op.issue(ALICE);
    const out = await check(accessToken);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    if (out.kind !== 'ok') return;
    assert.equal(out.identity.user, 'alice');
    assert.deepEqual(out.identity.groups, []);
    assert.equal(out.identity.claims['active'], true);
    assert.equal(out.identity.claims['client_id'], BASIC.id);
    assert.equal(out.identity.method, 'header');
    assert.equal(out.identity.token, accessToken);
  });

  test('client_secret_post authenticates too; a wrong secret or client is our configuration problem → unavailable, logged', async () => {
    const { accessToken } = await op.issue(ALICE);
    const post = setup({ clientId: POST.id, clientSecret: POST.secret, tokenEndpointAuthMethod: 'client_secret_post' });
    assert.equal((await post.check(accessToken)).kind, 'ok');
    const wrongSecret = setup({ clientSecret: 'not-the-secret' });
    assert.deepEqual(await wrongSecret.check(accessToken), { kind: 'unavailable', reason: 'introspection refused the client (401)' });
    assert.match(wrongSecret.lines.join(''), /refused our client credentials/);
    assert.ok(!wrongSecret.lines.join('').includes('not-the-secret') && !wrongSecret.lines.join('').includes(accessToken));
    const unknownClient = setup({ clientId: 'nobody', clientSecret: 'x', tokenEndpointAuthMethod: 'client_secret_post' });
    assert.equal((await unknownClient.check(accessToken)).kind, 'unavailable');
  });

  test('active: false (a revoked token) → 401 invalid_token, never cached', async () => {
    const { check, authn } = setup();
    const { accessToken } = await op.issue(ALICE);
    await op.revoke(accessToken);
    const n = op.requests(INTROSPECT);
    assert.deepEqual(await check(accessToken), { kind: 'invalid', reason: 'token is not active', error: 'invalid_token', fallThrough: true });
    assert.equal((await check(accessToken)).kind, 'invalid');
    assert.equal(op.requests(INTROSPECT), n + 2);
    assert.equal(authn.cacheSize, 0);
  });

  test('a real refresh token presented as a bearer → 401 invalid_token (oidc-provider leaves token_type out for it), never cached', async () => {
    const { check, authn } = setup();
    const { accessToken, refreshToken } = await op.issue(ALICE);
    assert.ok(refreshToken, 'the provider issued a refresh token');
    const out = await check(refreshToken);
    assert.deepEqual(out, {
      kind: 'invalid',
      reason: 'the introspection answer does not name an access token (no token_type)',
      error: 'invalid_token',
      fallThrough: true,
    });
    assert.equal(authn.cacheSize, 0);
    // The access token of the same grant says token_type Bearer and passes.
    assert.equal((await check(accessToken)).kind, 'ok');
    // INTROSPECTION_TOKEN_TYPE_REQUIRED=false trusts the provider to type what it types: the refresh
    // token is then accepted — the trade-off the setting makes for providers that never say.
    assert.equal((await setup({ introspectionTokenTypeRequired: false }).check(refreshToken)).kind, 'ok');
  });

  test('INTROSPECTION_REQUIRED_SCOPES: re-checked on a cache hit — a cached token lacking a scope stays refused', async () => {
    const { check, authn } = setup({ introspectionRequiredScopes: ['email', 'groups'] });
    const narrow = (await op.issue(ALICE, 'openid email')).accessToken;
    const wide = (await op.issue(ALICE)).accessToken;
    const n = op.requests(INTROSPECT);
    assert.equal(reasonOf(await check(narrow)), 'token lacks scope groups');
    assert.equal(authn.cacheSize, 1, 'the answer (with its scope) is cached, not a yes/no');
    assert.equal(reasonOf(await check(narrow)), 'token lacks scope groups', 'the cache hit is checked again');
    assert.equal(op.requests(INTROSPECT), n + 1, 'the second check came from the cache');
    assert.equal((await check(wide)).kind, 'ok');
    assert.equal((await check(wide)).kind, 'ok');
    assert.equal(op.requests(INTROSPECT), n + 2);
  });

  test('INTROSPECTION_AUDIENCES: a token without a matching aud → 401, also from the cache', async () => {
    const { check } = setup({ introspectionAudiences: ['urn:example:api'] });
    const { accessToken } = await op.issue(ALICE);
    assert.equal(reasonOf(await check(accessToken)), 'token audience not accepted');
    assert.equal(reasonOf(await check(accessToken)), 'token audience not accepted');
  });

  test('the token’s exp bounds the cache entry: past it the provider is asked again, and an expired exp → 401', async () => {
    const { check, clock } = setup({ cacheExpirationMinutes: 60 });
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests(INTROSPECT);
    assert.equal((await check(accessToken)).kind, 'ok');
    clock.advance((TTL - 20) * 1000);
    assert.equal((await check(accessToken)).kind, 'ok');
    assert.equal(op.requests(INTROSPECT), n + 1, 'before exp: from the cache');
    clock.advance(21_000);
    // Our clock is past exp; the provider's is not, so it still says active — its exp decides.
    assert.equal(reasonOf(await check(accessToken)), 'token expired');
    assert.equal(op.requests(INTROSPECT), n + 2, 'past exp: asked again');
  });

  test('CACHE_EXPIRATION_MINUTES bounds the cache entry when exp is later', async () => {
    const { check, clock } = setup({ cacheExpirationMinutes: 1 });
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests(INTROSPECT);
    await check(accessToken);
    clock.advance(59_000);
    await check(accessToken);
    assert.equal(op.requests(INTROSPECT), n + 1);
    clock.advance(2_000);
    assert.equal((await check(accessToken)).kind, 'ok');
    assert.equal(op.requests(INTROSPECT), n + 2);
  });

  test('INTROSPECTION_URL overrides discovery (and needs none); no endpoint at all → unavailable', async () => {
    const { accessToken } = await op.issue(ALICE);
    const { introspection_endpoint: endpoint, ...without } = discovery.metadata!;
    assert.equal(reasonOf(await setup({}, without).check(accessToken)), 'the provider advertises no introspection_endpoint (set INTROSPECTION_URL)');
    assert.equal(reasonOf(await setup({}, null).check(accessToken)), 'provider not discovered yet');
    assert.equal((await setup({ introspectionUrl: String(endpoint) }, null).check(accessToken)).kind, 'ok');
  });

  test('concurrent checks of one token share one introspection call', async () => {
    const { check } = setup({ cacheEnabled: false });
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests(INTROSPECT);
    const outs = await Promise.all(Array.from({ length: 6 }, () => check(accessToken)));
    assert.ok(outs.every((o) => o.kind === 'ok'));
    assert.equal(op.requests(INTROSPECT), n + 1);
    await check(accessToken);
    assert.equal(op.requests(INTROSPECT), n + 2, 'CACHE_ENABLED=false: not cached');
  });
});

describe('IntrospectionAuthenticator when the provider goes down', () => {
  test('an answer it cannot get is unavailable (503), never an allow — also with a cache of other tokens', async () => {
    const op = await startOpaqueOp();
    const http = new HttpClient({ timeoutMs: 3000 });
    try {
      const discovery = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log });
      assert.equal(await discovery.attempt(), true);
      const config: IntrospectionConfig = {
        idTokenHeader: 'Authorization',
        oidcProvider: op.issuer,
        clientId: BASIC.id,
        clientSecret: BASIC.secret,
        tokenEndpointAuthMethod: 'client_secret_basic',
        idtokenAuthnEnabled: true,
        userIdClaim: 'email',
        groupsClaim: 'groups',
        cacheEnabled: true,
        cacheExpirationMinutes: 5,
        introspectionUrl: '',
        introspectionRequiredScopes: [],
        introspectionAudiences: [],
        introspectionTokenTypeRequired: true,
        jwtLeeway: 30,
      };
      const authn = new IntrospectionAuthenticator(config, { discovery, http, clock: new ManualClock(Date.now()), log: capturingLogger().log });
      const check = async (t: string): Promise<AuthnOutcome> => authn.authenticate(requestWith({ authorization: `Bearer ${t}` }));
      const cached = (await op.issue(ALICE)).accessToken;
      const fresh = (await op.issue(ALICE)).accessToken;
      assert.equal((await check(cached)).kind, 'ok');
      await op.stop();
      assert.deepEqual(await check(fresh), { kind: 'unavailable', reason: 'introspection: network' });
      assert.equal((await check(cached)).kind, 'ok', 'a cached answer still holds until its entry ends');
    } finally {
      await op.stop();
      http.close();
    }
  });
});

describe('introspection response rules', () => {
  const config = { userIdClaim: 'email', groupsClaim: 'groups', introspectionTokenTypeRequired: true };
  const relaxed = { ...config, introspectionTokenTypeRequired: false };
  test('the user: USERID_CLAIM, else username, else sub; groups from GROUPS_CLAIM when present', () => {
    const a = identityFromIntrospection({ active: true, token_type: 'Bearer', sub: 's', username: 'u', email: 'e@x', groups: ['g'] }, config, 'access_token');
    assert.equal(typeof a !== 'string' && a.user, 'e@x');
    assert.deepEqual(typeof a !== 'string' && a.groups, ['g']);
    const b = identityFromIntrospection({ active: true, token_type: 'Bearer', sub: 's', username: 'u' }, config, 'access_token');
    assert.equal(typeof b !== 'string' && b.user, 'u');
    assert.match(String(identityFromIntrospection({ active: true, token_type: 'Bearer', client_id: 'svc' }, config, 'access_token')), /no user id/);
  });

  test('refresh tokens, ID tokens and sender-constrained tokens are not bearer access tokens', () => {
    const refused = [
      { token_type: 'refresh_token' },
      { token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      { token_type: 'urn:ietf:params:oauth:token-type:id_token' },
      { token_type: 'DPoP' },
      { token_type: 'N_A' },
      { token_type: ['Bearer'] },
      { token_type: null },
      { typ: 'Refresh' },
      { typ: 'Offline' },
      { typ: 'ID' },
      { token_type: 'Bearer', typ: 'Refresh' },
      { token_type: 'bearer', token_use: 'refresh_token' },
      { cnf: { jkt: 'x' } },
    ];
    for (const extra of refused) {
      for (const c of [config, relaxed])
        assert.equal(typeof identityFromIntrospection({ active: true, sub: 's', ...extra }, c, 'access_token'), 'string', JSON.stringify(extra));
    }
    const accepted = [
      { token_type: 'Bearer' },
      { token_type: 'bearer' },
      { token_type: 'access_token' },
      { token_type: 'urn:ietf:params:oauth:token-type:access_token' },
      { typ: 'Bearer' },
      { token_type: 'Bearer', typ: 'Bearer' },
      { token_type: 'bearer', token_use: 'access_token' },
    ];
    for (const extra of accepted) {
      for (const c of [config, relaxed])
        assert.notEqual(typeof identityFromIntrospection({ active: true, sub: 's', ...extra }, c, 'access_token'), 'string', JSON.stringify(extra));
    }
  });

  test('an answer naming no type (oidc-provider’s refresh tokens) is refused unless INTROSPECTION_TOKEN_TYPE_REQUIRED=false', () => {
    assert.equal(
      identityFromIntrospection({ active: true, sub: 's' }, config, 'access_token'),
      'the introspection answer does not name an access token (no token_type)',
    );
    assert.notEqual(typeof identityFromIntrospection({ active: true, sub: 's' }, relaxed, 'access_token'), 'string');
  });

  test('per-request policy: exp/nbf with leeway, every required scope, one accepted audience', () => {
    const now = Date.UTC(2026, 0, 1);
    const t = now / 1000;
    const p = { requiredScopes: ['read', 'write'], audiences: ['api-a', 'api-b'], leewaySeconds: 30 };
    assert.equal(policyProblem({ scope: 'write read extra', aud: 'api-b', exp: t + 1 }, p, now), undefined);
    assert.equal(policyProblem({ scope: 'read write', aud: ['x', 'api-a'], exp: t - 29 }, p, now), undefined, 'within leeway');
    assert.equal(policyProblem({ scope: 'read write', aud: 'api-a', exp: t - 31 }, p, now), 'token expired');
    assert.equal(policyProblem({ scope: 'read write', aud: 'api-a', nbf: t + 31 }, p, now), 'token not valid yet');
    assert.equal(policyProblem({ scope: 'read', aud: 'api-a' }, p, now), 'token lacks scope write');
    assert.equal(policyProblem({ aud: 'api-a' }, p, now), 'token lacks scope read write');
    assert.equal(policyProblem({ scope: 'read write', aud: ['x'] }, p, now), 'token audience not accepted');
    assert.equal(policyProblem({ scope: 'read write' }, p, now), 'token audience not accepted');
    assert.equal(policyProblem({}, { requiredScopes: [], audiences: [], leewaySeconds: 0 }, now), undefined);
  });

  test('client authentication: Basic with form-urlencoded id and secret (RFC 6749 §2.3.1), or in the body', () => {
    const basic = clientAuthentication({ clientId: 'my client', clientSecret: 'a:b+c', tokenEndpointAuthMethod: 'client_secret_basic' });
    assert.equal(Buffer.from(basic.headers['authorization']!.slice(6), 'base64').toString(), 'my+client:a%3Ab%2Bc');
    assert.deepEqual(clientAuthentication({ clientId: 'c', clientSecret: 's', tokenEndpointAuthMethod: 'client_secret_post' }), {
      headers: {},
      params: { client_id: 'c', client_secret: 's' },
    });
  });
});
