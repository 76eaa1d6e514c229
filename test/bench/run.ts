/**
 * `npm run bench`: the judge against its physical limit on this machine. A baseline (bare
 * `node:http` 200 / bare grpc-js fixed OK `CheckResponse`) and the judge run as child processes on
 * loopback, driven by the same load generator with the same connection counts (wrk -t1 -c32 for
 * HTTP, h2load -c16 -m8 for gRPC). Each scenario: one max-throughput run, then a run rate-limited at
 * half of that (h2load --rps) for the p99 target; peak RSS from /proc. Then idle RSS and RSS over a
 * half-load run. Some HTTP scenarios are followed by a reference row: bare `node:http` replaying the
 * judge's captured reply (same status and headers) under the same load — node's own cost of that
 * answer, which no work in the judge can go below. Prints one Markdown table and the targets met or missed.
 *   node dist/test/bench/run.js [--seconds N] [--rss-seconds N] [--only TEXT[|TEXT…]]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIENCE, JudgeClient, accessToken, secs } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { newKey, startOp, type OpKey, type TestOp } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { CHECK_PATH, grpcCheckBody } from './grpc-body.js';
import { h2load, wrk, type LoadResult } from './load.js';
import { startServer, type ServerProc } from './procs.js';
import type { CapturedReply } from './server.js';
import { table, verdictList, verdicts, type Memory, type Row } from './report.js';
import { SCENARIOS, type Proto, type Scenario } from './scenarios.js';
import { seedSessions } from './seed.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'rss-seconds': { type: 'string', default: '300' },
    only: { type: 'string' },
    proto: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const RSS_SECONDS = Number(args['rss-seconds']);
const HTTP_CONNECTIONS = 32;
const GRPC_CONNECTIONS = 16;
const GRPC_STREAMS = 8;
const HOST = 'app.example.com';

interface Env {
  readonly op: TestOp;
  readonly redis: RedisServer;
  readonly dir: string;
  readonly defaultKeys: readonly OpKey[];
}

let storeSeq = 0;
function judgeEnv(e: Env, s: Scenario): Record<string, string> {
  return {
    OIDC_PROVIDER: e.op.issuer,
    CLIENT_ID: e.op.clientId,
    CLIENT_SECRET: e.op.clientSecret,
    AUDIENCES: AUDIENCE,
    SERVER_HOSTNAME: '127.0.0.1',
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    READINESS_PROBE_PORT: '0',
    WEB_SERVER_PORT: '0',
    SESSION_STORE_PATH: join(e.dir, `sessions-${++storeSeq}.db`),
    SESSION_STORE_REDIS_ADDR: `127.0.0.1:${e.redis.port}`,
    SESSION_STORE_REDIS_KEY_PREFIX: `bench${storeSeq}:`,
    KUBERNETES_AUTHN_ENABLED: 'false',
    ...s.env,
    // BENCH_JUDGE_ENV='{"LOG_DECISIONS":"false"}': settings over every scenario's (experiments).
    ...(JSON.parse(process.env['BENCH_JUDGE_ENV'] ?? '{}') as Record<string, string>),
  };
}

/** The header sets the load generator cycles through. */
async function credentials(e: Env, s: Scenario, env: Record<string, string>): Promise<Record<string, string>[]> {
  const base: Record<string, string> = {
    Host: HOST,
    ...(s.navigation ? { Accept: 'text/html,application/xhtml+xml', 'Sec-Fetch-Mode': 'navigate' } : { Accept: 'application/json' }),
  };
  if (s.credential === 'cookie') {
    const ids = await seedSessions({ env, issuer: e.op.issuer, real: s.sessions?.real ?? 1, total: s.sessions?.total ?? 1 });
    return ids.map((id) => ({ ...base, Cookie: `authservice_session=${id}` }));
  }
  if (s.credential === 'rs256' || s.credential === 'es256') {
    const alg = s.credential === 'rs256' ? 'RS256' : 'ES256';
    const key = e.op.keys.find((k) => k.alg === alg)!;
    const out: Record<string, string>[] = [];
    const exp = Date.now() + 3 * 3600_000;
    for (let i = 0; i < (s.distinct ?? 1); i++) {
      const token = await accessToken(e.op, `user${i}@example.com`, ['staff'], { exp: secs(exp) }, { alg, key });
      out.push({ ...base, Authorization: `Bearer ${token}` });
    }
    // Several providers: the checks go round their hosts (each token to one host).
    return s.hosts === undefined ? out : out.map((h, i) => ({ ...h, Host: s.hosts![i % s.hosts!.length]! }));
  }
  return [base];
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** One request by a real client first: the load must measure the intended answer, not errors. */
async function sanity(s: Scenario, proto: Proto, port: number, headers: Record<string, string>): Promise<void> {
  if (proto === 'http') {
    const r = await send(port, s.path, { headers });
    const want = s.expect === 'allow' ? 200 : 302;
    const ok = r.status === want && (s.expect !== 'allow' || s.credential === 'none' || r.headers['kubeflow-userid'] !== undefined);
    if (!ok) throw new Error(`${s.name} (http): expected ${want}, got ${r.status} ${r.body.slice(0, 200)}`);
    return;
  }
  const client = new JudgeClient(port);
  try {
    const { host: _h, ...rest } = lower(headers);
    const r = await client.check(s.path, rest, { host: HOST });
    const ok = s.expect === 'allow' ? r.status.code === 0 : r.denied_response?.status?.code === 302;
    if (!ok) throw new Error(`${s.name} (grpc): unexpected answer ${JSON.stringify(r).slice(0, 300)}`);
  } finally {
    client.close();
  }
}

function maxLoad(proto: Proto, port: number, sets: Record<string, string>[], seconds: number, status: number): Promise<LoadResult> {
  if (proto === 'http')
    return wrk({ url: `http://127.0.0.1:${port}${currentPath}`, connections: HTTP_CONNECTIONS, seconds, headerSets: sets, expectStatus: status });
  return grpcLoad(port, sets[0]!, seconds);
}

function grpcBody(path: string, headers: Record<string, string>): Uint8Array {
  const { host: _h, ...rest } = lower(headers);
  return grpcCheckBody({ host: HOST, path, headers: rest });
}

let currentPath = '/';
function grpcLoad(port: number, headers: Record<string, string>, seconds: number, rpsPerConnection?: number): Promise<LoadResult> {
  return h2load({
    url: `http://127.0.0.1:${port}${CHECK_PATH}`,
    connections: GRPC_CONNECTIONS,
    // Rate-limited, h2load sends each connection's due requests together, up to its stream limit:
    // with 8 streams every tick is a burst of 16 × 8 checks, and p99 measures the burst, not the
    // server. One stream per connection at the rate spreads them out, as proxies' checks arrive.
    streams: rpsPerConnection === undefined ? GRPC_STREAMS : 1,
    seconds,
    headers: { 'content-type': 'application/grpc', te: 'trailers' },
    body: grpcBody(currentPath, headers),
    ...(rpsPerConnection !== undefined ? { rpsPerConnection } : {}),
    expectStatus: 200,
  });
}

function halfLoad(proto: Proto, port: number, headers: Record<string, string>, maxRps: number, seconds: number, status: number): Promise<LoadResult> {
  if (proto === 'grpc') return grpcLoad(port, headers, seconds, Math.max(1, Math.floor(maxRps / 2 / GRPC_CONNECTIONS)));
  return h2load({
    url: `http://127.0.0.1:${port}${currentPath}`,
    connections: HTTP_CONNECTIONS,
    streams: 1,
    h1: true,
    seconds,
    // h2load sends `host` from `:authority`; a `host` header would be a second one.
    headers: Object.fromEntries(
      Object.entries(headers)
        .filter(([k]) => k !== 'Host')
        .concat([[':authority', HOST]]),
    ),
    rpsPerConnection: Math.max(1, Math.floor(maxRps / 2 / HTTP_CONNECTIONS)),
    expectStatus: status,
  });
}

async function measure(name: string, proto: Proto, server: ServerProc, sets: Record<string, string>[], status: number, scenario?: Scenario): Promise<Row> {
  const port = proto === 'http' ? server.ports.http : server.ports.grpc;
  await maxLoad(proto, port, sets, Math.min(2, SECONDS), status); // warm-up (JIT, caches, connections)
  const cpu0 = server.cpuSeconds();
  const max = await maxLoad(proto, port, sets, SECONDS, status);
  // The server's own CPU per answer: unlike checks/s, barely moved by other load on the machine.
  const cpuUsPerCheck = ((server.cpuSeconds() - cpu0) * 1e6) / (max.rps * max.loadSeconds);
  const half = await halfLoad(proto, port, sets[0]!, max.rps, SECONDS, status);
  const row: Row = { name, proto, max, half, cpuUsPerCheck, peakRssMb: server.peakRssMb(), ...(scenario ? { scenario } : {}) };
  process.stderr.write(
    `  ${proto.padEnd(4)} ${name}: ${max.rps.toFixed(0)} checks/s, ${cpuUsPerCheck.toFixed(1)} CPU µs/check, p99 ${max.p99.toFixed(2)} ms, half-load p99 ${half.p99.toFixed(2)} ms, errors ${max.errors + half.errors} ${JSON.stringify(max.statuses)} ${JSON.stringify(half.statuses)}\n`,
  );
  return row;
}

async function baseline(proto: Proto): Promise<Row> {
  const server = await startServer(proto === 'http' ? 'baseline-http' : 'baseline-grpc');
  try {
    currentPath = '/app/data';
    return await measure(`baseline (${proto === 'http' ? 'bare node:http 200' : 'bare grpc-js OK CheckResponse'})`, proto, server, [{ Host: HOST }], 200);
  } finally {
    await server.stop();
  }
}

/** Headers node adds itself (or per connection): not part of the captured reply. */
const NODE_OWN = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** The judge's reply to one request, as a reference server replays it (see server.ts). */
async function captureReply(port: number, path: string, headers: Record<string, string>): Promise<CapturedReply> {
  const r = await send(port, path, { headers });
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(r.headers)) {
    if (NODE_OWN.has(name) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v]);
  }
  return { status: r.status, headers: out };
}

