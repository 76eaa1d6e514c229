/**
 * The assembled service through its gRPC front door (Envoy ext_authz v3, and v2 once), in front of
 * a real OpenID Provider: bearer tokens signed with the provider's keys, skip rules, denials.
 * Authorization policies and provider outages: judge-grpc-policy.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, SignJWT } from 'jose';
import {
  accessToken,
  AUDIENCE,
  FORGEABLE_SPELLINGS,
  metric,
  optionValue,
  SET_NAMES,
  SKIP_REMOVES,
  secs,
  startJudge,
  tuples,
  unsignedToken,
  type CheckResponse,
  type Judged,
} from '../helpers/app.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' };
const NAVIGATION = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' };
/** Identity headers a client tries to forge, in several spellings. */
const FORGED = { 'kubeflow-userid': 'admin@example.com', kubeflow_userid: 'admin@example.com', 'kubeflow-groups': 'admins', auth_method: 'cookie' };

function allowed(res: CheckResponse): NonNullable<CheckResponse['ok_response']> {
  assert.equal(res.status.code, 0, `expected an allow, got ${JSON.stringify(res.denied_response)}`);
  assert.equal(res.http_response, 'ok_response');
  assert.ok(res.ok_response);
  return res.ok_response;
}

function denied(res: CheckResponse, http: number, rpc: number): NonNullable<CheckResponse['denied_response']> {
  assert.equal(res.http_response, 'denied_response', `expected a ${http} deny, got ${JSON.stringify(res)}`);
  assert.ok(res.denied_response);
  assert.equal(res.denied_response.status?.code, http);
  assert.equal(res.status.code, rpc);
  return res.denied_response;
}

/** A 401 for "no credentials of ours": JSON, a bare challenge, no `invalid_token`. */
function noCredentials(res: CheckResponse): void {
  const d = denied(res, 401, 16);
  assert.deepEqual(JSON.parse(d.body), { error: 'unauthenticated', message: 'Authentication required' });
  assert.equal(optionValue(d.headers, 'www-authenticate'), 'Bearer realm="oidc-judge"');
  assert.equal(optionValue(d.headers, 'content-type'), 'application/json');
}

