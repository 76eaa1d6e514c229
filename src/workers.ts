/**
 * `--workers N`: the service in N Node cluster workers that share every listener (judge HTTP, gRPC,
 * web, health, ingress — cluster hands each accepted connection to one worker, round-robin). The
 * same entry point runs in the primary and in each worker: `runWorkers` forks in the primary and
 * starts the service in a worker.
 *
 * The primary serves nothing itself. It forwards SIGTERM/SIGINT to the workers (each drains its
 * in-flight checks and exits), exits once all have, and restarts a worker that dies unexpectedly,
 * after a back-off that doubles with each crash in a row. A worker that keeps dying shortly after it
 * started means something is wrong that a restart will not fix: after `maxCrashes` such crashes
 * in a row the primary logs why, stops the other workers and exits 1, so the orchestrator sees it.
 *
 * Every worker opens its own session store: SQLite in WAL mode takes several processes on one file
 * (its busy timeout covers writers meeting), and revocations reach the other workers' caches
 * through the store's revocation feed, as between replicas. A scrape of `/metrics` gets the whole
 * group's metrics: the worker it lands on asks the primary, which merges every worker's
 * (src/obs/cluster-metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { schema } from './config/schema.js';
import { codeOf } from './errors.js';
import { metricsHub } from './obs/cluster-metrics.js';
import type { Logger } from './obs/log.js';

/** What a started service offers the worker runner. */
export interface Stoppable {
  /** Stops accepting, drains in-flight work, releases everything; resolves when done. */
  stop(): Promise<void>;
  /** Reads the configuration again (SIGHUP, forwarded by the primary to every worker). */
  reload?(cause: 'signal'): unknown;
}

export interface WorkerOptions {
  /** Delay before the first restart after a crash; doubles with each crash in a row. Default 500. */
  readonly restartDelayMs?: number;
  /** Longest restart delay. Default 30 000. */
  readonly maxRestartDelayMs?: number;
  /** A worker that lived this long before dying starts a fresh crash count. Default 60 000. */
  readonly stableAfterMs?: number;
  /** Crashes in a row (each within `stableAfterMs` of starting) after which the primary gives up. Default 5. */
  readonly maxCrashes?: number;
  /** How long the primary waits for workers to drain after SIGTERM before it kills them. Default 60 000. */
  readonly killAfterMs?: number;
  /** How long the primary waits for each worker's metrics when a scrape asks for the group's (src/obs/cluster-metrics.ts). Default 2000. */
  readonly metricsTimeoutMs?: number;
}

/** Worker ↔ primary messages. */
const READY = 'oidc-judge:ready';

/**
 * Parses `--workers` / `WORKERS` as the config schema does (a count ≥ 1, or `0` / `auto` for one
 * per CPU) and resolves one per CPU to `cpus`. Returns an error message for anything else.
 */
export function parseWorkers(value: string, cpus: number = availableParallelism()): number | string {
  let n: number;
  try {
    n = schema.workers.parse(value);
  } catch (e) {
    return (e as Error).message;
  }
  return n === 0 ? Math.max(1, cpus) : n;
}

/**
 * Runs the service in `count` cluster workers (call it with count > 1; with one worker, start the
 * service in-process instead). In the primary: forks, supervises, and resolves with the exit code
 * once every worker is gone. In a worker: starts the service with `startOne` (given a logger that
 * names the worker on every line), stops it on SIGTERM/SIGINT or when the primary goes away, and
 * resolves with the exit code.
 */
export function runWorkers(count: number, startOne: (log: Logger) => Promise<Stoppable>, log: Logger, opts: WorkerOptions = {}): Promise<number> {
  if (cluster.isWorker) return runWorker(startOne, log.child({ worker: cluster.worker?.id ?? 0 }));
  return runPrimary(count, log, opts);
}

async function runWorker(startOne: (log: Logger) => Promise<Stoppable>, log: Logger): Promise<number> {
  let service: Stoppable;
  try {
    service = await startOne(log);
  } catch (e) {
    log.fatal({ err: { name: (e as Error).name, code: codeOf(e), message: (e as Error).message } }, 'cannot start');
    return 1;
  }
  process.send?.(READY);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'worker shutting down: draining in-flight checks');
      service.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: { code: codeOf(e), message: (e as Error).message } }, 'unclean worker shutdown');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    // Ctrl-C reaches the whole process group; the primary's SIGTERM follows and finds us stopping.
    process.once('SIGINT', () => stop('SIGINT'));
    // The primary died (it cannot forward signals any more): do not linger as an orphan.
    process.once('disconnect', () => stop('primary gone'));
    process.on('SIGHUP', () => void service.reload?.('signal'));
  });
}

interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  startedAt: number;
  /** Crashes in a row, each shortly after starting. */
  crashes: number;
  restart: NodeJS.Timeout | undefined;
}

function runPrimary(count: number, log: Logger, opts: WorkerOptions): Promise<number> {
  const restartDelayMs = opts.restartDelayMs ?? 500;
  const maxRestartDelayMs = opts.maxRestartDelayMs ?? 30_000;
  const stableAfterMs = opts.stableAfterMs ?? 60_000;
  const maxCrashes = opts.maxCrashes ?? 5;
  const killAfterMs = opts.killAfterMs ?? 60_000;
  // Scrapes of the shared health port get every worker's metrics, merged.
  const metrics = metricsHub({ timeoutMs: opts.metricsTimeoutMs ?? 2000 });

  return new Promise<number>((resolve) => {
    const slots: Slot[] = Array.from({ length: count }, (_, n) => ({ n: n + 1, worker: undefined, startedAt: 0, crashes: 0, restart: undefined }));
    let stopping = false;
    let exitCode = 0;
    let kill: NodeJS.Timeout | undefined;

    const finishIfDone = (): void => {
      if (!stopping || slots.some((s) => s.worker !== undefined)) return;
      clearTimeout(kill);
      process.removeListener('SIGTERM', onSigterm);
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGHUP', onSighup);
      log.info({ exitCode }, 'all workers stopped');
      resolve(exitCode);
    };

    const fork = (slot: Slot): void => {
      slot.restart = undefined;
      const worker = cluster.fork();
      slot.worker = worker;
      slot.startedAt = Date.now();
      // `worker` is the cluster's id (a restarted worker gets a new one; workers log it on every
      // line), `slot` the place it fills.
      const facts = { worker: worker.id, slot: slot.n, pid: worker.process.pid };
      log.info(facts, 'worker started');
      metrics.attach(worker);
      worker.on('message', (m: unknown) => {
        if (m !== READY) return;
        metrics.ready(worker);
        log.info(facts, 'worker ready');
      });
      worker.once('exit', (code, signal) => {
        slot.worker = undefined;
        if (stopping) {
          log.info({ ...facts, code, signal }, 'worker stopped');
          if (code !== 0) exitCode = 1;
          finishIfDone();
          return;
        }
        crashed(slot, { ...facts, code, signal });
      });
    };

    const crashed = (slot: Slot, facts: Record<string, unknown>): void => {
      const lived = Date.now() - slot.startedAt;
      slot.crashes = lived >= stableAfterMs ? 1 : slot.crashes + 1;
      if (slot.crashes >= maxCrashes) {
        log.fatal(
          { ...facts, crashes: slot.crashes },
          `worker slot ${slot.n}: its worker died ${slot.crashes} times in a row, each within ${Math.round(stableAfterMs / 1000)} s of starting; giving up: stopping all workers`,
        );
        exitCode = 1;
        shutdown('crash loop');
        return;
      }
      const delayMs = Math.min(maxRestartDelayMs, restartDelayMs * 2 ** (slot.crashes - 1));
      log.error(
        { ...facts, crashes: slot.crashes, restartInMs: delayMs },
        `worker ${String(facts['worker'])} died unexpectedly; restarting slot ${slot.n} in ${delayMs} ms`,
      );
      slot.restart = setTimeout(() => fork(slot), delayMs);
    };

    const shutdown = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why, workers: slots.filter((s) => s.worker).length }, 'shutting down: workers drain their in-flight checks');
      for (const s of slots) {
        clearTimeout(s.restart);
        s.worker?.process.kill('SIGTERM');
      }
      kill = setTimeout(() => {
        for (const s of slots) {
          if (s.worker === undefined) continue;
          log.error({ worker: s.worker.id, slot: s.n, pid: s.worker.process.pid }, `worker ${s.worker.id} did not stop within ${killAfterMs} ms; killing it`);
          s.worker.process.kill('SIGKILL');
        }
      }, killAfterMs);
      finishIfDone();
    };

    const onSigterm = (): void => shutdown('SIGTERM');
    const onSigint = (): void => shutdown('SIGINT');
    // SIGHUP (reload the configuration) goes to every worker.
    const onSighup = (): void => {
      for (const s of slots) s.worker?.process.kill('SIGHUP');
    };
    process.on('SIGTERM', onSigterm);
    process.on('SIGINT', onSigint);
    process.on('SIGHUP', onSighup);
    log.info({ workers: count }, `starting ${count} workers`);
    for (const s of slots) fork(s);
  });
}
