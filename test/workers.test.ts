import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AUTHZ_V3, loadDefinitions, serviceOf } from '../src/judge/grpc/server.js';
import { parseWorkers } from '../src/workers.js';
import { send } from './helpers/http-send.js';
import { startOp, type TestOp } from './helpers/op.js';

const FIXTURE = fileURLToPath(new URL('./helpers/workers-fixture.js', import.meta.url));

type Line = Record<string, unknown> & { msg?: string; worker?: number; pid?: number };

/** The fixture's process and its JSON log lines, with a way to wait for a line (no polling, no sleeps). */
class Supervised {
  readonly lines: Line[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly #waiters = new Set<{ pred: (l: Line) => boolean; resolve: (l: Line) => void }>();
  readonly proc: ChildProcess;

  constructor(mode: 'app' | 'broken', settings: object) {
    this.proc = spawn(process.execPath, [FIXTURE, mode, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop()!;
      for (const text of parts) {
        const line = JSON.parse(text) as Line; // a line split or interleaved across processes would throw here
        this.lines.push(line);
        for (const w of this.#waiters) {
          if (!w.pred(line)) continue;
          this.#waiters.delete(w);
          w.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The first line (already seen or still to come) that satisfies `pred`. */
  until(pred: (l: Line) => boolean): Promise<Line> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.add({ pred, resolve }));
  }

  /** Lines from now on (the ones already seen do not count). */
  next(pred: (l: Line) => boolean): Promise<Line> {
    return new Promise((resolve) => this.#waiters.add({ pred, resolve }));
  }
}

const is =
  (msg: string, more: (l: Line) => boolean = () => true) =>
  (l: Line): boolean =>
    l.msg === msg && more(l);

/** The value of one series in a Prometheus text, e.g. `oidc_judge_workers` or `x_count{via="http"}`. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `oidc_judge_decisions_total` summed over every label set. */
function decisionsTotal(text: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith('oidc_judge_decisions_total{'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** An ext_authz v3 check over its own connection (a local subchannel pool: no sharing between clients). */
function grpcCheck(port: number, path: string): Promise<{ status?: { code?: number } }> {
  const check = serviceOf(loadDefinitions(), AUTHZ_V3)['Check']!;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const request = { attributes: { request: { http: { method: 'GET', host: 'app.example.com', path, headers: { 'x-request-id': `grpc-${path}` } } } } };
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, request, (err, value) => {
      client.close();
      if (err) reject(err);
      else resolve(value as { status?: { code?: number } });
    }),
  );
}

describe('--workers: parsing', () => {
  it('takes a count, or 0 / auto for one per CPU; anything else is an error naming what is allowed', () => {
    assert.equal(parseWorkers('3', 2), 3);
    assert.equal(parseWorkers('auto', 2), 2);
    assert.equal(parseWorkers(' AUTO ', 4), 4);
    assert.equal(parseWorkers('0', 8), 8);
    for (const bad of ['-1', 'two', '1.5', '', '01', '10000']) assert.match(String(parseWorkers(bad, 2)), /must be a number of workers/, bad);
  });
});

describe('--workers 2: the service in two cluster workers', () => {
  let op: TestOp;
  let s: Supervised;
  let ports: { http: number; grpc: number; health: number };

  before(async () => {
    op = await startOp();
    s = new Supervised('app', {
      env: {
        OIDC_PROVIDER: op.issuer,
        CLIENT_ID: op.clientId,
        CLIENT_SECRET: op.clientSecret,
        SERVER_HOSTNAME: '127.0.0.1',
        SERVER_PORT: '0',
        GRPC_PORT: '0',
        READINESS_PROBE_PORT: '0',
        WEB_SERVER_PORT: '0',
        SESSION_STORE_PATH: join(mkdtempSync(join(tmpdir(), 'workers-test-')), 'sessions.db'),
        KUBERNETES_AUTHN_ENABLED: 'false',
        SKIP_AUTH_URLS: '/public/',
        DRAIN_TIMEOUT: '5',
      },
      // A busy machine can take over a second to pass a worker's metrics to the primary: 3 s before a
      // worker is left out of a scrape (the SIGSTOPped one only; every other scrape counts both).
      // It must stay well below the asking worker's own 5 s wait for the primary (obs/cluster-metrics.ts
      // `workerMetrics`): at 5 s both gave up together and the scrape of a frozen worker's peer was a 500.
      options: { restartDelayMs: 10, metricsTimeoutMs: 3000 },
    });
    const started = await Promise.all([s.until(is('worker ready', (l) => l.worker === 1)), s.until(is('worker ready', (l) => l.worker === 2))]);
    assert.notEqual(started[0].pid, started[1].pid);
    const listening = await Promise.all([1, 2].map((w) => s.until(is('listening', (l) => l.worker === w))));
    ports = listening[0]!['ports'] as typeof ports;
    assert.deepEqual(listening[1]!['ports'], ports, 'both workers listen on the same ports');
  });

  after(async () => {
    if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    await op.stop();
  });

  it('forwards SIGHUP to every worker, each of which reloads (this fixture has no reload source: each refuses and says so)', async () => {
    const refused = 'configuration reload refused; the running configuration stays in force';
    const both = Promise.all([1, 2].map((w) => s.next(is(refused, (l) => l.worker === w))));
    s.proc.kill('SIGHUP');
    const lines = await both;
    assert.deepEqual(
      lines.map((l) => l['reason']),
      ['no reload source', 'no reload source'],
    );
  });

  /**
   * Sends checks on fresh connections until each of `workers` has logged a decision for one of them.
   * The tests using it carry a timeout, so a worker that never gets a connection fails by name.
   */
  async function answeredBy(via: 'http' | 'grpc', workers: readonly number[], check: (i: number) => Promise<void>): Promise<void> {
    const seen = Promise.all(workers.map((w) => s.next(is('decision', (l) => l.worker === w && l['via'] === via))));
    let done = false;
    void seen.then(() => (done = true));
    // Cluster deals connections round-robin: a few fresh connections reach every worker.
    for (let i = 0; !done && i < 50; i++) await check(i);
    await seen;
  }

  it('both workers answer HTTP checks on the one judge port', { timeout: 90_000 }, async () => {
    await answeredBy('http', [1, 2], async (i) => {
      const r = await send(ports.http, `/public/logo-${i}.png`, { headers: { host: 'app.example.com' } });
      assert.equal(r.status, 200);
    });
  });

  it('both workers answer gRPC checks on the one gRPC port', { timeout: 90_000 }, async () => {
    await answeredBy('grpc', [1, 2], async (i) => {
      const r = await grpcCheck(ports.grpc, `/public/grpc-${i}`);
      assert.equal(r.status?.code, 0);
    });
  });

  /** One scrape of the shared health port, on a fresh connection (so cluster may hand it to either worker). */
  async function scrape(): Promise<string> {
    const r = await send(ports.health, '/metrics');
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return r.body;
  }

  /** The lines satisfying `pred` once there are at least `n` of them. */
  async function linesUntil(pred: (l: Line) => boolean, n: number): Promise<Line[]> {
    while (s.lines.filter(pred).length < n) await s.next(pred);
    return s.lines.filter(pred);
  }

  it('/metrics: every scrape, whichever worker takes it, counts the checks of both workers', { timeout: 90_000 }, async () => {
    const before = await scrape();
    const base = decisionsTotal(before);
    const baseHttp = value(before, 'oidc_judge_check_duration_seconds_count{via="http"}') ?? 0;
    for (let i = 0; i < 20; i++) {
      const r = await send(ports.http, `/public/scraped-${i}.png`, { headers: { host: 'app.example.com' } });
      assert.equal(r.status, 200);
    }
    // Cluster deals fresh connections round-robin: both workers decided some, so neither one's own registry has all 20.
    const mine = await linesUntil(
      is('decision', (l) => String(l['path']).startsWith('/public/scraped-')),
      20,
    );
    assert.deepEqual(new Set(mine.map((l) => l.worker)), new Set([1, 2]));
    for (let i = 0; i < 4; i++) {
      const text = await scrape();
      assert.equal(decisionsTotal(text), base + 20, `scrape ${i}: decisions`);
      assert.equal(value(text, 'oidc_judge_check_duration_seconds_count{via="http"}'), baseHttp + 20, `scrape ${i}: durations`);
      assert.equal(value(text, 'oidc_judge_workers'), 2);
      assert.equal(value(text, 'oidc_judge_workers_reporting'), 2);
      assert.equal(text.match(/^# TYPE oidc_judge_decisions_total counter$/gm)?.length, 1);
    }
  });

  it('/metrics: a worker that does not answer in time is left out, and the scrape still answers', { timeout: 90_000 }, async () => {
    const frozen = (await s.until(is('worker started', (l) => l.worker === 2))).pid!;
    process.kill(frozen, 'SIGSTOP');
    let resumed = false;
    try {
      // Cluster hands a stopped worker at most one connection (it never takes it): of two scrapes,
      // at least one reaches the running worker, whose answer leaves the stopped one out.
      const scrapes = [scrape(), scrape()];
      const first = await Promise.race(scrapes);
      assert.equal(value(first, 'oidc_judge_workers'), 2);
      assert.equal(value(first, 'oidc_judge_workers_reporting'), 1);
      process.kill(frozen, 'SIGCONT');
      resumed = true;
      await Promise.all(scrapes);
    } finally {
      if (!resumed) process.kill(frozen, 'SIGCONT');
    }
    // Back: its late answers to the earlier scrapes are ignored, and it reports again.
    assert.equal(value(await scrape(), 'oidc_judge_workers_reporting'), 2);
  });

  it('a worker that dies is replaced, and the new one serves', { timeout: 90_000 }, async () => {
    const victim = (await s.until(is('worker started', (l) => l.worker === 1))).pid!;
    const died = s.next(is('worker 1 died unexpectedly; restarting slot 1 in 10 ms'));
    const replaced = s.next(is('worker ready', (l) => l.slot === 1));
    process.kill(victim, 'SIGKILL');
    assert.equal((await died)['signal'], 'SIGKILL');
    const fresh = await replaced;
    assert.notEqual(fresh.pid, victim);
    await s.until(is('listening', (l) => l.worker === fresh.worker));
    await answeredBy('http', [fresh.worker!, 2], async (i) => {
      const r = await send(ports.http, `/public/after-restart-${i}.png`, { headers: { host: 'app.example.com' } });
      assert.equal(r.status, 200);
    });
  });

  it('SIGTERM: the primary has every worker drain and exit, then exits 0 with every log line written', async () => {
    const died = new Set(s.lines.filter((l) => l['restartInMs'] !== undefined).map((l) => l.worker));
    const live = s.lines.filter(is('worker ready', (l) => !died.has(l.worker))).map((l) => l.worker!);
    assert.equal(live.length, 2);
    s.proc.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    for (const w of live) {
      assert.ok(s.lines.some(is('worker shutting down: draining in-flight checks', (l) => l.worker === w && l['why'] === 'SIGTERM')), `worker ${w} drained`);
      assert.ok(s.lines.some(is('worker stopped', (l) => l.worker === w && l['code'] === 0)), `worker ${w} stopped`);
    }
    assert.equal(s.lines.at(-1)?.msg, 'all workers stopped');
  });
});

describe('--workers: a worker that keeps dying', () => {
  it('is restarted after a doubling delay, then the primary gives up with a clear line, stops the others and exits 1', async () => {
    const s = new Supervised('broken', { options: { restartDelayMs: 20, maxCrashes: 3 } });
    const { code } = await s.exited;
    assert.equal(code, 1);
    const fatal = s.lines.find((l) => l['level'] === 'fatal' && /giving up: stopping all workers/.test(l.msg ?? ''));
    assert.ok(fatal, 'the reason is logged');
    assert.match(fatal.msg!, /died 3 times in a row, each within 60 s of starting/);
    const slot = fatal['slot'];
    const delays = s.lines.filter((l) => l.slot === slot && typeof l['restartInMs'] === 'number').map((l) => l['restartInMs']);
    assert.deepEqual(delays, [20, 40]);
    assert.ok(
      s.lines.some((l) => l['level'] === 'fatal' && l.msg === 'cannot start'),
      'each worker says why it could not start',
    );
    assert.equal(s.lines.at(-1)?.msg, 'all workers stopped');
  });
});
