/**
 * Issue 14, "one path, judged and delivered", through a real nginx running
 * examples/nginx/auth-request.conf.template in front of the assembled service and an upstream
 * that routes the raw path case-insensitively, like Express: a guest's `/admin/../`,
 * `/admin/%2e%2e/`, `//admin` or `/public/../admin` never reaches an /admin route. nginx sends the
 * normalized URI the judge judged (`proxy_pass http://app/;`) and refuses the ambiguous ones (400).
 * Before the fix (`proxy_pass http://app;`) the app received `/admin/../` and routed it to /admin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessToken, request, startJudge, type Judged } from '../helpers/app.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRawRouter, type RawRouted, type RawRouter } from '../helpers/raw-router.js';
import { CLIMBS, REACH_ADMIN } from '../forward/paths-kit.js';

/** /admin for the admins group, everything else for anyone signed in (the demo's rules). */
const RULES = `
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { groups: [admins] }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;

/** What nginx refuses before judging (the template's map); nginx itself refuses `%00`, `%zz`, a lone `%`. */
const REFUSED = [
  '/admin%2f..%2f',
  '/x%2F..%2Fadmin',
  '/admin%5c..',
  '/adm%25%36%39n',
  '/a;x/../admin',
  '/admin/..;/',
  '/a\\..\\admin',
  '/a%0d%0ax',
  '/a%3b/',
  '/a%7f',
  '/a%00',
  '/a%zz',
];

describe('nginx (auth-request.conf.template) sends the path that was judged', () => {
  let op: TestOp;
  let judge: Judged;
  let router: RawRouter;
  let nginx: Nginx;
  let guest: Record<string, string>;
  let admin: Record<string, string>;

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { yaml: RULES });
    router = await startRawRouter();
    nginx = await startNginx({ judgePort: judge.app.ports.http, upstreamPort: router.port });
    guest = { authorization: `Bearer ${await accessToken(op, 'bob@example.com', ['guests'])}` };
    admin = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['admins'])}` };
  });
  after(async () => {
    await nginx?.stop();
    await router?.close();
    await judge?.stop();
    await op?.stop();
  });

  it("a guest's dot-segment paths reach the app as /, never an /admin route", async () => {
    for (const path of CLIMBS) {
      const from = router.received.length;
      const r = await request(nginx.port, path, guest);
      // The judge reads the original URI: a judge that also weighs its raw reading (`/admin/..`
      // under /admin) may refuse it; what it may never do is let the app route it to /admin.
      if (r.status === 403) {
        assert.deepEqual(router.received.slice(from), [], path);
        continue;
      }
      assert.equal(r.status, 200, `${path}: ${nginx.errorLog()}`);
      assert.deepEqual(JSON.parse(r.body) as RawRouted, { route: 'other', url: '/' }, path);
      assert.deepEqual(router.received.slice(from), ['/'], path);
    }
  });

  it('a path that is /admin once normalized is judged as /admin: 403 for a guest, /admin for an admin', async () => {
    for (const path of REACH_ADMIN) {
      const from = router.received.length;
      assert.equal((await request(nginx.port, path, guest)).status, 403, path);
      assert.equal(router.received.length, from, path);
      const r = await request(nginx.port, path, admin);
      assert.equal(r.status, 200, path);
      assert.deepEqual(JSON.parse(r.body) as RawRouted, { route: 'admin', url: '/admin' + (path.endsWith('/') ? '/' : '') }, path);
    }
  });

  it('refuses an ambiguous path with 400 before judging; the query may carry anything', async () => {
    const from = router.received.length;
    for (const path of REFUSED) assert.equal((await request(nginx.port, path, admin)).status, 400, path);
    assert.equal(router.received.length, from);
    const r = await request(nginx.port, '/docs/../a%20b/%3F/caf%C3%A9?next=%2Fadmin%2F..%3B&x=a%20b', guest);
    assert.deepEqual(JSON.parse(r.body) as RawRouted, { route: 'other', url: '/a%20b/%3F/caf%C3%A9?next=%2Fadmin%2F..%3B&x=a%20b' });
  });
});
