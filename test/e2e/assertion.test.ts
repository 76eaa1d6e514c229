/**
 * The judge's signed identity assertion (`ASSERTION_HEADER`) through the assembled service, for
 * every authenticator — a session, an ID token, a JWT access token, a Kubernetes service-account
 * token (TokenReview) and an introspected opaque token — verified with jose as an upstream (or
 * Istio `RequestAuthentication`) would: discovery at the issuer, the JWKS the web server publishes,
 * `iss`, `aud` = the request's host, `exp`. A client's forged copy never passes; skipped paths
 * carry none; the JWKS answers with Cache-Control and ETag/304. The judge runs on a ManualClock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, errors, type JWTPayload } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { accessToken, optionValue, request, secs, startJudge, type CheckResponse, type Judged } from '../helpers/app.js';
import { requestAuthentication, type IstioJwtCheck } from '../helpers/istio-jwt.js';
import { send } from '../helpers/http-send.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { sessionRecord } from '../helpers/seed.js';
import { ALICE, BASIC, startOpaqueOp, type OpaqueOp } from '../authn/opaque-op.js';

const API = { accept: 'application/json' };
const HOST = 'app.example.com';
const HEADER = 'x-identity-assertion';

/** The env of a judge signing assertions, its issuer on the web port picked first (the issuer must be known before start). */
async function assertionEnv(extra: Record<string, string> = {}): Promise<{ env: Record<string, string>; issuer: string }> {
  const web = await freePort();
  const issuer = `http://127.0.0.1:${web}/authservice`;
  return { issuer, env: { WEB_SERVER_PORT: String(web), ASSERTION_HEADER: 'X-Identity-Assertion', ASSERTION_ISSUER: issuer, ...extra } };
}

/** The assertion an allow carries (set, never appended, and not also removed). */
function assertionOf(res: CheckResponse): string {
  assert.equal(res.status.code, 0, `expected an allow, got ${JSON.stringify(res.denied_response)}`);
  const ok = res.ok_response!;
  const set = ok.headers.filter((h) => h.header.key === HEADER);
  assert.equal(set.length, 1, 'one assertion header');
  assert.notEqual(set[0]!.append?.value, true);
  assert.ok(!ok.headers_to_remove.includes(HEADER), 'not removed as well');
  assert.ok(ok.headers_to_remove.includes('x_identity_assertion'), 'its other spelling is removed');
  return set[0]!.header.value;
}

