/**
 * The revocation feed of the Redis store: PUBLISH on `<prefix>revocations` through the store's
 * command client, and one SUBSCRIBE connection per process. Plain pub/sub works the same on
 * standalone, Sentinel and Cluster (a cluster node forwards every PUBLISH to all the others over
 * the cluster bus), so in cluster mode the subscriber is a plain connection to any node.
 *
 * Pub/sub does not queue: whatever is published while the subscriber is away is lost. So after
 * every (re)subscription the listener is told to `reset` (drop every cached session), and a
 * subscriber connection that gives up (cluster node gone) is replaced by one to the next node.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  decodeRevocation,
  encodeRevocation,
  timerSchedule,
  type Revocation,
  type RevocationFeed,
  type RevocationFeedOptions,
  type RevocationListener,
} from './feed.js';
import { StoreUnavailableError } from './store.js';

export interface RedisFeedDeps {
  readonly channel: string;
  /** PUBLISH through the store's client (its availability rules apply). */
  readonly publish: (channel: string, message: string) => Promise<unknown>;
  /** A new subscriber connection (cluster mode: to the next node in turn). */
  readonly connect: () => Redis;
  /** Delay before a replacement connection after one gave up (default 500 ms). */
  readonly replaceAfterMs?: number;
}

export class RedisRevocationFeed implements RevocationFeed {
  readonly #origin = randomBytes(12).toString('base64url');
  readonly #deps: RedisFeedDeps;
  readonly #opts: RevocationFeedOptions;
  #listener: RevocationListener | undefined;
  #sub: Redis | undefined;
  #live = false;
  #lost = false;
  #closed = false;
  #cancel: (() => void) | undefined;
  #waiters: (() => void)[] = [];

  constructor(deps: RedisFeedDeps, opts: RevocationFeedOptions) {
    this.#deps = deps;
    this.#opts = opts;
  }

  async publish(r: Revocation): Promise<void> {
    const message = encodeRevocation(this.#origin, r);
    if (this.#closed) throw new StoreUnavailableError('redis: the revocation feed is closed');
    await this.#deps.publish(this.#deps.channel, message);
  }

  subscribe(listener: RevocationListener): void {
    this.#listener = listener;
    if (this.#sub === undefined && !this.#closed) this.#open();
  }

  /** Resolves once the subscription is confirmed (at once when it is). For tests and start-up checks. */
  subscribed(): Promise<void> {
    if (this.#live) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #open(): void {
    const sub = this.#deps.connect();
    this.#sub = sub;
    // Failures show as 'close'/'end'; without a listener ioredis would print them.
    sub.on('error', () => undefined);
    sub.on('ready', () => void this.#subscribeOn(sub));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.#deps.channel) this.#deliver(message);
    });
    sub.on('close', () => {
      if (this.#sub !== sub || !this.#live) return;
      this.#live = false;
      this.#lost = true;
      this.#opts.onProblem?.('lost the revocation subscription; reconnecting');
    });
    sub.on('end', () => {
      if (this.#sub !== sub || this.#closed) return;
      this.#sub = undefined;
      this.#live = false;
      this.#lost = true;
      const schedule = this.#opts.schedule ?? timerSchedule;
      this.#cancel = schedule(async () => {
        if (!this.#closed && this.#sub === undefined) this.#open();
      }, this.#deps.replaceAfterMs ?? 500);
    });
  }

  async #subscribeOn(sub: Redis): Promise<void> {
    try {
      await sub.subscribe(this.#deps.channel);
    } catch {
      if (this.#sub === sub && !this.#closed) sub.disconnect(true);
      return;
    }
    if (this.#sub !== sub || this.#closed) return;
    this.#live = true;
    // Whatever was published while we were not subscribed is unknown.
    this.#listener?.reset();
    if (this.#lost) this.#opts.onProblem?.('subscribed to revocations again');
    this.#lost = false;
    for (const w of this.#waiters.splice(0)) w();
  }

  #deliver(message: string): void {
    const decoded = decodeRevocation(message);
    if (!decoded || decoded.origin === this.#origin) return;
    this.#listener?.revoked(decoded.revocation);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    this.#cancel?.();
    const sub = this.#sub;
    this.#sub = undefined;
    sub?.disconnect();
  }
}
