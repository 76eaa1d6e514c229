/**
 * Issue 14, "one path, judged and delivered", through the `forwarders:` modes that reverse-proxy
 * (verify, egress reverse, kube): the upstream (routing the raw path, case-insensitively, like
 * Express) receives the dot-resolved path or nothing (400), and never climbs out of its base path.
 * The egress forward proxy, which judges no path and has no base, forwards the client's target as
 * is. (The metadata mode proxies nothing: it serves documents it fetched itself.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../helpers/http-send.js';
import { startKubeStack, CLIENT_ID, type KubeStack } from '../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRawRouter, type RawRouted, type RawRouter } from '../helpers/raw-router.js';
import { startEgress } from './egress/kit.js';
import { CLIMBS, REFUSED } from './paths-kit.js';
import { bearer, claimsAt, sign, startVerify } from './verify/harness.js';

const SECRET = 'k'.repeat(40);
const HMAC = { keys: { source: 'hmac', secret: SECRET, encoding: 'raw' }, audience: 'https://api.example' };
const token = (): Promise<string> => sign(claimsAt(Date.now()), new TextEncoder().encode(SECRET), { alg: 'HS256' });
const routed = (body: string): RawRouted => JSON.parse(body) as RawRouted;
const CLIMB_OUT = ['/../secret', '/%2e%2e/secret', '/x/../../secret', '//../secret'];

let router: RawRouter;
before(async () => {
  router = await startRawRouter();
});
after(() => router.close());

/** Sends every path of `paths` and returns what the raw router received meanwhile. */
async function receivedFor(port: number, paths: readonly string[], headers: Record<string, string>, want: number): Promise<string[]> {
  const from = router.received.length;
  for (const p of paths) {
    const r = await send(port, p, { headers });
    assert.equal(r.status, want, `${p}: ${r.body}`);
    if (want === 200) assert.equal(routed(r.body).route, 'other', p);
    if (want === 400) assert.equal(r.body, 'Bad request: ambiguous path', p);
  }
  return router.received.slice(from);
}

describe('verify forwarder: the path it sends', () => {
  it('sends /admin/../ and its kin as /, refuses the ambiguous ones, never climbs out of the base path', async () => {
    const v = await startVerify({ ...HMAC, upstream: router.url });
    const auth = bearer(await token());
    assert.deepEqual(
      await receivedFor(v.port, CLIMBS, auth, 200),
      CLIMBS.map(() => '/'),
    );
    assert.deepEqual(await receivedFor(v.port, REFUSED, auth, 400), []);
    const based = await startVerify({ ...HMAC, upstream: `${router.url}/base` });
    assert.deepEqual(
      await receivedFor(based.port, CLIMB_OUT, auth, 200),
      CLIMB_OUT.map(() => '/base/secret'),
    );
  });
});

describe('egress forwarder: the path it sends', () => {
  it('reverse operation: sends /admin/../ as /, refuses the ambiguous ones, never climbs out of the base path', async () => {
    const e = await startEgress({ upstream: router.url, token: { source: 'static', token: 's' } });
    const based = await startEgress({ upstream: `${router.url}/base`, token: { source: 'static', token: 's' } });
    try {
      assert.deepEqual(
        await receivedFor(e.proxy.port, CLIMBS, {}, 200),
        CLIMBS.map(() => '/'),
      );
      assert.deepEqual(await receivedFor(e.proxy.port, REFUSED, {}, 400), []);
      assert.deepEqual(
        await receivedFor(based.proxy.port, CLIMB_OUT, {}, 200),
        CLIMB_OUT.map(() => '/base/secret'),
      );
    } finally {
      await e.stop();
      await based.stop();
    }
  });

  it('forward-proxy operation judges no path and has no base: the target goes as the client wrote it', async () => {
    const e = await startEgress({ token: { source: 'static', token: 's' } });
    try {
      const r = await send(e.proxy.port, `${router.url}/a%2Fb/../c`, { headers: { host: `127.0.0.1:${router.port}` } });
      assert.equal(r.status, 200);
      assert.equal(routed(r.body).url, '/a%2Fb/../c');
    } finally {
      await e.stop();
    }
  });
});

describe('kube forwarder: the path it sends', () => {
  let op: TestOp;
  let s: KubeStack;
  before(async () => {
    op = await startOp({ clientId: CLIENT_ID });
    s = await startKubeStack({ op });
  });
  after(async () => {
    await s.close();
    await op.stop();
  });

  it('sends the dot-resolved path to the API server and logs that one; refuses the ambiguous ones before authenticating', async () => {
    const auth = bearer(await s.token());
    const r = await send(s.port, '/api/v1/namespaces/default/../kube-system/secrets?limit=1', { headers: auth });
    assert.equal(r.status, 200);
    assert.equal(s.seen.at(-1)?.path, '/api/v1/namespaces/kube-system/secrets?limit=1');
    const before = s.seen.length;
    for (const p of ['/api/v1/namespaces/default%2f..%2fkube-system/secrets', '/api/v1/namespaces/default/pods/x;/..', '/api/v1/%zz']) {
      const refused = await send(s.port, p, { headers: auth });
      assert.equal(refused.status, 400, p);
    }
    assert.equal(s.seen.length, before);
    assert.ok(s.accessLines().some((l) => /ambiguous path/.test(l)) || s.logs.some((l) => /ambiguous path/.test(l)));
  });
});