/** A 401 for a token that is ours but bad. */
function invalidToken(res: CheckResponse, reason: RegExp): void {
  const d = denied(res, 401, 16);
  const challenge = optionValue(d.headers, 'www-authenticate') ?? '';
  assert.match(challenge, /^Bearer realm="oidc-judge", error="invalid_token", error_description="/);
  const body = JSON.parse(d.body) as { error: string; message: string };
  assert.equal(body.error, 'invalid_token');
  assert.match(body.message, reason);
}

describe('gRPC ext_authz of the assembled service, real OpenID Provider', () => {
  let op: TestOp;
  let judge: Judged;
  const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, ...API });

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { env: { SKIP_AUTH_URLS: '/public' } });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('RS256 access token → allow; identity set with append false; forged spellings removed, set names not', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs', 'ops']);
    const ok = allowed(await judge.grpc.check('/api/things?x=1', { ...bearer(token), ...FORGED }));
    assert.deepEqual(tuples(ok.headers), [
      ['kubeflow-userid', 'alice@example.com', false],
      ['kubeflow-groups', 'devs,ops', false],
      ['auth-method', 'header', false],
    ]);
    for (const name of FORGEABLE_SPELLINGS) assert.ok(ok.headers_to_remove.includes(name), `${name} is removed`);
    for (const name of SET_NAMES) assert.ok(!ok.headers_to_remove.includes(name), `${name} is set, so not removed`);
    assert.deepEqual(ok.response_headers_to_add, []);
  });

  it('ES256 access token → allow', async () => {
    const token = await accessToken(op, 'erin@example.com', ['devs'], {}, { alg: 'ES256' });
    const ok = allowed(await judge.grpc.check('/api', bearer(token)));
    assert.equal(optionValue(ok.headers, 'kubeflow-userid'), 'erin@example.com');
  });

  it('ID token (aud = CLIENT_ID) without groups → allow with empty groups', async () => {
    const now = secs(Date.now());
    const idToken = await op.sign({ sub: 'ivy', aud: judge.config.clientId, email: 'ivy@example.com', iat: now, exp: now + 300 });
    const ok = allowed(await judge.grpc.check('/ui', bearer(idToken)));
    assert.deepEqual(tuples(ok.headers), [
      ['kubeflow-userid', 'ivy@example.com', false],
      ['kubeflow-groups', '', false],
      ['auth-method', 'header', false],
    ]);
  });

  it('the v2 service judges the same way', async () => {
    const token = await accessToken(op);
    const ok = allowed(await judge.grpc.check('/api', bearer(token), { v2: true }));
    assert.equal(optionValue(ok.headers, 'kubeflow-userid'), 'alice@example.com');
    noCredentials(await judge.grpc.check('/api', API, { v2: true }));
  });

  it('no credentials: 401 JSON with a challenge for an API client; a browser navigation is sent to the provider (302)', async () => {
    noCredentials(await judge.grpc.check('/api', { ...API, ...FORGED }));
    const login = denied(await judge.grpc.check('/dashboard', NAVIGATION), 302, 16);
    const location = new URL(optionValue(login.headers, 'location') ?? '');
    assert.equal(location.origin, op.issuer);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(location.searchParams.get('state') && location.searchParams.get('nonce'));
    assert.match(optionValue(login.headers, 'set-cookie') ?? '', /^oidc_state_csrf_[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]{200,}; Path=\/; /);
  });

  it('expired token → 401 invalid_token', async () => {
    const long = Date.now() - 3_600_000;
    const token = await accessToken(op, 'alice@example.com', ['devs'], {}, {}, long);
    invalidToken(await judge.grpc.check('/api', bearer(token)), /expired/);
  });

  it('a token for another audience is not ours → 401 without credentials (not invalid_token)', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs'], { aud: 'urn:someone:else' });
    noCredentials(await judge.grpc.check('/api', bearer(token)));
  });

  it('alg none, and HS256 keyed with the public key → 401 invalid_token', async () => {
    const now = secs(Date.now());
    const claims = { iss: op.issuer, aud: AUDIENCE, email: 'mallory@example.com', groups: ['admins'], iat: now, exp: now + 300 };
    invalidToken(await judge.grpc.check('/api', bearer(unsignedToken(claims))), /algorithm not allowed/);
    const rsa = op.keys.find((k) => k.alg === 'RS256')!;
    const hmacKey = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).sign(hmacKey);
    invalidToken(await judge.grpc.check('/api', bearer(confused)), /algorithm not allowed/);
  });

  it('a token signed with a key the provider does not publish → 401 (unknown kid, or a known kid)', async () => {
    const rogue = await newKey('RS256');
    const unknownKid = await accessToken(op, 'mallory@example.com', ['admins'], {}, { key: rogue });
    invalidToken(await judge.grpc.check('/api', bearer(unknownKid)), /no matching signing key/);
    const knownKid = await accessToken(op, 'mallory@example.com', ['admins'], {}, { key: rogue, kid: op.keys[0]!.kid });
    invalidToken(await judge.grpc.check('/api', bearer(knownKid)), /signature verification failed/);
  });

  it('SKIP_AUTH_URLS=/public: allow without identity, every spelling removed', async () => {
    for (const path of ['/public', '/public/', '/public/app.js?v=1']) {
      const ok = allowed(await judge.grpc.check(path, { ...API, ...FORGED }));
      assert.deepEqual(ok.headers, [], path);
      assert.deepEqual([...ok.headers_to_remove].sort(), SKIP_REMOVES, path);
    }
  });

  it('paths that only look skipped must authenticate: dot segments, encoded slashes, a longer segment', async () => {
    for (const path of ['/public/../admin', '/public%2f..%2fadmin', '/public/%2e%2e/admin', '/publicity', '/x/../public/../admin']) {
      noCredentials(await judge.grpc.check(path, { ...API, ...FORGED }));
    }
  });

  it("the service's own /authservice/ prefix is skipped; the callback is answered by the judge itself", async () => {
    for (const path of ['/authservice/site/homepage', '/authservice/oidc/callback/more', '/authservice/logout']) {
      const ok = allowed(await judge.grpc.check(path, NAVIGATION));
      assert.deepEqual(ok.headers, []);
      assert.ok(ok.headers_to_remove.includes('kubeflow-userid'));
    }
    const callback = denied(await judge.grpc.check('/authservice/oidc/callback?code=x&state=y', NAVIGATION), 400, 7);
    assert.match(callback.body, /expired, was already used, or was started in another browser/);
    noCredentials(await judge.grpc.check('/authservicex', API));
  });

  it('/metrics counts the decisions and the startup JWKS fetch', async () => {
    const port = judge.app.ports.health;
    const allowLabels = { outcome: 'allow', status: '200', authenticator: 'access_token', via: 'grpc' };
    const denyLabels = { outcome: 'deny', status: '401', authenticator: '', via: 'grpc' };
    const skipLabels = { outcome: 'skip', status: '200', authenticator: '', via: 'grpc' };
    const before = await Promise.all([allowLabels, denyLabels, skipLabels].map((l) => metric(port, 'oidc_judge_decisions_total', l)));
    allowed(await judge.grpc.check('/api', bearer(await accessToken(op))));
    noCredentials(await judge.grpc.check('/api', API));
    allowed(await judge.grpc.check('/public/x', API));
    const afterwards = await Promise.all([allowLabels, denyLabels, skipLabels].map((l) => metric(port, 'oidc_judge_decisions_total', l)));
    assert.deepEqual(
      afterwards,
      before.map((n) => n + 1),
    );
    assert.equal(await metric(port, 'oidc_judge_jwks_refresh_total', { result: 'ok', cause: 'startup' }), 1);
    assert.equal(await metric(port, 'oidc_judge_discovery_total', { result: 'ok' }), 1);
    assert.ok((await metric(port, 'oidc_judge_check_duration_seconds_count', { via: 'grpc' })) >= 3);
  });
});
