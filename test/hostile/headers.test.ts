/**
 * Hostile headers against the assembled service: identity headers forged in every case and `-`/`_`
 * spelling, repeated and comma-joined, through the forwarder (what the upstream receives), the
 * HTTP front door (what Envoy is told to set and remove) and gRPC; `X-Forwarded-*`, `Forwarded`,
 * `X-Real-IP`, `X-Original-URL/URI` and `X-Rewrite-URL` from a peer that is not a trusted proxy;
 * and hop-by-hop abuse — a `Connection` header naming the identity, framing or forwarding headers
 * so that a proxy would drop them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_IDENTITY_SPELLINGS, optionValue, request, SKIP_REMOVES } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { API } from './kit.js';
import { echoOf, startGuarded, type Guarded } from './stack.js';

/** Every case and spelling of the three identity headers, one forged value each, plus repeats and a comma-joined one. */
const FORGED: Record<string, string | string[]> = {
  'kubeflow-userid': ['root@example.com', 'root@example.com, alice@example.com'],
  'Kubeflow-Userid': 'root@example.com',
  KUBEFLOW_USERID: 'root@example.com',
  kubeflow_userid: 'root@example.com',
  'KUBEFLOW-groups': 'admins',
  kubeflow_groups: ['admins', 'admins,root'],
  'Auth-Method': 'cookie',
  AUTH_METHOD: 'cookie',
  auth_method: 'cookie',
};

