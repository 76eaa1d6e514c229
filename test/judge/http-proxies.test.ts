import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { deny } from '../../src/judge/decision.js';
import { send } from '../helpers/http-send.js';
import { allowAlice, allowSkip, forbiddenHtml, login302, start, unauthorized, type Harness } from '../helpers/http-judge.js';

describe('Traefik ForwardAuth', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });
  const forwarded = {
    'x-forwarded-method': 'PUT',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'App.Example',
    'x-forwarded-uri': '/app/x?y=1',
    'x-forwarded-for': '203.0.113.7',
  };

  it('judges the X-Forwarded-* URL of a trusted proxy and answers 200 with identity headers', async () => {
    h.decide = () => allowAlice;
    const r = await send(h.port, '/authservice/forward-auth', { headers: forwarded });
    assert.equal(r.status, 200);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(r.headers['x-envoy-auth-headers-to-remove'], undefined);
    const j = h.seen.at(-1)!;
    assert.deepEqual([j.method, j.scheme, j.host, j.path, j.via, j.denyStyle], ['PUT', 'https', 'app.example', '/app/x?y=1', 'forward-auth', 'redirect']);
  });

  it('passes a 302 login redirect with its cookies through', async () => {
    h.decide = () => login302;
    const r = await send(h.port, '/authservice/forward-auth', { headers: forwarded });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://idp.example/auth?client_id=c&state=s');
    assert.equal(r.headers['set-cookie']?.length, 2);
  });

  it('answers 400 when a trusted proxy sends no X-Forwarded-Uri', async () => {
    const before = h.seen.length;
    const { 'x-forwarded-uri': _, ...rest } = forwarded;
    assert.equal((await send(h.port, '/authservice/forward-auth', { headers: rest })).status, 400);
    assert.equal(h.seen.length, before);
  });

  it('answers 403 to an untrusted peer without calling the judge, and says why in the log', async () => {
    const u = await start({ trustedProxies: ['10.9.9.9/32'] });
    const r = await send(u.port, '/authservice/forward-auth', { headers: { ...forwarded, 'x-forwarded-uri': '/public' } });
    assert.equal(r.status, 403);
    assert.match(r.body, /untrusted proxy/);
    assert.equal(u.seen.length, 0);
    const warning = u.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['level'] === 'warn');
    assert.ok(warning, 'a warning is logged');
    assert.equal(warning['peer'], '127.0.0.1');
    assert.match(String(warning['msg']), /127\.0\.0\.1.*TRUSTED_PROXIES.*10\.9\.9\.9\/32/);
  });
});

describe('nginx auth_request (verify)', () => {
  let h: Harness;
  before(async () => {
    // An absolute VERIFY_AUTH_URL, as oidc-authservice's README suggests: only its path counts.
    h = await start({ verifyPath: 'https://gw.example/authservice/verify' });
  });

  it('judges the URI after the verify path and answers 204 with identity headers', async () => {
    h.decide = () => allowAlice;
    const r = await send(h.port, '/authservice/verify/app/x?y=1', { headers: { host: 'app.example', 'x-forwarded-proto': 'https' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(r.headers['content-length'], undefined);
    assert.equal(r.body, '');
    const j = h.seen.at(-1)!;
    assert.deepEqual([j.method, j.scheme, j.host, j.path, j.via, j.denyStyle], ['GET', 'https', 'app.example', '/app/x?y=1', 'verify', 'status-only']);
  });

  it('answers 401 with WWW-Authenticate and 403', async () => {
    h.decide = () => unauthorized;
    const r401 = await send(h.port, '/authservice/verify/api');
    assert.equal(r401.status, 401);
    assert.match(String(r401.headers['www-authenticate']), /^Bearer/);
    h.decide = () => forbiddenHtml;
    assert.equal((await send(h.port, '/authservice/verify/api')).status, 403);
    h.decide = () => ({ ...deny(403, 'forbidden', ''), status: 204 });
    assert.equal((await send(h.port, '/authservice/verify/api')).status, 403, 'a deny never leaves as 2xx');
  });

  it('takes X-Original-URI / X-Original-Method from a trusted peer when nothing follows the verify path', async () => {
    h.decide = () => allowSkip;
    await send(h.port, '/authservice/verify', { headers: { 'x-original-uri': '/orig/p?z=1', 'x-original-method': 'post' } });
    assert.deepEqual([h.seen.at(-1)!.path, h.seen.at(-1)!.method], ['/orig/p?z=1', 'POST']);
    await send(h.port, '/authservice/verify', { headers: { 'x-original-url': 'https://App.Example/u/v?w=1' } });
    const j = h.seen.at(-1)!;
    assert.deepEqual([j.path, j.scheme, j.host], ['/u/v?w=1', 'https', 'app.example']);
  });

  it('ignores X-Original-* and X-Forwarded-* from an untrusted peer', async () => {
    const u = await start({ trustedProxies: ['10.9.9.9/32'] });
    u.decide = () => allowSkip;
    const spoof = {
      'x-original-uri': '/public',
      'x-original-method': 'DELETE',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      host: 'app.example',
    };
    await send(u.port, '/authservice/verify', { headers: spoof });
    const j = u.seen.at(-1)!;
    assert.deepEqual([j.path, j.method, j.scheme, j.host], ['/', 'GET', 'http', 'app.example']);
    await send(u.port, '/authservice/verify/app?q', { headers: spoof });
    assert.equal(u.seen.at(-1)!.path, '/app?q');
  });

  it('defect #1 regression: the verify path itself is never what gets judged', async () => {
    // Like oidc-authservice, this judge skips everything under /authservice/.
    h.decide = (req) => (req.path.startsWith('/authservice/') ? allowSkip : unauthorized);
    const paths: string[] = [];
    for (const target of ['/authservice/verify', '/authservice/verify/', '/authservice/verify?x=1', '/authservice/verify/app']) {
      const r = await send(h.port, target);
      assert.equal(r.status, 401, target);
      paths.push(h.seen.at(-1)!.path);
    }
    assert.deepEqual(paths, ['/', '/', '/', '/app']);
  });

  it('does not treat a longer segment as the verify path', async () => {
    h.decide = () => allowSkip;
    const r = await send(h.port, '/authservice/verifyx/app');
    assert.equal(r.status, 200);
    assert.deepEqual([h.seen.at(-1)!.via, h.seen.at(-1)!.path], ['http', '/authservice/verifyx/app']);
  });
});