/** Bare node:http sending `reply` for every request, measured like the scenario it was captured from. */
async function reference(s: Scenario, reply: CapturedReply, sets: Record<string, string>[]): Promise<Row> {
  const server = await startServer('reference-http', {}, undefined, JSON.stringify(reply));
  try {
    return await measure(`reference: bare node:http sending the reply of "${s.name}"`, 'http', server, sets, reply.status);
  } finally {
    await server.stop();
  }
}

async function scenario(e: Env, s: Scenario): Promise<Row[]> {
  const env = judgeEnv(e, s);
  if (s.keys !== undefined) {
    const rs = e.defaultKeys.find((k) => k.alg === 'RS256')!;
    const extra = await Promise.all(Array.from({ length: s.keys - 1 }, () => newKey('RS256')));
    e.op.rotate([...extra, rs]);
  }
  try {
    const sets = await credentials(e, s, env);
    const server = await startServer('judge', env, s.yaml?.replaceAll('{{ISSUER}}', e.op.issuer));
    try {
      currentPath = s.path;
      const port = s.proto === 'http' ? server.ports.http : server.ports.grpc;
      await sanity(s, s.proto, port, sets[0]!);
      const status = s.expect === 'allow' ? 200 : 302;
      const captured = s.reference === true && s.proto === 'http' ? await captureReply(port, s.path, sets[0]!) : undefined;
      const row = await measure(s.name, s.proto, server, sets, status, s);
      await server.stop();
      return captured === undefined ? [row] : [row, await reference(s, captured, sets)];
    } finally {
      await server.stop();
    }
  } finally {
    if (s.keys !== undefined) e.op.rotate(e.defaultKeys);
  }
}

