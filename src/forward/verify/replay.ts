/**
 * `jti` replay protection for the verify-then-proxy forwarder. A token's (`iss`, `jti`) pair is
 * recorded only after its signature and claims passed, with one atomic insert-if-absent, and kept
 * until the token can no longer be accepted (`exp` plus the skew). The in-memory store is exact in
 * one process (the event loop makes check-and-set one step) and purges expired entries on a timer;
 * the Redis store (replay-redis.ts) shares the record between replicas.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';

export type ReplayOutcome = 'fresh' | 'replayed' | 'unavailable';

export interface ReplayStore {
  /** Records `key` until `untilMs` unless it is already recorded. Never throws. */
  remember(key: string, untilMs: number): Promise<ReplayOutcome>;
  ready(): boolean;
  close(): Promise<void>;
}

/** The stored key of one token: a hash, so the store holds no token data. */
export function replayKey(iss: string, jti: string): string {
  return createHash('sha256').update(iss).update('\0').update(jti).digest('base64url');
}

export interface MemoryReplayOptions {
  readonly clock: Clock;
  /** How often expired entries are dropped (default 60 s). */
  readonly purgeSeconds?: number;
  /** Most entries kept; beyond it new tokens are refused as unavailable (503) rather than forgotten (default 1 000 000). */
  readonly maxEntries?: number;
}

export class MemoryReplayStore implements ReplayStore {
  readonly #seen = new Map<string, number>();
  readonly #clock: Clock;
  readonly #max: number;
  readonly #timer: NodeJS.Timeout;

  constructor(o: MemoryReplayOptions) {
    this.#clock = o.clock;
    this.#max = o.maxEntries ?? 1_000_000;
    this.#timer = setInterval(() => this.purge(), (o.purgeSeconds ?? 60) * 1000);
    this.#timer.unref();
  }

  get size(): number {
    return this.#seen.size;
  }

  remember(key: string, untilMs: number): Promise<ReplayOutcome> {
    const now = this.#clock.now();
    const until = this.#seen.get(key);
    if (until !== undefined && until > now) return Promise.resolve('replayed');
    if (until === undefined && this.#seen.size >= this.#max) {
      this.purge();
      if (this.#seen.size >= this.#max) return Promise.resolve('unavailable');
    }
    this.#seen.set(key, untilMs);
    return Promise.resolve('fresh');
  }

  /** Drops entries whose time has passed. */
  purge(): void {
    const now = this.#clock.now();
    for (const [k, until] of this.#seen) if (until <= now) this.#seen.delete(k);
  }

  ready(): boolean {
    return true;
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#seen.clear();
    return Promise.resolve();
  }
}