describe('hostile headers', () => {
  let g: Guarded;
  before(async () => {
    // Loopback is NOT a trusted proxy here: the test client is an ordinary client.
    g = await startGuarded({ SKIP_AUTH_URLS: '/public', TRUSTED_PROXIES: '10.0.0.0/8' });
  });
  after(() => g.stop());

  it('forwarder: the upstream gets exactly the judge’s identity (token or cookie), never a forged one in any spelling', async () => {
    for (const credential of [{ authorization: `Bearer ${await g.aliceToken()}` }, { cookie: await g.session() }]) {
      const r = await send(g.ingress, '/app/x', { headers: { ...FORGED, ...credential, ...API } });
      assert.equal(r.status, 200);
      const h = echoOf(r.body).headers;
      assert.deepEqual(h['kubeflow-userid'], ['alice@example.com']);
      assert.deepEqual(h['kubeflow-groups'], ['devs']);
      assert.deepEqual(h['auth-method'], ['authorization' in credential ? 'header' : 'cookie']);
      for (const n of ['kubeflow_userid', 'kubeflow_groups', 'auth_method']) assert.equal(h[n], undefined, n);
    }
    // A skipped path gets no identity at all.
    const skipped = echoOf((await send(g.ingress, '/public/x', { headers: FORGED })).body).headers;
    for (const n of ALL_IDENTITY_SPELLINGS) assert.equal(skipped[n], undefined, n);
  });

  it('HTTP front door: sets the identity and tells Envoy to remove every other spelling; a skip removes all', async () => {
    const r = await request(g.http, '/app/x', { ...FORGED, authorization: `Bearer ${await g.aliceToken()}`, ...API });
    assert.equal(r.status, 200);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    const removed = String(r.headers['x-envoy-auth-headers-to-remove']).split(', ');
    for (const n of ['kubeflow_userid', 'kubeflow_groups', 'auth_method']) assert.ok(removed.includes(n), n);
    const s = await request(g.http, '/public/x', FORGED);
    assert.equal(s.status, 200);
    assert.equal(s.headers['kubeflow-userid'], undefined);
    assert.deepEqual(String(s.headers['x-envoy-auth-headers-to-remove']).split(', ').sort(), SKIP_REMOVES);
  });

  it('gRPC: identity set with append false, every other spelling in headers_to_remove, also from header_map', async () => {
    const lower = Object.fromEntries(Object.entries(FORGED).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]));
    const ok = await g.judge.grpc.check('/app/x', { ...lower, authorization: `Bearer ${await g.aliceToken()}`, ...API });
    assert.equal(ok.status.code, 0);
    assert.equal(optionValue(ok.ok_response?.headers, 'kubeflow-userid'), 'alice@example.com');
    assert.ok(ok.ok_response!.headers.every((h) => h.append?.value === false));
    for (const n of ['kubeflow_userid', 'kubeflow_groups', 'auth_method']) assert.ok(ok.ok_response!.headers_to_remove.includes(n), n);
    const skip = await g.judge.grpc.check('/public/x', lower);
    assert.deepEqual([...skip.ok_response!.headers_to_remove].sort(), SKIP_REMOVES);
  });

  it('forwarder: an untrusted client’s forwarding and rewrite headers never reach the upstream', async () => {
    const r = await send(g.ingress, '/public/x', {
      headers: {
        'x-forwarded-for': '203.0.113.7',
        'X-Forwarded-Host': 'admin.example.com',
        'x-forwarded-proto': 'https',
        'x-forwarded-prefix': '/admin',
        forwarded: 'for=203.0.113.7;host=admin.example.com;proto=https',
        'x-real-ip': '203.0.113.7',
        'X-Original-URL': '/admin/delete-everything',
        'x-original-uri': '/admin',
        'x-original-method': 'DELETE',
        'X-Rewrite-URL': '/admin/delete-everything',
      },
    });
    assert.equal(r.status, 200);
    const e = echoOf(r.body);
    assert.equal(e.url, '/public/x');
    const h = e.headers;
    for (const n of ['forwarded', 'x-real-ip', 'x-original-url', 'x-original-uri', 'x-original-method', 'x-rewrite-url', 'x-forwarded-prefix'])
      assert.equal(h[n], undefined, n);
    assert.deepEqual(h['x-forwarded-for'], ['127.0.0.1']);
    assert.deepEqual(h['x-forwarded-host'], [`127.0.0.1:${g.ingress}`]);
    assert.deepEqual(h['x-forwarded-proto'], ['http']);
  });

  it('nginx verify path: X-Original-URL/URI and X-Rewrite-URL from an untrusted peer choose nothing', async () => {
    for (const h of [{ 'x-original-uri': '/public/x' }, { 'x-original-url': 'http://app.example.com/public/x' }, { 'x-rewrite-url': '/public/x' }]) {
      assert.equal((await request(g.http, '/authservice/verify', { ...h, ...API })).status, 401, JSON.stringify(h));
    }
    assert.equal((await request(g.http, '/authservice/verify/public/x', { 'x-original-uri': '/admin', ...API })).status, 204);
  });

  it('hop-by-hop abuse: Connection naming identity, forwarding, framing and credential headers drops none of ours', async () => {
    const body = 'exactly this body';
    const r = await send(g.ingress, '/app/x', {
      method: 'POST',
      body,
      headers: {
        connection: 'keep-alive, kubeflow-userid, kubeflow-groups, auth-method, x-forwarded-for, x-request-id, content-length, host, cookie',
        authorization: `Bearer ${await g.aliceToken()}`,
        'content-type': 'text/plain',
        kubeflow_userid: 'root@example.com',
        ...API,
      },
    });
    assert.equal(r.status, 200);
    const e = echoOf(r.body);
    assert.equal(e.body, body);
    assert.deepEqual(e.headers['kubeflow-userid'], ['alice@example.com']);
    assert.deepEqual(e.headers['kubeflow-groups'], ['devs']);
    assert.deepEqual(e.headers['auth-method'], ['header']);
    assert.equal(e.headers['kubeflow_userid'], undefined);
    assert.deepEqual(e.headers['x-forwarded-for'], ['127.0.0.1']);
    assert.equal(e.headers['x-request-id']?.length, 1);
    assert.equal(e.headers['connection']?.some((v) => /kubeflow/i.test(v)) ?? false, false);
    // On a skipped path, Connection cannot bring a forged identity back either.
    const s = echoOf(
      (await send(g.ingress, '/public/x', { headers: { connection: 'kubeflow-userid', kubeflow_userid: 'root', 'kubeflow-userid': 'root' } })).body,
    );
    for (const n of ALL_IDENTITY_SPELLINGS) assert.equal(s.headers[n], undefined, n);
  });
});

