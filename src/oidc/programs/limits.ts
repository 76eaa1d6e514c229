/**
 * Fixed-window counters for the device login's rate limits (RFC 8628 §5.1, §5.2): device
 * authorizations per client address, wrong user codes per signed-in user. In process: each replica
 * counts its own requests (a bound per replica, not a global one). The map is bounded: past
 * `maxKeys` it starts over, which only ever forgives.
 */
export class WindowLimit {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  #counts = new Map<string, { start: number; n: number }>();

  constructor(max: number, windowMs: number, maxKeys = 10_000) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /** True while `key` is within its limit at `now`: counts one more. */
  take(key: string, now: number): boolean {
    let c = this.#counts.get(key);
    if (c === undefined || now - c.start >= this.#windowMs) {
      if (this.#counts.size >= this.#maxKeys) this.#counts = new Map();
      c = { start: now, n: 0 };
      this.#counts.set(key, c);
    }
    c.n++;
    return c.n <= this.#max;
  }

  /** True when `key` has used its limit (without counting). */
  spent(key: string, now: number): boolean {
    const c = this.#counts.get(key);
    return c !== undefined && now - c.start < this.#windowMs && c.n >= this.#max;
  }
}
