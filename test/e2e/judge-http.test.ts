/**
 * The assembled service through its HTTP front door (real node:http requests), in front of a real
 * OpenID Provider, in the three conventions it serves on one port: Envoy `http_service` (with
 * HTTP_CHECK_PATH_PREFIX=/check), Traefik ForwardAuth and nginx `auth_request` (verify path).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessToken, FORGEABLE_SPELLINGS, metric, request, SET_NAMES, SKIP_REMOVES, startJudge, type Judged } from '../helpers/app.js';
import type { Sent } from '../helpers/http-send.js';
import { startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' };
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
const FORGED = { 'kubeflow-userid': 'admin@example.com', kubeflow_userid: 'admin@example.com', 'Kubeflow-Groups': 'admins', auth_method: 'cookie' };

/** The `x-envoy-auth-headers-to-remove` list of a reply. */
const removed = (r: Sent): string[] =>
  String(r.headers['x-envoy-auth-headers-to-remove'] ?? '')
    .split(/,\s*/)
    .filter(Boolean);

function identity(r: Sent): [unknown, unknown, unknown] {
  return [r.headers['kubeflow-userid'], r.headers['kubeflow-groups'], r.headers['auth-method']];
}

function assertUnauthenticated(r: Sent): void {
  assert.equal(r.status, 401, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="oidc-judge"');
  assert.deepEqual(JSON.parse(r.body), { error: 'unauthenticated', message: 'Authentication required' });
  assert.equal(r.headers['kubeflow-userid'], undefined);
}

describe('HTTP front door of the assembled service, real OpenID Provider', () => {
  let op: TestOp;
  let judge: Judged;
  let port: number;
  let alice: Record<string, string>;
  let mallory: Record<string, string>;

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { env: { HTTP_CHECK_PATH_PREFIX: '/check', SKIP_AUTH_URLS: '/public', GROUPS_ALLOWLIST: 'admins,devs' } });
    port = judge.app.ports.http;
    alice = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs', 'ops'])}`, ...API };
    mallory = { authorization: `Bearer ${await accessToken(op, 'mallory@example.com', ['guests'])}`, ...API };
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  describe('Envoy http_service (path_prefix /check)', () => {
    it('a valid token → 200 with the identity headers and x-envoy-auth-headers-to-remove; forged ones overridden', async () => {
      const r = await request(port, '/check/api/things?page=2', { ...alice, ...FORGED });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(identity(r), ['alice@example.com', 'devs,ops', 'header']);
      for (const name of FORGEABLE_SPELLINGS) assert.ok(removed(r).includes(name), `${name} is removed`);
      for (const name of SET_NAMES) assert.ok(!removed(r).includes(name), `${name} is set, so not removed`);
      assert.equal(r.body, '');
    });

    it('no credentials → 401 JSON with a challenge; a browser navigation → 302 to the provider', async () => {
      assertUnauthenticated(await request(port, '/check/api', { ...API, ...FORGED }));
      const page = await request(port, '/check/dashboard', NAVIGATION);
      assert.equal(page.status, 302);
      assert.equal(new URL(String(page.headers['location'])).origin, op.issuer);
    });

    it('an expired token → 401 invalid_token; a user outside GROUPS_ALLOWLIST → 403', async () => {
      const old = await accessToken(op, 'alice@example.com', ['devs'], {}, {}, Date.now() - 3_600_000);
      const expired = await request(port, '/check/api', { authorization: `Bearer ${old}`, ...API });
      assert.equal(expired.status, 401);
      assert.match(String(expired.headers['www-authenticate']), /error="invalid_token"/);
      const denied = await request(port, '/check/api', mallory);
      assert.equal(denied.status, 403);
      assert.deepEqual(JSON.parse(denied.body), { error: 'forbidden', message: "User's groups ([guests]) are not in allowlist." });
      assert.equal(denied.headers['kubeflow-userid'], undefined);
    });

    it('a skipped path → 200 without identity, every spelling removed; look-alike paths must authenticate', async () => {
      const r = await request(port, '/check/public/app.js', { ...API, ...FORGED });
      assert.equal(r.status, 200);
      assert.deepEqual(identity(r), [undefined, undefined, undefined]);
      assert.deepEqual(removed(r).sort(), SKIP_REMOVES);
      for (const path of ['/check/public/../admin', '/check/public%2f..%2fadmin', '/check/publicity']) {
        assertUnauthenticated(await request(port, path, { ...API, ...FORGED }));
      }
      assert.equal((await request(port, '/check/authservice/site/homepage', NAVIGATION)).status, 200);
    });

    it('a check outside the path prefix → 400', async () => {
      const r = await request(port, '/api/things', alice);
      assert.equal(r.status, 400);
      assert.equal(r.headers['kubeflow-userid'], undefined);
    });
  });

  describe('Traefik ForwardAuth at /authservice/forward-auth (127.0.0.1 is trusted by default)', () => {
    const forwarded = (uri: string, method = 'GET'): Record<string, string> => ({
      'x-forwarded-method': method,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example.com',
      'x-forwarded-uri': uri,
    });

    it('judges the forwarded request: 200 with identity, 401, 403', async () => {
      const ok = await request(port, '/authservice/forward-auth', { ...alice, ...FORGED, ...forwarded('/api/things?x=1') });
      assert.equal(ok.status, 200, ok.body);
      assert.deepEqual(identity(ok), ['alice@example.com', 'devs,ops', 'header']);
      assertUnauthenticated(await request(port, '/authservice/forward-auth', { ...API, ...forwarded('/api/things') }));
      assert.equal((await request(port, '/authservice/forward-auth', { ...mallory, ...forwarded('/api/things', 'POST') })).status, 403);
    });

    it('skips by the forwarded URI, never by the forward-auth path', async () => {
      const skipped = await request(port, '/authservice/forward-auth', { ...API, ...FORGED, ...forwarded('/public/logo.png') });
      assert.equal(skipped.status, 200);
      assert.deepEqual(identity(skipped), [undefined, undefined, undefined]);
      assertUnauthenticated(await request(port, '/authservice/forward-auth', { ...API, ...forwarded('/public/../admin') }));
      assert.equal((await request(port, '/authservice/forward-auth', API)).status, 400, 'no X-Forwarded-Uri');
    });
  });

  describe('nginx auth_request at /authservice/verify/<uri>', () => {
    it('204 with identity / 401 / 403, and never a page or a redirect', async () => {
      const ok = await request(port, '/authservice/verify/api/things?x=1', { ...alice, ...FORGED });
      assert.equal(ok.status, 204);
      assert.deepEqual(identity(ok), ['alice@example.com', 'devs,ops', 'header']);
      assert.equal((await request(port, '/authservice/verify/api/things', API)).status, 401);
      const browser = await request(port, '/authservice/verify/dashboard', NAVIGATION);
      assert.equal(browser.status, 401);
      assert.equal(browser.headers.location, undefined);
      assert.equal((await request(port, '/authservice/verify/api/things', mallory)).status, 403);
    });

    it('skipped paths → 204 without identity; look-alikes → 401', async () => {
      const skipped = await request(port, '/authservice/verify/public/app.js', { ...API, ...FORGED });
      assert.equal(skipped.status, 204);
      assert.deepEqual(identity(skipped), [undefined, undefined, undefined]);
      assert.equal((await request(port, '/authservice/verify/public/../admin', API)).status, 401);
      assert.equal((await request(port, '/authservice/verify/public%2f..%2fadmin', API)).status, 401);
    });
  });

  it('/metrics counts decisions per front door', async () => {
    const health = judge.app.ports.health;
    const labels = (via: string) => ({ outcome: 'allow', status: '200', authenticator: 'access_token', via });
    const vias = ['http', 'forward-auth', 'verify'];
    const before = await Promise.all(vias.map((v) => metric(health, 'oidc_judge_decisions_total', labels(v))));
    await request(port, '/check/api', alice);
    await request(port, '/authservice/forward-auth', { ...alice, 'x-forwarded-uri': '/api' });
    await request(port, '/authservice/verify/api', alice);
    const afterwards = await Promise.all(vias.map((v) => metric(health, 'oidc_judge_decisions_total', labels(v))));
    assert.deepEqual(
      afterwards,
      before.map((n) => n + 1),
    );
  });
});
