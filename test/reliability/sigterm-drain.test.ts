/**
 * Drain: `oidc-judge serve` in a child process gets SIGTERM while checks are in flight (each one
 * waiting at the provider's userinfo endpoint, STRICT_SESSION_VALIDATION). It turns unready,
 * accepts no new connections, lets the checks in flight finish with their real answer, and exits
 * 0 within DRAIN_TIMEOUT; checks that outlive DRAIN_TIMEOUT do not keep it alive (and are not
 * allowed: their connections are closed), nor do slow clients that never finish a request head on
 * any listener (regression: one on the pages port held the exit until Node's 60 s headers timeout).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { JudgeClient, optionValue, request } from '../helpers/app.js';
import { startService, type ChildService } from '../helpers/child-service.js';
import { waitFor } from '../helpers/load.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startProviderGate, type ProviderGate } from '../helpers/provider-gate.js';
import { seedSessions } from '../helpers/seed.js';

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-drain-'));
/**
 * "Exits within DRAIN_TIMEOUT=1": by 20 s, to leave a busy machine room (3 s is tight there), yet far below
 * what a regression would take — Node's 60 s headers timeout, or the 120 s head / request limits
 * the services here get, so only the drain can explain an exit in time.
 */
const EXIT_WITHIN_MS = 20_000;
let op: TestOp | undefined;
let gate: ProviderGate | undefined;
const children: ChildService[] = [];
after(async () => {
  for (const c of children) await c.stop();
  await gate?.close();
  await op?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A service on a SQLite file holding `n` sessions, with strict validation against the gated provider. */
async function serviceWithSessions(name: string, n: number, drainSeconds: number): Promise<{ svc: ChildService; ids: string[] }> {
  op ??= await startOp();
  gate ??= await startProviderGate(op);
  const file = join(dir, `${name}.db`);
  const store = openSqliteStore(file);
  const ids = await seedSessions(new Sessions(store, { now: () => Date.now() }, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 }), n);
  await store.close();
  const svc = await startService({
    OIDC_PROVIDER: gate.issuer,
    CLIENT_ID: op.clientId,
    CLIENT_SECRET: op.clientSecret,
    SERVER_HOSTNAME: '127.0.0.1',
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    WEB_SERVER_PORT: '0',
    READINESS_PROBE_PORT: '0',
    SESSION_STORE_PATH: file,
    SESSION_CACHE_TTL: '0',
    STRICT_SESSION_VALIDATION: 'true',
    KUBERNETES_AUTHN_ENABLED: 'false',
    DRAIN_TIMEOUT: String(drainSeconds),
    // The checks wait at the provider for as long as the test holds them: not the 3 s default.
    CHECK_TIMEOUT: '60000',
    HTTP_HEADERS_TIMEOUT: '120',
    HTTP_REQUEST_TIMEOUT: '120',
    LOG_LEVEL: 'INFO',
  });
  children.push(svc);
  const health = svc.ports.health;
  await waitFor(async () => (await request(health, '/readyz', { host: '127.0.0.1' })).status === 200, 'the service to be ready');
  return { svc, ids };
}

const cookie = (id: string): Record<string, string> => ({ cookie: `authservice_session=${id}`, accept: 'application/json' });

interface Answer {
  readonly status: number;
  readonly user: string | undefined;
  readonly error?: string;
}

/** Starts 4 HTTP and 2 gRPC checks and resolves once all six wait at the provider. */
async function inFlight(svc: ChildService, ids: readonly string[], grpc: JudgeClient): Promise<Promise<Answer>[]> {
  gate!.hold();
  const heldBefore = gate!.held();
  const http = ids.slice(0, 4).map((id) =>
    request(svc.ports.http, '/api/data', cookie(id)).then(
      (r): Answer => ({ status: r.status, user: r.headers['kubeflow-userid'] as string | undefined }),
      (e: NodeJS.ErrnoException): Answer => ({ status: 0, user: undefined, error: e.code ?? e.message }),
    ),
  );
  const viaGrpc = ids.slice(4, 6).map((id) =>
    grpc.check('/api/data', cookie(id)).then(
      (r): Answer => ({
        status: r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0),
        user: optionValue(r.ok_response?.headers, 'kubeflow-userid'),
      }),
      (e: { code?: number }): Answer => ({ status: 0, user: undefined, error: `grpc code ${e.code}` }),
    ),
  );
  await waitFor(() => gate!.held() - heldBefore >= 6, 'six checks waiting at the provider');
  return [...http, ...viaGrpc];
}