describe('identity assertions for every authenticator (gRPC and HTTP doors, jose against the published JWKS)', () => {
  const clock = new ManualClock(Date.now());
  let op: TestOp;
  let api: KubeApi;
  let judge: Judged;
  let dir: string;
  let issuer: string;
  let verify: IstioJwtCheck;

  before(async () => {
    op = await startOp();
    api = await startKubeApi();
    dir = mkdtempSync(join(tmpdir(), 'judge-assertion-'));
    writeFileSync(
      join(dir, 'config'),
      `apiVersion: v1
kind: Config
current-context: test
contexts: [{ name: test, context: { cluster: double, user: judge } }]
clusters: [{ name: double, cluster: { server: "${api.url}", certificate-authority: ${api.caFile} } }]
users: [{ name: judge, user: { tokenFile: ${join(api.serviceAccountDir, 'token')} } }]
`,
    );
    const a = await assertionEnv({
      KUBERNETES_AUTHN_ENABLED: 'true',
      KUBECONFIG: join(dir, 'config'),
      ASSERTION_CLAIMS: 'name',
      SKIP_RULES: '[{"path":{"prefix":"/public"},"assertion":true}]',
    });
    issuer = a.issuer;
    judge = await startJudge(op.issuer, { clock, env: a.env });
    // What an upstream does: discovery at the issuer, then its JWKS; the audience is its own host.
    verify = await requestAuthentication(issuer, HOST, () => clock.now());
  });
  after(async () => {
    await judge?.stop();
    await op?.stop();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function checked(headers: Record<string, string>): Promise<JWTPayload> {
    const token = assertionOf(await judge.grpc.check('/api/things', { ...API, ...headers }, { host: HOST }));
    return (await verify(token)).payload;
  }

  it('a session (cookie): sub, email, groups, authn=session, auth_method=cookie', async () => {
    const id = await judge.app.sessions.create(sessionRecord('sam@example.com', { groups: ['devs', 'ops'], nowMs: clock.now() }));
    const p = await checked({ cookie: `authservice_session=${id}` });
    assert.equal(p.iss, issuer);
    assert.equal(p.aud, HOST);
    assert.equal(p.sub, 'sub-sam@example.com');
    assert.equal(p['email'], 'sam@example.com');
    assert.deepEqual(p['groups'], ['devs', 'ops']);
    assert.equal(p['authn'], 'session');
    assert.equal(p['auth_method'], 'cookie');
  });

  it('an ID token: authn=id_token, and a selected claim (ASSERTION_CLAIMS=name)', async () => {
    const now = secs(clock.now());
    const idToken = await op.sign({ sub: 'ivy', aud: judge.config.clientId, email: 'ivy@example.com', name: 'Ivy', iat: now, exp: now + 300 });
    const p = await checked({ authorization: `Bearer ${idToken}` });
    assert.equal(p.sub, 'ivy');
    assert.equal(p['authn'], 'id_token');
    assert.equal(p['auth_method'], 'header');
    assert.equal(p['name'], 'Ivy');
  });

  it('a JWT access token: authn=access_token, its groups', async () => {
    const p = await checked({ authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs'], {}, {}, clock.now())}` });
    assert.equal(p.sub, 'alice@example.com');
    assert.deepEqual(p['groups'], ['devs']);
    assert.equal(p['authn'], 'access_token');
  });

  it('a Kubernetes service-account token (TokenReview): authn=kubernetes, the service account', async () => {
    const token = await api.issueToken({ namespace: 'kubeflow', name: 'ml-pipeline', audiences: [judge.config.audiences[0]!] });
    const p = await checked({ authorization: `Bearer ${token}` });
    assert.equal(p.sub, 'system:serviceaccount:kubeflow:ml-pipeline');
    assert.equal(p['authn'], 'kubernetes');
    assert.ok((p['groups'] as string[]).includes('system:serviceaccounts:kubeflow'));
  });

  it('a client’s forged assertion is replaced on allow and removed on a skipped path, where none is signed', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs'], {}, {}, clock.now());
    const res = await judge.grpc.check(
      '/api/things',
      { ...API, authorization: `Bearer ${token}`, [HEADER]: 'forged', x_identity_assertion: 'forged' },
      { host: HOST },
    );
    await verify(assertionOf(res));
    const skipped = await judge.grpc.check('/authservice/site/homepage', { [HEADER]: 'forged' }, { host: HOST });
    assert.equal(skipped.status.code, 0);
    assert.equal(optionValue(skipped.ok_response?.headers, HEADER), undefined);
    assert.ok(skipped.ok_response!.headers_to_remove.includes(HEADER));
    assert.ok(skipped.ok_response!.headers_to_remove.includes('x_identity_assertion'));
  });

  it('a skip rule with assertion: true signs for a caller with credentials and lets anyone else through without one', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs'], {}, {}, clock.now());
    const signed = await judge.grpc.check('/public/report', { ...API, authorization: `Bearer ${token}` }, { host: HOST });
    assert.equal((await verify(assertionOf(signed))).payload['authn'], 'access_token');
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }]) {
      const anonymous = await judge.grpc.check('/public/report', { ...API, ...headers, [HEADER]: 'forged' }, { host: HOST });
      assert.equal(anonymous.status.code, 0, JSON.stringify(anonymous.denied_response));
      assert.equal(optionValue(anonymous.ok_response?.headers, HEADER), undefined);
      assert.ok(anonymous.ok_response!.headers_to_remove.includes(HEADER));
    }
  });

  it('the HTTP door answers the same assertion; it is reused while fresh, refused after exp, and a new one is signed then', async () => {
    const token = await accessToken(op, 'bob@example.com', ['devs'], {}, {}, clock.now());
    const grpc = assertionOf(await judge.grpc.check('/api/things', { ...API, authorization: `Bearer ${token}` }, { host: HOST }));
    const http = await request(judge.app.ports.http, '/authservice/verify/api/things', { ...API, host: HOST, authorization: `Bearer ${token}` });
    assert.equal(http.status, 204, http.body);
    assert.equal(http.headers[HEADER], grpc, 'one assertion per identity and audience');
    const { payload } = await verify(grpc);
    clock.set(payload.exp! * 1000 + 1);
    await assert.rejects(verify(grpc), errors.JWTExpired);
    const fresh = assertionOf(
      await judge.grpc.check(
        '/api/things',
        { ...API, authorization: `Bearer ${await accessToken(op, 'bob@example.com', ['devs'], {}, {}, clock.now())}` },
        { host: HOST },
      ),
    );
    assert.notEqual(fresh, grpc);
    await verify(fresh);
  });

  it('the JWKS and discovery documents: Cache-Control, ETag, 304 on If-None-Match, no private key members', async () => {
    const web = judge.app.ports.web;
    for (const path of ['/authservice/.well-known/jwks.json', '/.well-known/jwks.json']) {
      const res = await send(web, path);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['cache-control']), /^public, max-age=\d+$/);
      assert.equal(res.headers['content-type'], 'application/json');
      const etag = String(res.headers['etag']);
      const keys = (JSON.parse(res.body) as { keys: Record<string, unknown>[] }).keys;
      assert.ok(keys.length >= 1);
      assert.ok(keys.every((k) => k['d'] === undefined && k['use'] === 'sig' && typeof k['kid'] === 'string'));
      const again = await send(web, path, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body, '');
    }
    const discovery = JSON.parse((await send(web, '/authservice/.well-known/openid-configuration')).body) as Record<string, unknown>;
    assert.equal(discovery['issuer'], issuer);
    assert.equal(discovery['jwks_uri'], `${issuer}/.well-known/jwks.json`);
  });
});

