/**
 * Two replicas of the assembled service (two `startApp`s) sharing one session store — real Redis
 * (standalone, and a 3-master Cluster) or one SQLite file — in front of a real OpenID Provider
 * whose own keys sign the logout tokens. A back-channel logout (web port or judge port) or an
 * admin revocation received by one replica ends the session on the other, while SESSION_CACHE_TTL
 * is 300 s: only the revocation feed can explain it. The promise is "within a second"; the tests
 * wait for the session to be gone (bounded far below the cache TTL, not by the promise: a busy
 * machine delays timers and pub/sub) and report how long it took.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app/start.js';
import { silentLogger } from '../../src/obs/log.js';
import { testConfig, untilReady } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRedis, startRedisCluster, until, type RedisCluster, type RedisServer } from '../helpers/redis.js';
import { form, FORM, logoutClaims, sessionOf, signLogout } from '../oidc/backchannel/fixtures.js';

const CLIENT_ID = 'judge-client';
const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const BACKCHANNEL = '/authservice/oidc/backchannel-logout';
/** How long a test waits for the other replica to drop a session: far below SESSION_CACHE_TTL (300 s). */
const WAIT_MS = 20_000;

let op: TestOp;
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
});
after(async () => {
  await op?.stop();
});

const rnd = (): string => randomBytes(8).toString('hex');

async function replicas(env: Record<string, string>): Promise<[App, App]> {
  const config = testConfig(op.issuer, { env: { CLIENT_ID, SESSION_CACHE_TTL: '300', ADMIN_TOKEN, ...env } });
  const apps: [App, App] = [await startApp(config, { log: silentLogger }), await startApp(config, { log: silentLogger })];
  await Promise.all(apps.map((a) => untilReady(a.readiness)));
  await Promise.all(apps.map((a) => a.sessions.listening()));
  return apps;
}

/** Waits (bounded) until replica `b` no longer has session `id`; resolves with how long it took. */
async function goneFrom(b: App, id: string): Promise<number> {
  const start = Date.now();
  await until(async () => (await b.sessions.load(id)) === undefined, `the other replica to drop the session (within ${WAIT_MS} ms)`, WAIT_MS);
  return Date.now() - start;
}

/** Scenarios every shared store must pass. */
function scenarios(name: string, env: () => Record<string, string>): void {
  describe(`two replicas sharing ${name}`, () => {
    let a: App;
    let b: App;
    before(async () => {
      [a, b] = await replicas(env());
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
    });

    /** A session created through `a` and cached by `b`. */
    async function cachedSession(sub = rnd(), sid = rnd()): Promise<{ id: string; sub: string; sid: string }> {
      const id = await a.sessions.create(sessionOf(op.issuer, sub, sid, Date.now()));
      assert.ok(await b.sessions.load(id), 'cached by the other replica');
      return { id, sub, sid };
    }

    it('a back-channel logout received by one replica (web port) ends the session on the other', async (t) => {
      const s = await cachedSession();
      const kept = await cachedSession();
      const token = await signLogout(op, logoutClaims(op, CLIENT_ID, Date.now(), { sid: s.sid, sub: s.sub }));
      const res = await send(a.ports.web, BACKCHANNEL, { method: 'POST', headers: FORM, body: form(token) });
      assert.equal(res.status, 200, res.body);
      t.diagnostic(`${name}: dropped by the other replica after ${await goneFrom(b, s.id)} ms`);
      assert.ok(await b.sessions.load(kept.id), 'another session stays');
    });

    it('the same through the judge’s HTTP port (204) and without the prefix on the web port', async () => {
      const s = await cachedSession();
      const t1 = await signLogout(op, logoutClaims(op, CLIENT_ID, Date.now(), { sub: s.sub }));
      assert.equal((await send(a.ports.http, BACKCHANNEL, { method: 'POST', headers: FORM, body: form(t1) })).status, 204);
      await goneFrom(b, s.id);
      const s2 = await cachedSession();
      const t2 = await signLogout(op, logoutClaims(op, CLIENT_ID, Date.now(), { sid: s2.sid }));
      assert.equal((await send(a.ports.web, '/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: form(t2) })).status, 200);
      await goneFrom(b, s2.id);
    });

    it('a replayed logout token is refused by the other replica too; a forged one ends nothing anywhere', async () => {
      const s = await cachedSession();
      const token = await signLogout(op, logoutClaims(op, CLIENT_ID, Date.now(), { sid: rnd() }));
      assert.equal((await send(a.ports.web, BACKCHANNEL, { method: 'POST', headers: FORM, body: form(token) })).status, 200);
      const replay = await send(b.ports.web, BACKCHANNEL, { method: 'POST', headers: FORM, body: form(token) });
      assert.equal(replay.status, 400);
      assert.match(replay.body, /already used/);
      const forged = await signLogout(op, logoutClaims(op, 'another-client', Date.now(), { sub: s.sub }));
      assert.equal((await send(a.ports.web, BACKCHANNEL, { method: 'POST', headers: FORM, body: form(forged) })).status, 400);
      assert.ok(await a.sessions.load(s.id, { fresh: true }), 'still in the store');
      assert.ok(await b.sessions.load(s.id), 'still served by the other replica');
    });

    it('an admin revocation on one replica’s health port ends the user’s sessions on the other', async () => {
      const sub = rnd();
      const [s1, s2] = [await cachedSession(sub), await cachedSession(sub)];
      const res = await send(a.ports.health, '/admin/sessions/revoke', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub }),
      });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { ended: 2 });
      await goneFrom(b, s1.id);
      await goneFrom(b, s2.id);
    });

    it('a logout on one replica ends the session in the other’s cache too', async () => {
      const s = await cachedSession();
      assert.equal(await a.sessions.delete(s.id), true);
      await goneFrom(b, s.id);
    });
  });
}

let redis: RedisServer;
let cluster: RedisCluster;
const dir = mkdtempSync(join(tmpdir(), 'replicas-'));
before(async () => {
  redis = await startRedis();
  cluster = await startRedisCluster(3);
});
after(async () => {
  await redis?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

scenarios('Redis', () => ({ SESSION_STORE_TYPE: 'redis', SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}` }));
scenarios('one SQLite file', () => ({ SESSION_STORE_PATH: join(dir, 'shared.db') }));
scenarios('a Redis Cluster (3 masters)', () => ({
  SESSION_STORE_TYPE: 'redis',
  SESSION_STORE_REDIS_MODE: 'cluster',
  SESSION_STORE_REDIS_ADDR: cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
}));