describe('SIGTERM under load (child process: oidc-judge serve)', () => {
  it('unready, refuses new connections, finishes the checks in flight with their answer, exits 0 within DRAIN_TIMEOUT', async (t) => {
    // DRAIN_TIMEOUT is long: the checks in flight end when the provider answers, not when it passes.
    const { svc, ids } = await serviceWithSessions('drain', 6, 120);
    const grpc = new JudgeClient(svc.ports.grpc);
    try {
      const pending = await inFlight(svc, ids, grpc);
      const sent = svc.signal('SIGTERM');
      await waitFor(() => svc.logs.some((l) => l['msg'] === 'shutting down: draining in-flight checks'), 'the drain to start');
      // No new connections on the check ports; the health port says why.
      await waitFor(
        async () =>
          (await request(svc.ports.http, '/api/data', cookie(ids[0]!)).then(
            () => 'answered',
            (e: NodeJS.ErrnoException) => e.code,
          )) === 'ECONNREFUSED',
        'the HTTP port to refuse connections',
      );
      const late = new JudgeClient(svc.ports.grpc);
      await assert.rejects(late.check('/api/data', cookie(ids[0]!)), (e: { code?: number }) => e.code === 14);
      late.close();
      const readyz = await request(svc.ports.health, '/readyz', { host: '127.0.0.1' });
      assert.equal(readyz.status, 503);
      assert.match(readyz.body, /shutting down/);
      assert.equal(svc.proc.exitCode, null, 'still running while checks are in flight');

      const released = Date.now();
      gate!.release();
      const answers = await Promise.all(pending);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200, 200, 200],
        JSON.stringify(answers),
      );
      assert.deepEqual(
        answers.map((a) => a.user),
        ids.slice(0, 6).map((_, i) => `user-${i}@example.com`),
      );
      const exit = await svc.exited;
      assert.equal(exit.code, 0, svc.stderr());
      assert.ok(exit.at - released < EXIT_WITHIN_MS, `exited ${exit.at - released} ms after the checks were released (DRAIN_TIMEOUT=120)`);
      t.diagnostic(`drain: exited ${exit.at - sent} ms after SIGTERM, 6 checks in flight answered`);
    } finally {
      grpc.close();
      gate!.release();
    }
  });

  it('checks outliving DRAIN_TIMEOUT=1 do not keep it alive, and none of them is allowed', async (t) => {
    const { svc, ids } = await serviceWithSessions('timeout', 6, 1);
    const grpc = new JudgeClient(svc.ports.grpc);
    try {
      const pending = await inFlight(svc, ids, grpc);
      const sent = svc.signal('SIGTERM');
      const exit = await svc.exited;
      assert.equal(exit.code, 0, svc.stderr());
      const answers = await Promise.all(pending);
      assert.deepEqual(
        answers.filter((a) => a.status !== 0),
        [],
        'a check cut by the drain timeout must fail, not answer',
      );
      assert.ok(exit.at - sent < EXIT_WITHIN_MS, `exited ${exit.at - sent} ms after SIGTERM with DRAIN_TIMEOUT=1`);
      t.diagnostic(`drain timeout: exited ${exit.at - sent} ms after SIGTERM; the 6 held checks got ${[...new Set(answers.map((a) => a.error))].join(', ')}`);
    } finally {
      grpc.close();
      gate!.release();
    }
  });

  it('slow clients that never finish their request on any port do not hold the exit past DRAIN_TIMEOUT=1', async (t) => {
    const { svc } = await serviceWithSessions('slow', 1, 1);
    const sockets: Socket[] = [];
    try {
      for (const port of [svc.ports.web, svc.ports.http, svc.ports.health, svc.ports.grpc]) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise((resolve) => s.once('connect', resolve));
        s.write(port === svc.ports.grpc ? 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' : 'GET /authservice/site/homepage HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        sockets.push(s);
      }
      const sent = svc.signal('SIGTERM');
      const exit = await svc.exited;
      assert.equal(exit.code, 0, svc.stderr());
      assert.ok(exit.at - sent < EXIT_WITHIN_MS, `exited ${exit.at - sent} ms after SIGTERM with slow clients open`);
      t.diagnostic(`slow clients on 4 ports: exited ${exit.at - sent} ms after SIGTERM (DRAIN_TIMEOUT=1)`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
