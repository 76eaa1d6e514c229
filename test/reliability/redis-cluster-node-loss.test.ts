/**
 * Fault: one master of a 3-master Redis Cluster is killed under load, the cluster notices (node
 * timeout 1 s) and refuses every command, then the node comes back with its append-only file. At no
 * point is a session nobody issued allowed, nor a known one logged out (401/302) or its cookie
 * cleared: a check either still reads its session from a live node (200) or answers 503 — well
 * before CHECK_TIMEOUT; once the node is back, the same process serves every session again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { startJudge, type Judged } from '../helpers/app.js';
import { Load, tally, waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { redisCli, startRedis, type RedisServer } from '../helpers/redis.js';
import { seedSessions } from '../helpers/seed.js';
import { sessionProbe } from './session-probe.js';

const run = promisify(execFile);
const CHECK_TIMEOUT_MS = 30_000;

/** Three persistent masters (AOF, fsync always) joined into a cluster with a 1 s node timeout. */
async function startPersistentCluster(nodes: RedisServer[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const bus = await freePort();
    nodes.push(
      await startRedis({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '1000',
          '--cluster-port',
          String(bus),
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
        ],
      }),
    );
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  await clusterState(nodes, 'ok');
}

async function clusterState(nodes: readonly RedisServer[], want: 'ok' | 'fail'): Promise<void> {
  for (const s of nodes)
    await waitFor(async () => (await redisCli(s.port, 'cluster', 'info')).includes(`cluster_state:${want}`), `cluster_state:${want} on ${s.port}`);
}

describe('Redis Cluster node loss under load', () => {
  const nodes: RedisServer[] = [];
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    for (const n of nodes) await n.stop();
    await op?.stop();
  });

  it('200 or 503 while a master is gone (503 for all once the cluster is down), never a logout; all served again when it returns', async (t) => {
    await startPersistentCluster(nodes);
    op = await startOp();
    judge = await startJudge(op.issuer, {
      env: {
        SESSION_STORE_TYPE: 'redis',
        SESSION_STORE_REDIS_MODE: 'cluster',
        SESSION_STORE_REDIS_ADDR: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
        SESSION_CACHE_TTL: '0',
        // Far above what the bounded retries take, so a 503 here is theirs, never the deadline's.
        CHECK_TIMEOUT: String(CHECK_TIMEOUT_MS),
      },
    });
    const known = await seedSessions(judge.app.sessions, 24);
    const onVictim = Number(await redisCli(nodes[1]!.port, 'dbsize'));
    assert.ok(onVictim > 0, 'some sessions live on the node that will be killed');

    const { probe, agent } = sessionProbe(judge, known);
    const load = new Load(6, probe).start();
    try {
      const t0 = Date.now();
      await waitFor(() => load.between(t0).length >= 60, 'checks with every node up');
      const killing = Date.now();
      await nodes[1]!.kill();
      const down = Date.now();
      await clusterState([nodes[0]!, nodes[2]!], 'fail');
      const clusterDown = Date.now();
      await waitFor(() => load.between(clusterDown).length >= 12, 'checks while the cluster is down');
      const restarting = Date.now();
      await nodes[1]!.restart();
      await clusterState(nodes, 'ok');
      const up = Date.now();
      // Every known session (the restarted node's too) is served again.
      const servedAgain = new Set<number>();
      const firstAllowedAfter = await load.next((o) => o.label.startsWith('known') && o.status === 200, up, 'an allow after the node returned');
      await waitFor(() => load.between(firstAllowedAfter.endedAt).length >= 120, 'checks after recovery');
      await load.stop();

      const before = load.between(t0, killing).filter((o) => o.endedAt < killing);
      const degraded = load.between(down, restarting).filter((o) => o.endedAt < restarting);
      const refused = load.between(clusterDown, restarting).filter((o) => o.endedAt < restarting);
      const afterwards = load.between(firstAllowedAfter.endedAt);
      const wrong = (outs: typeof before, want: (l: string) => readonly number[]) => tally(outs.filter((o) => !want(o.label).includes(o.status)));
      assert.deepEqual(
        wrong(before, (l) => (l.startsWith('known') ? [200] : [401])),
        {},
      );
      assert.deepEqual(
        wrong(degraded, (l) => (l.startsWith('known') ? [200, 503] : [401, 503])),
        {},
      );
      assert.deepEqual(
        wrong(refused, () => [503]),
        {},
      );
      assert.ok(refused.length >= 6, `${refused.length} checks while the cluster was down`);
      assert.deepEqual(
        wrong(afterwards, (l) => (l.startsWith('known') ? [200] : [401])),
        {},
      );
      for (const o of afterwards) if (o.label.startsWith('known')) servedAgain.add(o.startedAt);
      assert.equal(load.outcomes.filter((o) => o.label.startsWith('unknown') && o.status === 200).length, 0);
      assert.equal(load.outcomes.filter((o) => o.label.startsWith('known') && [401, 302].includes(o.status)).length, 0);
      assert.deepEqual(
        load.outcomes.flatMap((o) => o.setCookie),
        [],
      );
      // Every session, including those on the node that died, is there after it returned.
      for (const id of known) {
        const r = await judge.grpc.check('/api/data', { cookie: `authservice_session=${id}`, accept: 'application/json' });
        assert.equal(r.status.code, 0, `session lost: ${JSON.stringify(r.denied_response?.status)}`);
      }
      const waits = refused.map((o) => o.endedAt - o.startedAt).sort((a, b) => a - b);
      const slowest = waits.at(-1)!;
      const median = waits[Math.floor(waits.length / 2)]!;
      // Bounded client retries (~1 s): a 503 comes well before CHECK_TIMEOUT, which it used to reach.
      // A third of it leaves room for a busy machine's late timers.
      assert.ok(median < CHECK_TIMEOUT_MS / 3, `median 503 while the cluster was down took ${median} ms`);
      t.diagnostic(
        `cluster: ${waits.length} 503s while down, median ${median} ms, slowest ${slowest} ms; ${onVictim} of 24 sessions on the killed node; first allow ${firstAllowedAfter.endedAt - up} ms after cluster_state:ok; ${JSON.stringify(tally(degraded))}`,
      );
    } finally {
      await load.stop();
      agent.destroy();
    }
  });
});
