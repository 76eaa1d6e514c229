/**
 * The real command in a child process: `node <build>/src/cli.js serve` with an environment, for
 * tests that send it signals (SIGTERM drain, SIGKILL crash). The compiled CLI is found next to
 * this compiled helper (`<outDir>/test/helpers/` → `<outDir>/src/cli.js`), so it works from `dist/`
 * and from any private build directory. Resolves once the service logs `listening` (with its
 * bound ports: listeners use port 0); every JSON log line is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface Ports {
  readonly http: number;
  readonly grpc: number;
  readonly health: number;
  readonly web: number;
  readonly ingress: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the exit was seen. */
  readonly at: number;
}

export interface ChildService {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly ports: Ports;
  /** Parsed JSON log lines (stdout) so far, and raw stderr. */
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Sends `signal` and returns Date.now() at that moment. */
  signal(signal: NodeJS.Signals): number;
  /** SIGKILL if still running; resolves on exit. */
  stop(): Promise<Exit>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** `timeoutMs` turns a service that never listens into a failure; a busy machine took over 15 s to start one. */
export function startService(env: Readonly<Record<string, string>>, timeoutMs = 60_000): Promise<ChildService> {
  const proc = spawn(process.execPath, [CLI, 'serve'], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let pending = '';
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolve({ code, signal, at: Date.now() });
    });
  });
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the service did not log "listening" within ${timeoutMs} ms:\n${err}\n${JSON.stringify(logs.slice(-5))}`));
    }, timeoutMs);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${e.code ?? e.signal}) before listening:\n${err}\n${JSON.stringify(logs.slice(-5))}`));
    });
    proc.stdout!.on('data', (c: Buffer) => {
      pending += c.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          parsed = { msg: line };
        }
        logs.push(parsed);
        if (parsed['msg'] === 'listening') {
          clearTimeout(timer);
          resolve({
            proc,
            pid: proc.pid!,
            ports: parsed['ports'] as Ports,
            logs,
            stderr: () => err,
            exited,
            signal(signal) {
              const at = Date.now();
              proc.kill(signal);
              return at;
            },
            async stop() {
              if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
              return exited;
            },
          });
        }
      }
    });
  });
}
