/**
 * The soak behind `npm run soak` (scripts/soak.mjs; not part of `npm test`): `oidc-judge serve` in a
 * child process in front of a real OpenID Provider, SQLite sessions, and a fixed rate of checks —
 * a third session cookies over HTTP, a third JWT bearer tokens over HTTP, a third over gRPC. It
 * first measures the maximum rate (closed loop, 16 in flight, 5 s), then runs at SOAK_RATE or half
 * of that for SOAK_SECONDS, sampling the service's RSS, open fds and sockets (/proc/<pid>) every
 * 5 s. Passes with zero errors, RSS within ±10 % of its post-warm-up level, and no fd or socket
 * growth (beyond ±2 of keep-alive churn). Prints a table.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { AUDIENCE, JudgeClient, request } from '../helpers/app.js';
import { startService } from '../helpers/child-service.js';
import { waitFor } from '../helpers/load.js';
import { startOp } from '../helpers/op.js';
import { seedSessions } from '../helpers/seed.js';

const seconds = Number(process.env['SOAK_SECONDS'] ?? '300');
const fixedRate = process.env['SOAK_RATE'] === undefined ? undefined : Number(process.env['SOAK_RATE']);
const SAMPLE_MS = 5000;

interface Sample {
  readonly t: number;
  readonly rssMb: number;
  readonly fds: number;
  readonly sockets: number;
}

function sample(pid: number, t0: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${pid}/fd`);
  let sockets = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { t: Math.round((Date.now() - t0) / 1000), rssMb: Math.round(rssKb / 102.4) / 10, fds: fds.length, sockets };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-soak-'));
  const op = await startOp();
  const file = join(dir, 'sessions.db');
  const store = openSqliteStore(file);
  const cookies = (
    await seedSessions(new Sessions(store, { now: () => Date.now() }, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 }), 200, { maxAgeSeconds: seconds + 3600 })
  ).map((id) => `authservice_session=${id}`);
  await store.close();
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: 500 }, (_, i) =>
      op.sign(
        { sub: `u${i}`, email: `user-${i}@example.com`, groups: ['devs'], aud: AUDIENCE, iat: now, exp: now + seconds + 3600 },
        { alg: i % 2 ? 'ES256' : 'RS256' },
      ),
    ),
  );
  const svc = await startService({
    OIDC_PROVIDER: op.issuer,
    CLIENT_ID: op.clientId,
    CLIENT_SECRET: op.clientSecret,
    AUDIENCES: AUDIENCE,
    SERVER_HOSTNAME: '127.0.0.1',
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    WEB_SERVER_PORT: '0',
    READINESS_PROBE_PORT: '0',
    SESSION_STORE_PATH: file,
    KUBERNETES_AUTHN_ENABLED: 'false',
    LOG_LEVEL: 'INFO',
    LOG_DECISIONS: 'false',
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const grpc = new JudgeClient(svc.ports.grpc);
  let errors = 0;
  const errorKinds = new Map<string, number>();
  const fail = (what: string): void => {
    errors++;
    errorKinds.set(what, (errorKinds.get(what) ?? 0) + 1);
  };
  let seq = 0;
  const one = async (): Promise<void> => {
    const i = seq++;
    try {
      if (i % 3 === 0) {
        const r = await request(svc.ports.http, '/api/data', { cookie: cookies[i % cookies.length]!, accept: 'application/json' }, { agent });
        if (r.status !== 200) fail(`cookie-http ${r.status}`);
      } else if (i % 3 === 1) {
        const r = await request(svc.ports.http, '/api/data', { authorization: `Bearer ${tokens[i % tokens.length]}`, accept: 'application/json' }, { agent });
        if (r.status !== 200) fail(`bearer-http ${r.status}`);
      } else {
        const r = await grpc.check('/api/data', { authorization: `Bearer ${tokens[i % tokens.length]}`, accept: 'application/json' });
        if (r.status.code !== 0) fail(`bearer-grpc ${r.denied_response?.status?.code}`);
      }
    } catch (e) {
      fail(`exception ${(e as Error).message.slice(0, 40)}`);
    }
  };
  try {
    await waitFor(async () => (await request(svc.ports.health, '/readyz', { host: '127.0.0.1' })).status === 200, 'the service to be ready');
    // The maximum, closed loop.
    let done = 0;
    const until = Date.now() + 5000;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) {
          await one();
          done++;
        }
      }),
    );
    const max = Math.round(done / 5);
    const rate = fixedRate ?? Math.max(1, Math.floor(max / 2));
    errors = 0;
    errorKinds.clear();

    // Fixed rate, open loop: every 10 ms, the checks due by then (never more than 2000 in flight).
    const t0 = Date.now();
    const samples: Sample[] = [sample(svc.pid, t0)];
    let sent = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let nextSample = t0 + SAMPLE_MS;
    const end = t0 + seconds * 1000;
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate);
      while (sent < due) {
        sent++;
        if (inFlight >= 2000) {
          fail('overload: 2000 checks in flight');
          continue;
        }
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        void one().finally(() => inFlight--);
      }
      if (Date.now() >= nextSample) {
        samples.push(sample(svc.pid, t0));
        nextSample += SAMPLE_MS;
      }
      await delay(10);
    }
    samples.push(sample(svc.pid, t0));
    await waitFor(() => inFlight === 0, 'the last checks', 30_000);

    // Warm-up: the first fifth (at least 10 s) is not judged. Start and end are medians of three
    // samples; fds and sockets may move by the client's keep-alive churn (±2), a leak grows with traffic.
    const warm = samples.filter((s) => s.t >= Math.max(10, seconds / 5));
    const head = warm.slice(0, 3);
    const tail = warm.slice(-3);
    const at = (xs: readonly Sample[], k: 'rssMb' | 'fds' | 'sockets'): number => median(xs.map((s) => s[k]));
    const rssStart = at(head, 'rssMb');
    const rssEnd = at(tail, 'rssMb');
    const rssChange = (rssEnd - rssStart) / rssStart;
    const [fdsStart, fdsEnd, socketsStart, socketsEnd] = [at(head, 'fds'), at(tail, 'fds'), at(head, 'sockets'), at(tail, 'sockets')];
    const checks = [
      ['errors', `${errors} of ${sent}`, errors === 0],
      ['RSS after warm-up (MB)', `${rssStart} → ${rssEnd} (${(rssChange * 100).toFixed(1)} %)`, Math.abs(rssChange) <= 0.1],
      ['open fds', `${fdsStart} → ${fdsEnd}`, fdsEnd - fdsStart <= 2],
      ['sockets (connections)', `${socketsStart} → ${socketsEnd}`, socketsEnd - socketsStart <= 2],
    ] as const;
    const lines = [
      `soak: ${seconds} s at ${rate} checks/s (measured maximum ${max}/s${fixedRate !== undefined ? ', rate fixed by SOAK_RATE' : ''}); ${sent} checks, at most ${maxInFlight} in flight`,
      '',
      '| t (s) | RSS (MB) | fds | sockets |',
      '|---:|---:|---:|---:|',
      ...samples
        .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0 || i === samples.length - 1)
        .map((s) => `| ${s.t} | ${s.rssMb} | ${s.fds} | ${s.sockets} |`),
      '',
      '| criterion | observed | |',
      '|---|---|---|',
      ...checks.map(([k, v, ok]) => `| ${k} | ${v} | ${ok ? 'ok' : 'FAIL'} |`),
      ...(errors > 0 ? ['', `errors: ${JSON.stringify(Object.fromEntries(errorKinds))}`] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const stopAt = svc.signal('SIGTERM');
    const exit = await svc.exited;
    process.stdout.write(`SIGTERM: exit ${exit.code} after ${exit.at - stopAt} ms\n`);
    return checks.every(([, , ok]) => ok) && exit.code === 0 ? 0 : 1;
  } finally {
    grpc.close();
    agent.destroy();
    await svc.stop();
    await op.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`soak failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
