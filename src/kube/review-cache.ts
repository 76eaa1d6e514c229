/**
 * What the Kubernetes proxy asks the API server about (TokenReview, SubjectAccessReview), kept
 * small and cheap: a TTL cache of positive answers keyed by a SHA-256 of the question (a token is
 * never stored), and a token-bucket limiter (client-go's QPS and burst) shared by those calls.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';

export class ReviewCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  static keyOf(question: string): string {
    return createHash('sha256').update(question).digest('base64url');
  }

  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.clock.now() < e.until) return e.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, until: this.clock.now() + this.ttlMs });
  }
}

/** Waits `ms` (an unref'ed timer by default; tests pass their own). */
export type Wait = (ms: number) => Promise<void>;

const timerWait: Wait = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** client-go's token bucket: `burst` calls at once, then `qps` per second; `qps` 0 means unlimited. */
export class RateLimiter {
  #tokens: number;
  #at: number;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    private readonly qps: number,
    private readonly burst: number,
    private readonly wait: Wait = timerWait,
  ) {
    this.#tokens = burst;
    this.#at = clock.now();
  }

  /** Resolves when the caller may make one call; callers are served in order. */
  acquire(): Promise<void> {
    if (this.qps <= 0) return Promise.resolve();
    const turn = this.#tail.then(() => this.#take());
    this.#tail = turn;
    return turn;
  }

  async #take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.qps);
      this.#at = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.wait(Math.ceil(((1 - this.#tokens) / this.qps) * 1000));
    }
  }
}