/**
 * Identity headers of the tools people migrate from, URL-rewrite headers and the judge's own
 * credentials: a client sends them all, in odd spellings, through every front door; the upstream
 * (forwarder) or the proxy's edits (HTTP, gRPC, nginx/Traefik answers) never let one through.
 */
const MIGRATED: Record<string, string> = {
  'X-Forwarded-User': 'root',
  x_forwarded_email: 'root@example.com',
  'X-Forwarded-Groups': 'admins',
  'x-forwarded-preferred-username': 'root',
  'X-Auth-Request-User': 'root',
  x_auth_request_groups: 'admins',
  'X-Auth-Request-Never-Heard-Of': 'root',
  'Remote-User': 'root',
  remote_groups: 'admins',
  'Remote-Email': 'root@example.com',
  'Remote-Name': 'Root',
  'X-Remote-User': 'root',
  'X-Vouch-User': 'root',
  'X-Authenticated-User': 'root',
  'X-Auth-Subject': 'root',
  'X-Auth-Issuer': 'https://evil.example',
  'X-Original-URL': '/admin',
  'x-original-anything': '/admin',
  'X-Rewrite-URL': '/admin',
  'X-Forwarded-Uri': '/admin',
  'X-Tenant': 'other',
  x_corp_role: 'admin',
};
const MIGRATED_NAMES = Object.keys(MIGRATED).map((n) => n.toLowerCase());
const JAR = (session: string): string => `theme=dark; ${session}; oidc_state_csrf=abc; oidc_state_csrf_k1=def; lang=en`;

