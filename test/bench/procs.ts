/**
 * Benchmarked servers as child processes (server.ts): started with `fork`, ready when they report
 * their ports, measured from `/proc/<pid>/status` (VmRSS now, VmHWM = peak) and `/proc/<pid>/stat`
 * (CPU time used, user + system), stopped with SIGTERM.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ready, ServerKind } from './server.js';

export interface ServerProc {
  readonly pid: number;
  readonly ports: Ready;
  /** Resident memory now / at its peak, in MiB. */
  rssMb(): number;
  peakRssMb(): number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** utime + stime of `/proc/<pid>/stat` (fields 14 and 15, after the parenthesised command name). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15; clock ticks are 100 per second on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** `yaml` in a new temporary file (removed when the bench process exits). */
function yamlFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-bench-yaml-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function startServer(kind: ServerKind, env: Readonly<Record<string, string>> = {}, yaml?: string, reply?: string): Promise<ServerProc> {
  const child: ChildProcess = fork(SERVER, [kind], {
    // BENCH_SERVER_STDOUT=inherit shows what the servers print (logs, V8 traces); else it goes nowhere.
    stdio: ['ignore', process.env['BENCH_SERVER_STDOUT'] === 'inherit' ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_ENV: JSON.stringify(env),
      // The config file goes through a file: 1 000 rules are more than one environment variable may hold (E2BIG).
      ...(yaml !== undefined ? { BENCH_YAML_FILE: yamlFile(yaml) } : {}),
      ...(reply !== undefined ? { BENCH_REPLY: reply } : {}),
    },
    // BENCH_PROFILE=<dir>: a V8 CPU profile of each server, written when it stops.
    // BENCH_NODE_ARGS: more node flags for the servers (e.g. `--trace-deopt`, `--perf-basic-prof`).
    execArgv: [
      ...(process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : []),
      ...(process.env['BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
    ],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server ${kind} exited with ${code} before it was ready`)));
    child.once('message', (m: { ready: Ready }) => {
      child.removeAllListeners('exit');
      const pid = child.pid!;
      resolve({
        pid,
        ports: m.ready,
        rssMb: () => statusKb(pid, 'VmRSS') / 1024,
        peakRssMb: () => statusKb(pid, 'VmHWM') / 1024,
        cpuSeconds: () => cpuSecondsOf(pid),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
