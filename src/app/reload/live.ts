/**
 * The configuration in force, swapped whole: each snapshot is a frozen configuration with the judge
 * (and pages, login routes, admin route) built from it. The doors call `judge`, which hands each
 * check to the snapshot current when the check arrives — so a check runs entirely under one
 * configuration, and the swap is one assignment.
 *
 * A reload (a watched file changed, or SIGHUP) reads the configuration again and validates it whole;
 * it is refused — one log line, `oidc_judge_config_reloads_total{result="refused"}`, the running
 * snapshot stays — when the loader finds a problem, when it changes a setting that needs a restart
 * (fixed.ts, named in the refusal), or when the new judge does not become ready (its provider's
 * discovery, its assertion keys) within the check deadline. Otherwise the new snapshot takes over
 * and the old one is closed once the checks it was given can no longer be running.
 */
import { redacted } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { codeOf } from '../../errors.js';
import type { Judge } from '../../judge/decide.js';
import type { Logger } from '../../obs/log.js';
import type { ReloadMetrics } from '../../obs/reload-metrics.js';
import type { Readiness } from '../../obs/readiness.js';
import { createHash } from 'node:crypto';
import type { Core } from '../core.js';
import { fixedChanges } from './fixed.js';
import { contentHash, watchPaths } from './watch.js';

/** What `main.ts` hands over for reloads: how to read the configuration again, and what to watch. */
export interface ReloadSource {
  /** The configuration from the same sources as at start (file, `*_FILE` secrets, environment, flags); throws on a problem. */
  load(): Config;
  /** The files (and template directories) a configuration is read from: watched, and hashed. */
  paths(config: Config): readonly string[];
}

export interface Snapshot {
  readonly version: number;
  /** A hash of the configuration (secrets redacted) and of the contents of the watched files. */
  readonly hash: string;
  readonly config: Config;
  readonly core: Core;
}

export type ReloadResult = { readonly result: 'applied' | 'unchanged'; readonly version: number } | { readonly result: 'refused'; readonly reason: string };

export interface Live {
  /** Hands a check to the snapshot in force. */
  readonly judge: Judge;
  current(): Snapshot;
  reload(cause: 'file' | 'signal'): Promise<ReloadResult>;
  /** Stops watching and closes the snapshots no longer in force (the current one is the caller's to close). */
  close(): Promise<void>;
}

export interface LiveOptions {
  readonly source?: ReloadSource;
  /** Builds (but does not start) a core for a configuration, sharing the running store and metrics. */
  build(config: Config): Core;
  readonly readiness: Readiness;
  readonly metrics: ReloadMetrics;
  readonly log: Logger;
}

function hashOf(config: Config, source: ReloadSource | undefined): string {
  const files = source === undefined ? '' : contentHash(source.paths(config));
  return createHash('sha256')
    .update(JSON.stringify(redacted(config)))
    .update(files)
    .digest('hex')
    .slice(0, 16);
}

/** Resolves when `core` is ready; rejects after `ms`. */
function ready(core: Core, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (core.readiness.ready) return resolve();
    const timer = setTimeout(() => reject(new Error(`the new configuration did not become ready within ${ms} ms (OIDC discovery)`)), ms);
    timer.unref();
    core.readiness.on('change', (r) => {
      if (!r) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

export function createLive(first: { config: Config; core: Core }, o: LiveOptions): Live {
  let cur: Snapshot = { version: 1, hash: hashOf(first.config, o.source), config: first.config, core: first.core };
  o.metrics.inForce(cur.hash, cur.version);
  const retiring = new Map<Core, NodeJS.Timeout>();
  let running: Promise<ReloadResult> | undefined;
  let again = false;

  /** The shared readiness follows the snapshot in force. */
  const follow = (r: boolean): void => o.readiness.set(r, r ? '' : 'OIDC discovery is failing');

  function refuse(cause: string, reason: string): ReloadResult {
    o.metrics.counted('refused');
    o.log.error({ cause, reason, version: cur.version }, 'configuration reload refused; the running configuration stays in force');
    return { result: 'refused', reason };
  }

  async function once(cause: 'file' | 'signal'): Promise<ReloadResult> {
    const source = o.source;
    if (source === undefined) return refuse(cause, 'no reload source');
    let config: Config;
    try {
      config = source.load();
    } catch (e) {
      return refuse(cause, (e as Error).message);
    }
    const fixed = fixedChanges(cur.config, config);
    if (fixed.length > 0) return refuse(cause, `needs a restart to change: ${fixed.join(', ')}`);
    const hash = hashOf(config, source);
    if (hash === cur.hash) {
      o.metrics.counted('unchanged');
      return { result: 'unchanged', version: cur.version };
    }
    let core: Core;
    try {
      core = o.build(config);
    } catch (e) {
      return refuse(cause, (e as Error).message);
    }
    try {
      if (core.assertion !== undefined) await core.assertion.ready;
      core.startDiscovery();
      await ready(core, Math.max(config.checkTimeout, 5000));
    } catch (e) {
      void core.close();
      return refuse(cause, `${(e as Error).message}${codeOf(e) ? ` (${codeOf(e)})` : ''}`);
    }
    const old = cur;
    old.core.readiness.off('change', follow);
    cur = { version: old.version + 1, hash, config, core };
    core.readiness.on('change', follow);
    o.metrics.inForce(hash, cur.version);
    o.metrics.counted('applied');
    // A new CA_BUNDLE or TEMPLATE_PATH is watched from now on.
    watcher?.close();
    watcher = watchPaths(source.paths(config), onEvent);
    o.log.info({ cause, version: cur.version, hash }, 'configuration reloaded');
    // A check handed to the old judge ends within its deadline (judge/wrap/deadline.ts): close it after that.
    const t = setTimeout(() => {
      retiring.delete(old.core);
      void old.core.close();
    }, old.config.checkTimeout + 1000);
    t.unref();
    retiring.set(old.core, t);
    return { result: 'applied', version: cur.version };
  }

  async function reload(cause: 'file' | 'signal'): Promise<ReloadResult> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = once(cause);
    try {
      return await running;
    } finally {
      running = undefined;
      if (again) {
        again = false;
        void reload(cause);
      }
    }
  }

  const onEvent = (): void => void reload('file');
  let watcher = o.source === undefined ? undefined : watchPaths(o.source.paths(first.config), onEvent);
  return {
    judge: (req) => cur.core.judge(req),
    current: () => cur,
    reload,
    async close() {
      watcher?.close();
      await running?.catch(() => undefined);
      for (const [core, t] of retiring) {
        clearTimeout(t);
        await core.close();
      }
      retiring.clear();
    },
  };
}
