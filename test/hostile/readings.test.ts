/**
 * Hostile readings against access rules (issue 14, item 1): paths an upstream that routes the raw
 * path (Express: dot segments not resolved, `;` kept, `%2f` not a slash; case-insensitive routers)
 * reads under `/admin` while they resolve elsewhere, letter case, and the forms of `Host` /
 * `:authority` a server maps to a rule's host. Judged by a guest (bob) and an admin (root) with real
 * bearer tokens through the four ext_authz doors of the assembled service — Envoy `http_service`,
 * nginx's verify path, Traefik's forward-auth and gRPC ext_authz (a real grpc-js client) — which
 * must agree: a deny of any reading is a 403 everywhere; a host no server can read is a 400.
 * The forwarder, which forwards what it judged, must never let a denied one reach the upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessToken, request } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { routeOf } from '../helpers/raw-router.js';
import { bearer } from './kit.js';
import { startGuarded, type Guarded } from './stack.js';

const YAML = `
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { groups: [admins] }
  - match: { host: admin.example.com }
    allow: { groups: [admins] }
  - match: { path: { prefix: /CaseSensitive }, caseSensitive: true }
    allow: { groups: [admins] }
  - match: { path: { prefix: / } }
    allow: { groups: [guests, admins] }
`;

/** Every reading of these is, or is under, /admin for some upstream: a guest is refused through every door. */
const GUEST_DENIED = [
  '/admin',
  '/admin/',
  '/admin/../',
  '/admin/../x',
  '/admin/..;/x',
  '/admin/%2e%2e/x',
  '/admin/.%2E/x',
  '/admin%2f..%2fx',
  '/admin%2F..%2Fx',
  '/%61dmin/../x',
  '/admin\\..\\x',
  '/admin/./../x',
  '/admin/x/../../y',
  '/admin;x',
  '/admin;/../x',
  '/ADMIN',
  '/Admin/',
  '/aDmIn/users',
  '/ADMIN/../x',
  '/Admin/..;/x',
  '/%41dmin',
  '/CaseSensitive/x',
];
/** Every reading of these is allowed to a guest. */
const GUEST_ALLOWED = [
  '/public/x',
  '/public/../public/x',
  '/x/./y',
  '/x//y',
  '/public;v=1/x',
  '/x/../y',
  '/administrator',
  '/casesensitive/x',
  '/CASESENSITIVE',
];

describe('hostile readings against access rules (path, case, host)', () => {
  let g: Guarded;
  let bob: Record<string, string>;
  let root: Record<string, string>;
  before(async () => {
    g = await startGuarded({}, { yaml: YAML });
    bob = bearer(await accessToken(g.op, 'bob@example.com', ['guests']));
    root = bearer(await accessToken(g.op, 'root@example.com', ['admins']));
  });
  after(() => g.stop());

  /** The four ext_authz verdicts for `raw` on `host`. */
  async function doors(raw: string, headers: Record<string, string>, host = 'app.example.com') {
    const http = (await request(g.http, raw, { ...headers, host })).status;
    const verify = (await request(g.http, `/authservice/verify${raw}`, { ...headers, host })).status;
    const traefik = (await request(g.http, '/authservice/forward-auth', { ...headers, 'x-forwarded-uri': raw, 'x-forwarded-host': host })).status;
    const r = await g.judge.grpc.check(raw, headers, { host });
    const grpc = r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0);
    return [http, verify, traefik, grpc];
  }

  it(`refuses a guest ${GUEST_DENIED.length} paths some reading of which is under /admin (403 through every door), and lets an admin through`, async () => {
    for (const raw of GUEST_DENIED) {
      assert.deepEqual(await doors(raw, bob), [403, 403, 403, 403], `bob ${raw}`);
      assert.deepEqual(await doors(raw, root), [200, 204, 200, 200], `root ${raw}`);
    }
  });

  it(`lets a guest through ${GUEST_ALLOWED.length} paths every reading of which is allowed`, async () => {
    for (const raw of GUEST_ALLOWED) assert.deepEqual(await doors(raw, bob), [200, 204, 200, 200], raw);
  });

  it('the forwarder never hands a guest’s /admin reading to the upstream', async () => {
    // The forwarder sends the path it judged (forward/engine/target.ts): refused, or forwarded as a path
    // that no router reads as /admin (`/admin/../` arrives as `/`).
    for (const raw of GUEST_DENIED) {
      const seen = g.upstream.heads.length;
      const status = (await send(g.ingress, raw, { headers: bob })).status;
      const received = g.upstream.heads.slice(seen).map((h) => h.url);
      assert.ok(status === 403 || status === 400 || status === 200, `${raw}: forwarder ${status}`);
      if (status !== 200) assert.deepEqual(received, [], `${raw}: refused, yet forwarded`);
      for (const url of received) assert.equal(routeOf(url), 'other', `${raw} reached the upstream as ${url}`);
    }
  });

  it('every Host / :authority form a server maps to admin.example.com is judged by its rule', async () => {
    for (const host of [
      'admin.example.com',
      'ADMIN.Example.COM',
      'admin.example.com.',
      'admin.example.com:8443',
      'admin.example.com.:80',
      'bob@admin.example.com',
      'x:y@ADMIN.example.com:443',
      '%61dmin.example.com',
      'admin.ex%61mple.com',
    ]) {
      assert.deepEqual(await doors('/x', bob, host), [403, 403, 403, 403], host);
      assert.deepEqual(await doors('/x', root, host), [200, 204, 200, 200], host);
    }
    assert.deepEqual(await doors('/x', bob, 'app.example.com'), [200, 204, 200, 200]);
  });

  it('a host no server can read is refused with 400 through every door', async () => {
    for (const host of [
      'admin.example.com, app.example.com',
      'app.example.com,admin.example.com',
      'admin .example.com',
      'app.example.com/admin',
      'app.example.com?',
      'app.example.com:99999',
      '[::1',
      'a%00.example.com',
    ]) {
      assert.deepEqual(await doors('/x', root, host), [400, 400, 400, 400], host);
    }
    // Control characters: Node's HTTP parser refuses them itself; over gRPC the judge does.
    const r = await g.judge.grpc.check('/x', root, { host: 'app.example.com\x01' });
    assert.equal(r.denied_response?.status?.code, 400);
    // Two Host headers: refused by the HTTP door.
    assert.equal((await send(g.http, '/x', { headers: { ...root, host: ['app.example.com', 'admin.example.com'] } })).status, 400);
  });
});
