/**
 * The judge's own CPU cost per check, in-process and without sockets: the assembled core (real
 * SQLite store, real provider and JWKS) called in a loop, and the front doors' translation around it
 * (HTTP: request mapping and reply; gRPC: decoding the pre-encoded `CheckRequest`, mapping, and
 * encoding the `CheckResponse`). CPU time per call (process.cpuUsage), which other load on the
 * machine barely moves, unlike checks/s. The provider runs in a child process (it turns on
 * async hooks, which would tax every promise here). A companion to run.ts for profiling work:
 *   node dist/test/bench/micro.js [--iterations N] [--only TEXT]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCore } from '../../src/app/core.js';
import { loadConfig } from '../../src/config/load.js';
import { AUTHZ_V3, loadDefinitions, serviceOf } from '../../src/judge/grpc/server.js';
import { toCheckResponse, toJudgeRequest, type CheckRequestMsg } from '../../src/judge/grpc/map.js';
import { createHttpMap, replyFor } from '../../src/judge/http/map.js';
import type { Decision } from '../../src/judge/decision.js';
import { requestIds, type JudgeRequest } from '../../src/judge/request.js';
import { bufferedDestination, createLogger } from '../../src/obs/log.js';
import { AUDIENCE, accessToken, secs } from '../helpers/app.js';
import { startOp } from '../helpers/op.js';
import { grpcCheckBody } from './grpc-body.js';
import { seedSessions } from './seed.js';

const { values: args } = parseArgs({
  options: { iterations: { type: 'string', default: '200000' }, only: { type: 'string' }, 'op-child': { type: 'boolean' } },
});
const N = Number(args.iterations);
const HOST = 'app.example.com';

interface Case {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly path: string;
  /** Share of --iterations (a login start seals a cookie: slower). */
  readonly share?: number;
  /** What every call must decide: a loop of 503s would measure the wrong path. */
  readonly expect: 'allow' | 'deny';
}

/** CPU microseconds per call of `fn` over `n` calls, after a warm-up of n/10. */
async function perCall(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < n / 10; i++) await fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

/**
 * Waits until the case decides as expected — the loops below never yield to the event loop, so
 * background work (the provider's keys still being fetched) must be done first. `maxTries` 1:
 * it must decide so now (after the loops).
 */
async function settle(c: Case, judge: () => Promise<Decision>, maxTries = 100): Promise<void> {
  for (let tries = 1; ; tries++) {
    const d = await judge();
    if (d.kind === c.expect) return;
    if (tries >= maxTries) throw new Error(`${c.name}: decided ${d.kind} ${d.kind === 'deny' ? d.status : ''}, expected ${c.expect}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface OpFacts {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly rs256: string;
}

/** The child: a provider, and an RS256 access token it signed. */
async function opChild(): Promise<void> {
  const op = await startOp();
  const rs256 = await accessToken(
    op,
    'user0@example.com',
    ['staff'],
    { exp: secs(Date.now() + 3600_000) },
    { alg: 'RS256', key: op.keys.find((k) => k.alg === 'RS256')! },
  );
  process.send!({ issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, rs256 } satisfies OpFacts);
  process.once('disconnect', () => void op.stop().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--op-child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const op = await new Promise<OpFacts>((resolve, reject) => {
    child.once('message', (m) => resolve(m as OpFacts));
    child.once('exit', (code) => reject(new Error(`provider process exited with ${code}`)));
  });
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-micro-'));
  try {
    const env = {
      OIDC_PROVIDER: op.issuer,
      CLIENT_ID: op.clientId,
      CLIENT_SECRET: op.clientSecret,
      AUDIENCES: AUDIENCE,
      SESSION_STORE_PATH: join(dir, 'sessions.db'),
      KUBERNETES_AUTHN_ENABLED: 'false',
      SKIP_AUTH_URLS: '/public/',
    };
    const { config } = loadConfig({ env, flags: {}, readFile: () => '' });
    const [id] = await seedSessions({ env, issuer: op.issuer, real: 1, total: 1000 });
    const rs = op.rs256;
    // Decision logging on, to /dev/null, as the bench's servers do.
    const log = createLogger(config.logLevel, bufferedDestination(openSync('/dev/null', 'w')));
    const core = buildCore(config, { log });
    core.issuers.start();
    await new Promise<void>((resolve) => (core.readiness.ready ? resolve() : core.issuers.primary.once('ready', () => resolve())));

    const base = { Host: HOST, Accept: 'application/json' };
    const cases: Case[] = (
      [
        { name: 'cookie session (cached)', headers: { ...base, Cookie: `authservice_session=${id}` }, path: '/app/data', expect: 'allow' },
        { name: 'JWT bearer RS256 (cached)', headers: { ...base, Authorization: `Bearer ${rs}` }, path: '/app/data', expect: 'allow' },
        { name: 'skipped path', headers: base, path: '/public/logo.png', expect: 'allow' },
        {
          name: 'denied: login redirect',
          headers: { Host: HOST, Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' },
          path: '/app/data',
          share: 0.1,
          expect: 'deny',
        },
      ] satisfies Case[]
    ).filter((c) => args.only === undefined || c.name.includes(args.only));

    const map = createHttpMap({ verifyPath: '/verify', forwardAuthPath: '/forward-auth', checkPathPrefix: '', trustedProxies: [] }, requestIds());
    const authz = serviceOf(loadDefinitions(), AUTHZ_V3)['Check']!;
    // Every case decides as expected before any loop starts (the loops starve the event loop).
    for (const c of cases) {
      const m = map.map({ method: 'GET', url: c.path, rawHeaders: Object.entries(c.headers).flat(), peer: '127.0.0.1' });
      if (m.kind !== 'judge') throw new Error(`${c.name}: not judged`);
      await settle(c, () => core.judge(m.request));
    }
    process.stdout.write(`| case | judge µs | + HTTP mapping µs | + gRPC decode, map, encode µs |\n|---|--:|--:|--:|\n`);
    for (const c of cases) {
      const n = Math.max(100, Math.round(N * (c.share ?? 1)));
      const rawHeaders = Object.entries(c.headers).flat();
      const lower = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const { host: _h, ...grpcHeaders } = lower;
      const body = Buffer.from(grpcCheckBody({ host: HOST, path: c.path, headers: grpcHeaders }).subarray(5));
      const judgeOnly = map.map({ method: 'GET', url: c.path, rawHeaders, peer: '127.0.0.1' });
      if (judgeOnly.kind !== 'judge') throw new Error(`${c.name}: not judged`);
      const req: JudgeRequest = judgeOnly.request;
      const judge = await perCall(n, () => core.judge(req));
      const http = await perCall(n, async () => {
        const m = map.map({ method: 'GET', url: c.path, rawHeaders, peer: '127.0.0.1' });
        if (m.kind === 'judge') return replyFor(m.mode, await core.judge(m.request));
        return m;
      });
      const grpc = await perCall(n, async () => {
        const r = toJudgeRequest(authz.requestDeserialize(body) as CheckRequestMsg, 'grpc', '127.0.0.1');
        return authz.responseSerialize(toCheckResponse(await core.judge(r!)));
      });
      await settle(c, () => core.judge(req), 1);
      process.stdout.write(`| ${c.name} | ${judge.toFixed(2)} | ${http.toFixed(2)} | ${grpc.toFixed(2)} |\n`);
    }
    await core.close();
  } finally {
    child.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

(args['op-child'] ? opChild() : main()).then(
  () => (args['op-child'] ? undefined : process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`micro bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
