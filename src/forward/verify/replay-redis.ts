/**
 * The Redis `jti` replay store, shared by every replica: one `SET key 1 NX PX <ms>` per token,
 * which is Redis's atomic insert-if-absent, so of two requests carrying the same token exactly one
 * gets "OK". Built on the session store's client (standalone, Sentinel or Cluster, TLS; no offline
 * queue, bounded waits). Redis down → `unavailable` (the forwarder answers 503, never lets it pass).
 */
import { createClient, type Client, type RedisStoreOptions } from '../../sessions/redis-client.js';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { ReplayOutcome, ReplayStore } from './replay.js';

export interface RedisReplayOptions extends RedisStoreOptions {
  readonly clock: Clock;
  readonly log: Logger;
}

export class RedisReplayStore implements ReplayStore {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #waitMs: number;

  constructor(o: RedisReplayOptions) {
    this.#client = createClient(o);
    this.#prefix = `${o.keyPrefix ?? 'oidc-judge:'}jti:`;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#waitMs = o.commandTimeoutMs ?? 1000;
    // Errors surface through `unavailable`; without a listener ioredis would print them.
    this.#client.on('error', () => undefined);
    this.#client.on('node error', () => undefined);
  }

  /** Resolves once connected, or after `ms` (whichever first); never rejects. */
  connected(ms: number): Promise<boolean> {
    if (this.ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#client.off('ready', done);
        resolve(this.ready());
      };
      const timer = setTimeout(done, ms);
      this.#client.once('ready', done);
    });
  }

  async remember(key: string, untilMs: number): Promise<ReplayOutcome> {
    const ttl = Math.max(1, Math.ceil(untilMs - this.#clock.now()));
    try {
      if (!this.ready() && !(await this.connected(this.#waitMs))) throw new Error(`not connected (${this.#client.status})`);
      const r = await this.#client.set(this.#prefix + key, '1', 'PX', ttl, 'NX');
      return r === 'OK' ? 'fresh' : 'replayed';
    } catch (e) {
      this.#log.warn({ err: { message: (e as Error).message } }, 'replay store (redis) unavailable; answered 503');
      return 'unavailable';
    }
  }

  ready(): boolean {
    return this.#client.status === 'ready';
  }

  async close(): Promise<void> {
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}
