/**
 * Fault: a Sentinel failover under load. A master with one replica and a sentinel (quorum 1, a
 * short down-after); the master is killed while checks run. Until the sentinel has promoted the
 * replica, session checks answer 503 — never an allow of a session nobody issued, never a logout —
 * and once it has, the same process finds the new master through the sentinel and serves the
 * replicated sessions again, and can write new ones.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startJudge, type Judged } from '../helpers/app.js';
import { Load, tally, waitFor } from '../helpers/load.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { redisCli, startRedis, type RedisServer } from '../helpers/redis.js';
import { seedSessions } from '../helpers/seed.js';
import { sessionProbe } from './session-probe.js';

const MASTER = 'failovermaster';

describe('Redis Sentinel failover under load', () => {
  const servers: RedisServer[] = [];
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    for (const s of servers.reverse()) await s.stop();
    await op?.stop();
  });

  it('503 while the master is gone, the replica promoted, the sessions served again', async (t) => {
    const master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    servers.push(master);
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    servers.push(replica);
    await waitFor(async () => (await redisCli(replica.port, 'info', 'replication')).includes('master_link_status:up'), 'the replica in sync');
    const sentinel = await startRedis({
      sentinelConf: [
        `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER} 1000`,
        `sentinel failover-timeout ${MASTER} 4000`,
      ].join('\n'),
      readyLine: new RegExp(`\\+monitor master ${MASTER} `),
    });
    servers.push(sentinel);
    // The sentinel learns about the replica from the master's INFO.
    await waitFor(
      async () => (await redisCli(sentinel.port, 'sentinel', 'replicas', MASTER)).includes(String(replica.port)),
      'the sentinel to see the replica',
    );

    op = await startOp();
    judge = await startJudge(op.issuer, {
      env: {
        SESSION_STORE_TYPE: 'redis',
        SESSION_STORE_REDIS_MODE: 'sentinel',
        SESSION_STORE_REDIS_ADDR: `127.0.0.1:${sentinel.port}`,
        SESSION_STORE_REDIS_SENTINEL_MASTER: MASTER,
        SESSION_CACHE_TTL: '0',
      },
    });
    const known = await seedSessions(judge.app.sessions, 12);
    // Replication is asynchronous: make sure the replica has every session before the master dies.
    const keys = await redisCli(master.port, 'dbsize');
    await waitFor(async () => (await redisCli(replica.port, 'dbsize')) === keys, 'the replica to hold every session');

    const { probe, agent } = sessionProbe(judge, known);
    const load = new Load(6, probe).start();
    try {
      const t0 = Date.now();
      await waitFor(() => load.between(t0).length >= 60, 'checks before the failover');
      const killing = Date.now();
      await master.kill();
      const down = Date.now();
      const first = await load.next((o) => o.label.startsWith('known') && o.status === 200, down, 'a known session served by the new master');
      const failoverMs = first.endedAt - down;
      await waitFor(async () => (await redisCli(replica.port, 'role')).startsWith('master'), 'the replica promoted');
      await waitFor(() => load.between(first.endedAt).length >= 60, 'checks after the failover');
      await load.stop();

      const before = load.between(t0, killing).filter((o) => o.endedAt < killing);
      const during = load.between(down, first.startedAt);
      const afterwards = load.between(first.endedAt);
      const wrong = (outs: typeof before, want: (l: string) => readonly number[]) => outs.filter((o) => !want(o.label).includes(o.status));
      assert.deepEqual(tally(wrong(before, (l) => (l.startsWith('known') ? [200] : [401]))), {});
      // While no master answers: 503, or — for reads the old connection still served — the right answer.
      assert.deepEqual(tally(wrong(during, (l) => (l.startsWith('known') ? [200, 503] : [401, 503]))), {});
      assert.ok(
        during.some((o) => o.status === 503),
        `no 503 while the master was gone: ${JSON.stringify(tally(during))}`,
      );
      assert.deepEqual(tally(wrong(afterwards, (l) => (l.startsWith('known') ? [200] : [401]))), {});
      assert.equal(load.outcomes.filter((o) => o.label.startsWith('unknown') && o.status === 200).length, 0);
      assert.equal(load.outcomes.filter((o) => o.label.startsWith('known') && [401, 302].includes(o.status)).length, 0);
      assert.deepEqual(
        load.outcomes.flatMap((o) => o.setCookie),
        [],
      );
      // Writes go to the new master.
      const [fresh] = await seedSessions(judge.app.sessions, 1);
      assert.equal((await probeOnce(judge, fresh!)).status, 200);
      t.diagnostic(`failover: first allow ${failoverMs} ms after the master died; ${during.length} checks in between (${JSON.stringify(tally(during))})`);
    } finally {
      await load.stop();
      agent.destroy();
    }
  });
});

async function probeOnce(judge: Judged, id: string) {
  const r = await judge.grpc.check('/api/data', { cookie: `authservice_session=${id}`, accept: 'application/json' });
  return { status: r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0) };
}