describe('hostile headers: foreign identity, rewrite headers and the judge’s own credentials', () => {
  let g: Guarded;
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public', TRUSTED_PROXIES: '127.0.0.1/32', STRIP_HEADERS: 'x-tenant, x-corp-*' });
  });
  after(() => g.stop());

  it('forwarder: the upstream never sees them, on an allow (cookie or AUTH_HEADER session) or a skip; other cookies pass', async () => {
    const session = await g.session();
    const sid = session.slice(session.indexOf('=') + 1);
    for (const [path, credential] of [
      ['/app/x', { cookie: JAR(session) }],
      ['/app/x', { authorization: `Bearer ${sid}`, cookie: 'theme=dark; lang=en' }],
      ['/public/x', { cookie: JAR(session) }],
    ] as const) {
      const r = await send(g.ingress, path, { headers: { ...MIGRATED, ...credential, ...API } });
      assert.equal(r.status, 200, `${path} ${r.body}`);
      const h = echoOf(r.body).headers;
      for (const n of MIGRATED_NAMES) assert.equal(h[n], undefined, `${path}: ${n}`);
      assert.deepEqual(h['cookie'], ['theme=dark; lang=en'], path);
      assert.equal(h['authorization'], undefined, `${path}: the session id in AUTH_HEADER`);
      if (path === '/app/x') assert.deepEqual(h['kubeflow-userid'], ['alice@example.com']);
    }
    // The judge's cookies alone: no Cookie header at all.
    const only = echoOf((await send(g.ingress, '/app/x', { headers: { cookie: session, ...API } })).body).headers;
    assert.equal(only['cookie'], undefined);
    // A bearer token that authenticated is the app's business: it goes on.
    const token = await g.aliceToken();
    assert.deepEqual(echoOf((await send(g.ingress, '/app/x', { headers: { authorization: `Bearer ${token}`, ...API } })).body).headers['authorization'], [
      `Bearer ${token}`,
    ]);
  });

  it('gRPC: Cookie rewritten with append false, or removed; every foreign name the request carries in headers_to_remove', async () => {
    const session = await g.session();
    const lower = Object.fromEntries(Object.entries(MIGRATED).map(([k, v]) => [k.toLowerCase(), v]));
    for (const path of ['/app/x', '/public/x']) {
      const ok = await g.judge.grpc.check(path, { ...lower, cookie: JAR(session), ...API });
      assert.equal(ok.status.code, 0, path);
      const cookie = ok.ok_response!.headers.find((h) => h.header.key === 'cookie');
      assert.equal(cookie?.header.value, 'theme=dark; lang=en', path);
      assert.equal(cookie?.append?.value, false);
      for (const n of MIGRATED_NAMES) assert.ok(ok.ok_response!.headers_to_remove.includes(n), `${path}: ${n}`);
      assert.ok(!ok.ok_response!.headers_to_remove.includes('cookie'));
    }
    const only = await g.judge.grpc.check('/app/x', { cookie: session, ...API });
    assert.ok(only.ok_response!.headers_to_remove.includes('cookie'));
    assert.equal(optionValue(only.ok_response!.headers, 'cookie'), undefined);
    const sid = session.slice(session.indexOf('=') + 1);
    const header = await g.judge.grpc.check('/app/x', { authorization: `Bearer ${sid}`, ...API });
    assert.ok(header.ok_response!.headers_to_remove.includes('authorization'), 'AUTH_HEADER carried the session id');
    const plain = await g.judge.grpc.check('/app/x', { cookie: 'a=1', ...API, authorization: `Bearer ${await g.aliceToken()}` });
    assert.ok(!plain.ok_response!.headers_to_remove.includes('cookie') && !plain.ok_response!.headers_to_remove.includes('authorization'));
    assert.equal(optionValue(plain.ok_response!.headers, 'cookie'), undefined, 'an unchanged Cookie is left alone');
  });

  it('HTTP (Envoy http_service): the rewritten cookie as an allowed header, or cookie in x-envoy-auth-headers-to-remove', async () => {
    const session = await g.session();
    const r = await request(g.http, '/app/x', { ...MIGRATED, cookie: JAR(session), ...API });
    assert.equal(r.status, 200);
    assert.equal(r.headers['cookie'], 'theme=dark; lang=en');
    const removed = String(r.headers['x-envoy-auth-headers-to-remove']).split(', ');
    for (const n of MIGRATED_NAMES) assert.ok(removed.includes(n), n);
    const only = await request(g.http, '/app/x', { cookie: session, ...API });
    assert.equal(only.headers['cookie'], undefined);
    assert.ok(String(only.headers['x-envoy-auth-headers-to-remove']).split(', ').includes('cookie'));
  });

  it('nginx (verify) and Traefik (forward-auth) answers carry the Cookie the upstream may see, and none when nothing is left', async () => {
    const session = await g.session();
    const verify = await request(g.http, '/authservice/verify/app/x', { cookie: JAR(session), ...API });
    assert.equal(verify.status, 204);
    assert.equal(verify.headers['cookie'], 'theme=dark; lang=en');
    const fa = { 'x-forwarded-uri': '/app/x', 'x-forwarded-method': 'GET', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' };
    const traefik = await request(g.http, '/authservice/forward-auth', { ...fa, cookie: JAR(session), ...API });
    assert.equal(traefik.status, 200);
    assert.equal(traefik.headers['cookie'], 'theme=dark; lang=en');
    const untouched = await request(g.http, '/authservice/forward-auth', {
      ...fa,
      cookie: `a=1; ${session}`.replace(`; ${session}`, ''),
      authorization: `Bearer ${await g.aliceToken()}`,
      ...API,
    });
    assert.equal(untouched.headers['cookie'], 'a=1', 'a Cookie without the judge’s is echoed as it is (Traefik replaces the header with the answer’s)');
    const only = await request(g.http, '/authservice/verify/app/x', { cookie: session, ...API });
    assert.equal(only.status, 204);
    assert.equal(only.headers['cookie'], undefined);
    // Authorization likewise: a bearer token that authenticated is echoed, a session id is not.
    const token = await g.aliceToken();
    assert.equal(
      (await request(g.http, '/authservice/verify/app/x', { authorization: `Bearer ${token}`, ...API })).headers['authorization'],
      `Bearer ${token}`,
    );
    const sid = session.slice(session.indexOf('=') + 1);
    const bySession = await request(g.http, '/authservice/forward-auth', { ...fa, authorization: `Bearer ${sid}`, ...API });
    assert.equal(bySession.status, 200);
    assert.equal(bySession.headers['authorization'], undefined);
  });
});
