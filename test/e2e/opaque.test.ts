/**
 * Opaque access tokens through the assembled service (HTTP front door, nginx `auth_request`
 * convention), in front of the development OpenID Provider issuing real opaque tokens:
 * `ACCESS_TOKEN_AUTHN=introspection` and `=opaque` (userinfo), the cache, a session id in the
 * same header falling through to the session authenticator, and the provider going down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, startJudge, type Judged } from '../helpers/app.js';
import type { Sent } from '../helpers/http-send.js';
import { ALICE, BASIC, startOpaqueOp, type OpaqueOp } from '../authn/opaque-op.js';

const API = { accept: 'application/json' };
const VERIFY = '/authservice/verify';

const userOf = (r: Sent): [unknown, unknown, unknown] => [r.headers['kubeflow-userid'], r.headers['kubeflow-groups'], r.headers['auth-method']];

function assertInvalid(r: Sent, reason: string): void {
  assert.equal(r.status, 401, r.body);
  assert.deepEqual(JSON.parse(r.body), { error: 'invalid_token', message: reason });
  assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
  assert.equal(r.headers['kubeflow-userid'], undefined);
}

function start(op: OpaqueOp, env: Record<string, string>): Promise<Judged> {
  return startJudge(op.issuer, { env: { CLIENT_ID: BASIC.id, CLIENT_SECRET: BASIC.secret, ...env } });
}

describe('ACCESS_TOKEN_AUTHN=introspection through the assembled service', () => {
  let op: OpaqueOp;
  let judge: Judged;
  let port: number;

  before(async () => {
    op = await startOpaqueOp();
    judge = await start(op, { ACCESS_TOKEN_AUTHN: 'introspection', CACHE_ENABLED: 'true', INTROSPECTION_REQUIRED_SCOPES: 'openid groups' });
    port = judge.app.ports.http;
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('an active token → 204 with the identity headers; the second check comes from the cache', async () => {
    const { accessToken } = await op.issue(ALICE);
    const n = op.requests('/token/introspection');
    const r = await request(port, `${VERIFY}/notebooks/lab`, { authorization: `Bearer ${accessToken}`, ...API });
    assert.equal(r.status, 204, r.body);
    assert.deepEqual(userOf(r), ['alice', '', 'header']);
    assert.equal((await request(port, `${VERIFY}/notebooks/lab`, { authorization: `Bearer ${accessToken}`, ...API })).status, 204);
    assert.equal(op.requests('/token/introspection'), n + 1);
  });

  it('a token lacking a required scope → 401, on the first check and on the cached one', async () => {
    const { accessToken } = await op.issue(ALICE, 'openid email');
    const n = op.requests('/token/introspection');
    for (let i = 0; i < 2; i++)
      assertInvalid(await request(port, `${VERIFY}/x`, { authorization: `Bearer ${accessToken}`, ...API }), 'token lacks scope groups');
    assert.equal(op.requests('/token/introspection'), n + 1);
  });

  it('a revoked token → 401 invalid_token', async () => {
    const { accessToken } = await op.issue(ALICE);
    await op.revoke(accessToken);
    assertInvalid(await request(port, `${VERIFY}/x`, { authorization: `Bearer ${accessToken}`, ...API }), 'token is not active');
  });
});

describe('ACCESS_TOKEN_AUTHN=opaque (userinfo) through the assembled service', () => {
  let op: OpaqueOp;
  let judge: Judged;
  let port: number;

  before(async () => {
    op = await startOpaqueOp();
    judge = await start(op, { ACCESS_TOKEN_AUTHN: 'opaque' });
    port = judge.app.ports.http;
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('a valid token → the userinfo identity', async () => {
    const { accessToken } = await op.issue(ALICE);
    const r = await request(port, `${VERIFY}/x`, { authorization: `Bearer ${accessToken}`, ...API });
    assert.equal(r.status, 204, r.body);
    assert.deepEqual(userOf(r), ['alice@example.com', 'admins,staff', 'header']);
  });

  it('a session id in the same header: the provider rejects it, the session authenticator still vouches', async () => {
    const now = Date.now();
    const id = await judge.app.sessions.create({
      v: 1,
      user: 'carol@example.com',
      groups: ['ops'],
      claims: {},
      iss: op.issuer,
      sub: 'carol',
      createdAt: now,
      expiresAt: now + 3_600_000,
    });
    const n = op.requests('/me');
    const r = await request(port, `${VERIFY}/x`, { authorization: `Bearer ${id}`, ...API });
    assert.equal(r.status, 204, r.body);
    assert.deepEqual(userOf(r), ['carol@example.com', 'ops', 'header']);
    assert.equal(op.requests('/me'), n + 1, 'userinfo was asked first and said no');
    // Nobody vouches for an unknown one: the provider's rejection stands.
    assertInvalid(await request(port, `${VERIFY}/x`, { authorization: `Bearer ${'A'.repeat(43)}`, ...API }), 'the provider rejected the token (userinfo 401)');
  });

  it('the provider down → 503, never an allow', async () => {
    const { accessToken } = await op.issue(ALICE);
    await op.stop();
    const r = await request(port, `${VERIFY}/x`, { authorization: `Bearer ${accessToken}`, ...API });
    assert.equal(r.status, 503, r.body);
    assert.equal(r.headers['kubeflow-userid'], undefined);
  });
});
