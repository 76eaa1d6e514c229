/**
 * Fault: the Redis session store disappears in the middle of load (SIGKILL) and comes back on the
 * same port. While it is gone every session check answers 503 (gRPC UNAVAILABLE) — never an allow,
 * never a login redirect or 401 that would log the user out, never a cookie-clearing Set-Cookie;
 * logout answers 503 too and ends nothing. Once Redis is back (with its append-only file, so the
 * sessions survive), the same process serves the same sessions again within seconds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request, startJudge, type Judged } from '../helpers/app.js';
import { capturingLogger } from '../helpers/bearer.js';
import { Load, tally, waitFor } from '../helpers/load.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { seedSessions } from '../helpers/seed.js';
import { cookieOf, sessionProbe } from './session-probe.js';

const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

describe('Redis stopped under load', () => {
  let op: TestOp | undefined;
  let redis: RedisServer | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    await redis?.stop();
    await op?.stop();
  });

  it('503 for every session check while it is gone, no logout, no cleared cookie; recovery without a restart', async (t) => {
    op = await startOp();
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const { log, lines } = capturingLogger('INFO');
    judge = await startJudge(op.issuer, {
      log,
      env: { SESSION_STORE_TYPE: 'redis', SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}`, SESSION_CACHE_TTL: '0' },
    });
    const known = await seedSessions(judge.app.sessions, 12);
    const { probe, agent } = sessionProbe(judge, known);
    const load = new Load(6, probe).start();
    try {
      const t0 = Date.now();
      await waitFor(() => load.between(t0).length >= 60, 'checks with Redis up');

      const killing = Date.now();
      await redis.kill();
      const down = Date.now();
      await waitFor(() => load.between(down).length >= 120, 'checks with Redis down');
      // A browser navigation with its cookie is not sent to log in again, and logout ends nothing.
      const nav = await request(judge.app.ports.http, '/app', { ...NAVIGATION, cookie: `authservice_session=${known[0]}` });
      assert.equal(nav.status, 503);
      assert.equal(nav.headers['location'], undefined);
      assert.equal(nav.headers['set-cookie'], undefined);
      const logout = await request(
        judge.app.ports.http,
        '/authservice/logout',
        { authorization: `Bearer ${known[1]}`, ...cookieOf(known[1]!) },
        { method: 'POST' },
      );
      assert.equal(logout.status, 503);
      assert.equal(logout.headers['set-cookie'], undefined);

      const restarting = Date.now();
      await redis.restart();
      const up = Date.now();
      const first = await load.next((o) => o.label.startsWith('known') && o.status === 200, up, 'a known session allowed again');
      const recoveredMs = first.endedAt - up;
      // The reconnect backoff is capped at 2 s: 15 s leaves room for a busy machine's late timers.
      assert.ok(recoveredMs < 15_000, `recovered ${recoveredMs} ms after Redis came back`);
      await waitFor(() => load.between(first.endedAt).length >= 60, 'checks after recovery');
      await load.stop();

      // Checks under way while Redis died or came back may go either way; the phases exclude them.
      const before = load.between(t0, killing).filter((o) => o.endedAt < killing);
      const during = load.between(down, restarting).filter((o) => o.endedAt < restarting);
      const afterwards = load.between(first.endedAt);
      const expect = (phase: string, outs: typeof before, want: (label: string) => number): void => {
        const wrong = outs.filter((o) => o.status !== want(o.label));
        assert.equal(wrong.length, 0, `${phase}: ${JSON.stringify(tally(wrong))} of ${JSON.stringify(tally(outs))}`);
      };
      expect('before', before, (l) => (l.startsWith('known') ? 200 : 401));
      expect('while Redis is down', during, () => 503);
      expect('after recovery', afterwards, (l) => (l.startsWith('known') ? 200 : 401));
      assert.ok(during.length >= 100, `only ${during.length} checks while down`);
      // Across every phase: an unknown session is never allowed, a known one never logged out.
      const all = load.outcomes;
      assert.equal(all.filter((o) => o.label.startsWith('unknown') && o.status === 200).length, 0);
      assert.equal(all.filter((o) => o.label.startsWith('known') && (o.status === 401 || o.status === 302)).length, 0);
      assert.deepEqual(
        all.flatMap((o) => o.setCookie),
        [],
      );
      // The session logout could not end is still there.
      assert.equal((await request(judge.app.ports.http, '/api/data', cookieOf(known[1]!))).status, 200);
      // Nothing secret in the logs, though the store failures were logged.
      const text = lines.join('');
      for (const id of known) assert.ok(!text.includes(id), 'a session id reached the logs');
      const slowest = Math.max(...during.map((o) => o.endedAt - o.startedAt));
      t.diagnostic(`redis down: ${during.length} checks, all 503 (slowest ${slowest} ms); first allow ${recoveredMs} ms after Redis was back`);
    } finally {
      await load.stop();
      agent.destroy();
    }
  });
});
