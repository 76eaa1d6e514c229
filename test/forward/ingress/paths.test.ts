/**
 * Issue 14, "one path, judged and delivered", through the ingress forwarder: the upstream (routing
 * the raw path, case-insensitively, like Express) receives exactly the path the judge judged —
 * dot segments resolved, `//` merged — or the request is refused 400; a base path is never
 * climbed out of. Before the fix a guest's `/admin/../` was judged as `/` and reached `/admin`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { rulesAuthorizer } from '../../../src/authz/rules.js';
import { createProxyEngine } from '../../../src/forward/engine/proxy.js';
import { silentLogger } from '../../../src/obs/log.js';
import { normalizePath } from '../../../src/judge/path.js';
import { send } from '../../helpers/http-send.js';
import { startRawRouter, type RawRouted } from '../../helpers/raw-router.js';
import { startIngress, testJudge } from './harness.js';
import { CLIMBS, REACH_ADMIN, REFUSED } from '../paths-kit.js';

/** `/admin` for admins only, everything else for any signed-in user. */
const rules = rulesAuthorizer([
  { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'] } },
  { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
])!;
const guest = { 'x-test-user': 'bob', 'x-test-groups': 'guests' };

async function stack(upstreamSuffix = '') {
  const router = await startRawRouter();
  after(() => router.close());
  const h = await startIngress({ judge: testJudge([rules]), upstream: router.url + upstreamSuffix });
  return { ...h, router };
}

describe('ingress forwards the path it judged', () => {
  it('sends a guest\'s dot-segment paths resolved: the upstream gets "/", never an /admin route', async () => {
    const h = await stack();
    for (const path of CLIMBS) {
      const r = await send(h.port, path, { headers: guest });
      assert.equal(r.status, 200, path);
      const got = JSON.parse(r.body) as RawRouted;
      assert.equal(got.route, 'other', path);
      assert.equal(got.url, '/', path);
    }
    assert.deepEqual(
      h.router.received,
      CLIMBS.map(() => '/'),
    );
    // what the judge judged is what was sent
    assert.deepEqual(
      h.seen.map((r) => r.path),
      CLIMBS.map(() => '/'),
    );
  });

  it('judges a path that reaches /admin only through normalization as /admin: a guest is refused, an admin gets /admin', async () => {
    const h = await stack();
    for (const path of REACH_ADMIN) {
      assert.equal((await send(h.port, path, { headers: guest })).status, 403, path);
      const r = await send(h.port, path, { headers: { 'x-test-user': 'ann', 'x-test-groups': 'admins' } });
      assert.equal(r.status, 200, path);
      assert.equal((JSON.parse(r.body) as RawRouted).url, normalizePath(path).path, path);
    }
    assert.deepEqual(
      h.router.received,
      REACH_ADMIN.map((p) => normalizePath(p).path),
    );
  });

  it('answers 400 to a path it would have to rewrite ambiguously, before judging; the upstream sees nothing', async () => {
    const h = await stack();
    for (const path of REFUSED) {
      const r = await send(h.port, path, { headers: { 'x-test-user': 'ann', 'x-test-groups': 'admins' } });
      assert.equal(r.status, 400, path);
      assert.equal(r.body, 'Bad request: ambiguous path', path);
    }
    assert.deepEqual(h.router.received, []);
    assert.deepEqual(h.seen, []);
  });

  it("keeps the query as sent and the client's spelling of kept segments", async () => {
    const h = await stack();
    const r = await send(h.port, '/docs/../a%20b/caf%C3%A9/%7Euser/x?next=%2Fadmin%2F..&q=a%20b', { headers: guest });
    assert.equal((JSON.parse(r.body) as RawRouted).url, '/a%20b/caf%C3%A9/~user/x?next=%2Fadmin%2F..&q=a%20b');
  });

  it('never climbs out of the upstream base path', async () => {
    const h = await stack('/base');
    for (const path of ['/../secret', '/%2e%2e/secret', '/x/../../secret', '//../secret']) {
      const r = await send(h.port, path, { headers: guest });
      assert.equal((JSON.parse(r.body) as RawRouted).url, '/base/secret', path);
    }
    assert.equal((await send(h.port, '/..%2fsecret', { headers: guest })).status, 400);
  });

  it('the shared engine itself sends the canonical target or answers 400, whichever mode calls it', async () => {
    const router = await startRawRouter();
    after(() => router.close());
    const engine = createProxyEngine({ upstream: `${router.url}/base`, log: silentLogger });
    const front = createServer((req, res) =>
      engine.forward(req, res, {
        set: [],
        remove: [],
        stripCookies: [],
        responseHeaders: [],
        requestId: 'r',
        client: { peer: '127.0.0.1', trusted: false, proto: 'http', host: 'h' },
      }),
    );
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    after(() => {
      engine.close();
      front.close();
    });
    const port = (front.address() as AddressInfo).port;
    assert.equal((JSON.parse((await send(port, '/admin/../../x?q=1')).body) as RawRouted).url, '/base/x?q=1');
    const refused = await send(port, '/a%2f..%2f..%2fx');
    assert.deepEqual([refused.status, refused.body], [400, 'Bad request: ambiguous path']);
    assert.deepEqual(router.received, ['/base/x?q=1']);
  });
});