describe('identity assertions for introspected opaque tokens', () => {
  let op: OpaqueOp;
  let judge: Judged;
  let issuer: string;

  before(async () => {
    op = await startOpaqueOp();
    const a = await assertionEnv({ CLIENT_ID: BASIC.id, CLIENT_SECRET: BASIC.secret, ACCESS_TOKEN_AUTHN: 'introspection', ASSERTION_HEADER: 'Authorization' });
    issuer = a.issuer;
    judge = await startJudge(op.issuer, { env: a.env });
  });
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  it('authn=access_token from the introspection answer, in Authorization as Bearer <jwt> in place of the opaque token', async () => {
    const { accessToken: opaque } = await op.issue(ALICE);
    const res = await judge.grpc.check('/api/things', { ...API, authorization: `Bearer ${opaque}` }, { host: HOST });
    assert.equal(res.status.code, 0, JSON.stringify(res.denied_response));
    const value = optionValue(res.ok_response?.headers, 'authorization');
    assert.match(String(value), /^Bearer /);
    const jwt = String(value).slice('Bearer '.length);
    assert.notEqual(jwt, opaque);
    const { payload } = await (await requestAuthentication(issuer, HOST))(jwt);
    assert.equal(payload['authn'], 'access_token');
    assert.equal(payload['user'], 'alice');
    assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
    // The HTTP door answers it too, and never echoes the client's opaque token.
    const http = await request(judge.app.ports.http, '/authservice/verify/api/things', { ...API, host: HOST, authorization: `Bearer ${opaque}` });
    assert.equal(http.status, 204, http.body);
    assert.equal(http.headers['authorization'], value);
  });
});
