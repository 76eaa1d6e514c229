/**
 * Faults at the OpenID Provider.
 * - Down at start-up: the service starts and listens, says not ready, and still serves the sessions
 *   already in its SQLite file; a browser is not sent to a provider that is not there (503 page),
 *   bearer tokens answer 503; once the provider is back, readiness follows.
 * - Down during traffic, after warm-up: tokens of known keys keep verifying with the last good keys
 *   (zero errors under load) and readiness stays up; N concurrent tokens with unknown `kid`s cause
 *   at most one JWKS fetch per JWKS_MIN_REFETCH_INTERVAL (counted at the provider, and as failed
 *   attempts in the metrics while it is down) — no stampede.
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/obs/log.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { accessToken, metric, request, startJudge, untilReady, type Judged } from '../helpers/app.js';
import { Load, tally, waitFor } from '../helpers/load.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';
import { seedSessions } from '../helpers/seed.js';

const API = { accept: 'application/json' };
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, ...API });
const grpcStatus = (r: { status: { code: number }; denied_response?: { status: { code: number } | null } | null }): number =>
  r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0);

describe('the provider is down when the service starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-op-down-'));
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts unready, serves the sessions it already has, 503 for logins and tokens; ready once the provider returns', async () => {
    const file = join(dir, 'sessions.db');
    // Sessions a previous run of the service left in its file.
    const store = openSqliteStore(file);
    const known = await seedSessions(new Sessions(store, { now: () => Date.now() }, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 }), 3);
    await store.close();

    op = await startOp();
    const token = await accessToken(op);
    await op.stop();
    judge = await startJudge(op.issuer, { ready: false, log: silentLogger, env: { SESSION_STORE_PATH: file, DISCOVERY_RETRY_INTERVAL: '1' } });
    const { http, health } = judge.app.ports;

    assert.equal((await request(health, '/readyz', { host: '127.0.0.1' })).status, 503);
    assert.equal(await judge.grpc.health(), 'NOT_SERVING');
    for (const id of known) {
      const cookie = { cookie: `authservice_session=${id}` };
      const viaHttp = await request(http, '/app', { ...cookie, ...API });
      assert.equal(viaHttp.status, 200);
      assert.equal(viaHttp.headers['auth-method'], 'cookie');
      assert.equal(grpcStatus(await judge.grpc.check('/app', { ...cookie, ...NAVIGATION })), 200);
    }
    // No session: a browser would be sent to a provider that is not there — a 503 page instead.
    const nav = await request(http, '/app', NAVIGATION);
    assert.equal(nav.status, 503);
    assert.equal(nav.headers['location'], undefined);
    assert.equal((await request(http, '/authservice/login?rd=/app', NAVIGATION)).status, 503);
    assert.equal((await request(http, '/app', bearer(token))).status, 503);

    const ready = untilReady(judge.app.readiness);
    await op.restart();
    await ready;
    assert.equal((await request(health, '/readyz', { host: '127.0.0.1' })).status, 200);
    assert.equal((await request(http, '/app', bearer(token))).status, 200);
    assert.equal((await request(http, '/app', { cookie: `authservice_session=${known[0]}`, ...API })).status, 200);
  });
});

describe('the provider goes down during traffic', () => {
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  it('last good keys under load, readiness unchanged, and one JWKS fetch per interval however many unknown kids arrive', async (t) => {
    op = await startOp();
    const clock = new ManualClock(Date.now());
    judge = await startJudge(op.issuer, { clock, env: { JWKS_MIN_REFETCH_INTERVAL: '30' } });
    const { http, health } = judge.app.ports;
    const o = op;
    await waitFor(() => o.jwksRequests === 1, 'the start-up JWKS fetch');
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const fresh = (i: number): Promise<string> =>
      accessToken(o, `user-${i}@example.com`, ['devs'], { jti: `t-${i}` }, { alg: i % 2 ? 'ES256' : 'RS256' }, clock.now());

    // N concurrent tokens with N different unknown kids, once the interval has passed: one fetch.
    const N = 60;
    const unknownKids = (round: string): Promise<string[]> =>
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          o.sign(
            {
              sub: 'x',
              email: `m${i}@example.com`,
              groups: ['admins'],
              aud: 'urn:test:api',
              iat: Math.floor(clock.now() / 1000),
              exp: Math.floor(clock.now() / 1000) + 300,
            },
            { kid: `${round}-${i}` },
          ),
        ),
      );
    clock.advance(31_000);
    const first = await unknownKids('a');
    const answers = await Promise.all(
      first.map((tok, i) =>
        i % 2 ? request(http, '/api', bearer(tok), { agent }).then((r) => r.status) : judge!.grpc.check('/api', bearer(tok)).then(grpcStatus),
      ),
    );
    assert.deepEqual(new Set(answers), new Set([401]));
    assert.equal(o.jwksRequests, 2, 'one refetch for 60 unknown kids');
    // Within the interval, more unknown kids cost nothing at the provider.
    const second = await unknownKids('b');
    assert.deepEqual(new Set(await Promise.all(second.map((tok) => request(http, '/api', bearer(tok), { agent }).then((r) => r.status)))), new Set([401]));
    assert.equal(o.jwksRequests, 2);

    // A key rotated in at the provider is picked up by the next allowed refetch, once for all.
    const rotated = await newKey('RS256');
    o.rotate([...o.keys, rotated]);
    clock.advance(31_000);
    const withRotated = await Promise.all(
      Array.from({ length: N }, (_, i) => accessToken(o, `r${i}@example.com`, ['devs'], {}, { key: rotated }, clock.now())),
    );
    assert.deepEqual(new Set(await Promise.all(withRotated.map((tok) => request(http, '/api', bearer(tok), { agent }).then((r) => r.status)))), new Set([200]));
    assert.equal(o.jwksRequests, 3);

    // Load with tokens of known keys; the provider goes away in the middle of it.
    let seq = 0;
    const load = new Load(4, async (w) => {
      const tok = await fresh(seq++);
      const status = w % 2 ? (await request(http, '/api', bearer(tok), { agent })).status : grpcStatus(await judge!.grpc.check('/api', bearer(tok)));
      return { label: 'known-key', status, setCookie: [] };
    }).start();
    try {
      const t0 = Date.now();
      await waitFor(() => load.between(t0).length >= 40, 'checks with the provider up');
      await o.stop();
      const down = Date.now();
      await waitFor(() => load.between(down).length >= 80, 'checks with the provider down');
      // Unknown kids while it is down: one failed attempt per interval, the keys kept.
      clock.advance(31_000);
      const third = await unknownKids('c');
      assert.deepEqual(new Set(await Promise.all(third.map((tok) => request(http, '/api', bearer(tok), { agent }).then((r) => r.status)))), new Set([401]));
      const more = await unknownKids('d');
      assert.deepEqual(new Set(await Promise.all(more.map((tok) => judge!.grpc.check('/api', bearer(tok)).then(grpcStatus)))), new Set([401]));
      assert.equal(await metric(health, 'oidc_judge_jwks_refresh_total', { result: 'error', cause: 'unknown-kid' }), 1);
      await waitFor(() => load.between(down).length >= 120, 'more checks with the provider down');
      await load.stop();
      assert.deepEqual(tally(load.outcomes.filter((x) => x.status !== 200)), {});
      assert.equal(judge.app.readiness.ready, true);
      assert.equal((await request(health, '/readyz', { host: '127.0.0.1' })).status, 200);
      t.diagnostic(
        `provider down: ${load.between(down).length} checks with known keys, all allowed; 4 × ${N} unknown-kid tokens over two intervals: 1 fetch, then 1 failed attempt`,
      );
    } finally {
      await load.stop();
      agent.destroy();
    }
  });
});
