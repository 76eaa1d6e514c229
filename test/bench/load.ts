/**
 * The load generators, driven the same way for the judge and its baseline: `wrk` for HTTP/1.1
 * (closed loop, as fast as the server answers) and `h2load` for gRPC (HTTP/2, a pre-encoded
 * request body) and for rate-limited runs (`--rps`, HTTP/1.1 with `--h1`), whose per-request log
 * gives the latency percentiles h2load does not print itself.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  /** Completed requests per second. */
  readonly rps: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Requests that failed at the transport, timed out, or answered an unexpected status. */
  readonly errors: number;
  readonly requests: number;
  /** Seconds the generator ran at full speed, warm-up included (for CPU time per check). */
  readonly loadSeconds: number;
  /** Answers by status (0: cut off at the end of the run, not counted). */
  readonly statuses: Readonly<Record<string, number>>;
}

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out.slice(-500)}`))));
  });
}

const MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
function duration(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) throw new Error(`cannot read duration ${v}`);
  return Number(m[1]) * MS[m[2]!]!;
}

export interface HttpLoad {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** One header set per request, used round-robin (a wrk Lua script); empty: no extra headers. */
  readonly headerSets?: readonly Readonly<Record<string, string>>[];
  /** Status every answer must have; others count as errors. */
  readonly expectStatus: number;
}

function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Maximum throughput over HTTP/1.1 keep-alive with `wrk`. */
export async function wrk(o: HttpLoad): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const sets = o.headerSets ?? [{}];
    const script = join(dir, 'req.lua');
    writeFileSync(
      script,
      [
        'local sets = {',
        ...sets.map(
          (h) =>
            `  {${Object.entries(h)
              .map(([k, v]) => `[${luaString(k)}]=${luaString(v)}`)
              .join(', ')}},`,
        ),
        '}',
        'local n, i = #sets, 0',
        'local threads = {}',
        'setup = function(thread) table.insert(threads, thread) end',
        'init = function() seen = {} end',
        'request = function()',
        '  i = i % n + 1',
        '  return wrk.format(nil, nil, sets[i])',
        'end',
        'response = function(status) seen[status] = (seen[status] or 0) + 1 end',
        'done = function()',
        '  for _, t in ipairs(threads) do',
        '    for k, v in pairs(t:get("seen")) do io.write(string.format("STATUS %d %d\\n", k, v)) end',
        '  end',
        'end',
      ].join('\n'),
    );
    // One thread: the Lua response counter is per thread and the server has the other core.
    const out = await run('wrk', ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--latency', '-s', script, o.url]);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const p50 = duration(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? 'NaNms');
    const p99 = duration(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? 'NaNms');
    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const sockErr = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    const statuses: Record<string, number> = {};
    for (const m of out.matchAll(/^STATUS (\d+) (\d+)$/gm)) statuses[m[1]!] = Number(m[2]);
    const bad = Object.entries(statuses).reduce((n, [k, v]) => (Number(k) === o.expectStatus ? n : n + v), 0);
    if (!Number.isFinite(rps)) throw new Error(`cannot read wrk output:\n${out}`);
    return { rps, p50, p99, errors: sockErr + bad, requests, loadSeconds: o.seconds, statuses };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface H2Load {
  readonly url: string;
  readonly connections: number;
  /** Concurrent streams per connection (HTTP/2). */
  readonly streams: number;
  readonly seconds: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Request body (gRPC: a length-prefixed message); sends POST when present. */
  readonly body?: Uint8Array;
  /** HTTP/1.1 instead of HTTP/2. */
  readonly h1?: boolean;
  /** Requests per second per connection (rate-limited run); absent: as fast as possible. */
  readonly rpsPerConnection?: number;
  readonly expectStatus: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** HTTP/2 (gRPC) or rate-limited HTTP/1.1 load with `h2load`; percentiles from its per-request log. */
export async function h2load(o: H2Load): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-h2-'));
  try {
    const log = join(dir, 'requests.log');
    const args = [`-c${o.connections}`, `-m${o.streams}`, `-D${o.seconds}`, '--warm-up-time=1', `--log-file=${log}`];
    if (o.h1) args.push('--h1');
    if (o.rpsPerConnection !== undefined) args.push(`--rps=${o.rpsPerConnection}`);
    for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
    if (o.body) {
      const file = join(dir, 'body.bin');
      writeFileSync(file, o.body);
      args.push('-d', file);
    }
    args.push(o.url);
    const out = await run('h2load', args);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const lat: number[] = [];
    const statuses: Record<string, number> = {};
    let bad = 0;
    for (const line of lines) {
      const [, status, us] = line.split('\t');
      statuses[status!] = (statuses[status!] ?? 0) + 1;
      if (status === '0') continue; // still in flight when the run stopped
      if (Number(status) !== o.expectStatus) bad++;
      lat.push(Number(us) / 1000);
    }
    lat.sort((a, b) => a - b);
    const m = /finished in ([\d.]+)(\w+), ([\d.]+) req\/s/.exec(out);
    const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
    if (!m) throw new Error(`cannot read h2load output:\n${out}`);
    const transport = failed ? Number(failed[1]) + Number(failed[2]) + Number(failed[3]) : 0;
    return {
      rps: Number(m[3]),
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      errors: bad + transport,
      requests: lat.length,
      loadSeconds: o.seconds + 1,
      statuses,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