/**
 * A growth pair with `rounds`: its sides run alternately, `rounds` times each, and each side's row is
 * its median run by throughput — the drift of the machine during the pair is shared by both sides.
 */
async function alternated(e: Env, small: Scenario, chosen: readonly Scenario[]): Promise<Row[]> {
  const large = chosen.find((o) => o.growth?.pair === small.growth!.pair && o.growth.side === 'large');
  const runs = new Map<Scenario, Row[]>([[small, []], ...(large ? [[large, []] as [Scenario, Row[]]] : [])]);
  for (let i = 0; i < small.rounds!; i++) for (const [s, rows] of runs) rows.push(...(await scenario(e, s)));
  const median = (rows: Row[]): Row => [...rows].sort((a, b) => a.max.rps - b.max.rps)[Math.floor(rows.length / 2)]!;
  return [...runs.values()].map(median);
}

/** Idle RSS of a freshly started judge, then RSS sampled during a long half-load run. */
async function memory(e: Env, halfRps: number): Promise<Memory> {
  const s = SCENARIOS[0]!;
  const env = judgeEnv(e, s);
  const sets = await credentials(e, s, env);
  const server = await startServer('judge', env);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idleRssMb = server.rssMb();
    if (RSS_SECONDS <= 0) return { idleRssMb, samplesMb: [], seconds: 0 };
    const samplesMb: number[] = [];
    const every = Math.max(1, Math.floor(RSS_SECONDS / 10)) * 1000;
    const timer = setInterval(() => samplesMb.push(server.rssMb()), every);
    currentPath = s.path;
    await halfLoad('http', server.ports.http, sets[0]!, halfRps * 2, RSS_SECONDS, 200);
    clearInterval(timer);
    samplesMb.push(server.rssMb());
    return { idleRssMb, samplesMb, seconds: RSS_SECONDS };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const op = await startOp();
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-bench-'));
  const e: Env = { op, redis, dir, defaultKeys: op.keys };
  // --only: scenarios whose name contains the text, or one of several texts separated by `|`.
  const only = args.only?.split('|');
  // --proto http|grpc: one front door only (experiments); the other's baseline is skipped too.
  const protos = (args.proto === undefined ? ['http', 'grpc'] : [args.proto]) as Proto[];
  if (!protos.every((p) => p === 'http' || p === 'grpc')) throw new Error(`--proto: "${args.proto}" is neither http nor grpc`);
  const chosen = SCENARIOS.filter((s) => protos.includes(s.proto) && (only === undefined || only.some((o) => s.name.includes(o))));
  process.stderr.write(
    `oidc-judge bench: ${chosen.length} scenarios, ${SECONDS} s per run, wrk -t1 -c${HTTP_CONNECTIONS} (HTTP), h2load -c${GRPC_CONNECTIONS} -m${GRPC_STREAMS} (gRPC)\n`,
  );
  try {
    const baselineOf = async (p: Proto): Promise<Row | undefined> => (protos.includes(p) ? baseline(p) : undefined);
    const base = { http: await baselineOf('http'), grpc: await baselineOf('grpc') };
    const rows: Row[] = [];
    for (const s of chosen) {
      if (s.rounds === undefined || s.growth === undefined) rows.push(...(await scenario(e, s)));
      else if (s.growth.side === 'small') rows.push(...(await alternated(e, s, chosen)));
      else if (!chosen.some((o) => o.growth?.pair === s.growth!.pair && o.growth.side === 'small')) rows.push(...(await scenario(e, s)));
    }
    const baseAfter = { http: await baselineOf('http'), grpc: await baselineOf('grpc') };
    // The baseline before and after the scenarios, averaged: the machine's drift during the run is shared.
    const mean = (a: Row | undefined, b: Row | undefined): number => (a && b ? (a.max.rps + b.max.rps) / 2 : NaN);
    const baselines = { http: mean(base.http, baseAfter.http), grpc: mean(base.grpc, baseAfter.grpc) };
    const cookieHttp = rows.find((r) => r.proto === 'http' && r.scenario === SCENARIOS[0]);
    const mem = args.only === undefined || cookieHttp ? await memory(e, (cookieHttp?.max.rps ?? baselines.http * 0.7) / 2) : undefined;
    const named = (r: Row | undefined, when: string): Row[] => (r ? [{ ...r, name: `${r.name}, ${when}` }] : []);
    const all = [...named(base.http, 'before'), ...named(baseAfter.http, 'after'), ...named(base.grpc, 'before'), ...named(baseAfter.grpc, 'after'), ...rows];
    process.stdout.write(`\n${table(all, baselines)}\n\n`);
    if (mem)
      process.stdout.write(
        `Idle RSS: ${mem.idleRssMb.toFixed(0)} MB. RSS during ${mem.seconds} s at half load: ${mem.samplesMb.map((x) => x.toFixed(0)).join(', ')} MB.\n\n`,
      );
    const worse = (a: Row | undefined, b: Row | undefined): number => (a && b ? Math.max(a.half.p99, b.half.p99) : NaN);
    const halfP99 = { http: worse(base.http, baseAfter.http), grpc: worse(base.grpc, baseAfter.grpc) };
    process.stdout.write(`Targets:\n${verdictList(verdicts(rows, baselines, mem, halfP99))}\n`);
  } finally {
    await op.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
