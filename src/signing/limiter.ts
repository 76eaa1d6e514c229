/**
 * At most `max` tasks at once, the rest in order of arrival: signing a burst of new identities
 * queues instead of filling libuv's thread pool (which DNS and file reads share).
 */
export class Limiter {
  #running = 0;
  readonly #queue: (() => void)[] = [];
  constructor(readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.max) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }

  /** Tasks waiting for a turn. */
  get waiting(): number {
    return this.#queue.length;
  }
}
