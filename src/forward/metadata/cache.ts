/**
 * One cached upstream document of the metadata gateway: fresh for a TTL (injected clock), one
 * fetch in flight however many requests miss at once, and a stale copy kept for a bounded time to
 * answer while the upstream fails. After a failed fetch with a stale copy to serve, requests get
 * that copy without a new attempt for a short back-off (at most 10 s, never above the TTL), so an
 * outage costs neither every client a timeout nor the API server a request per client.
 */
import type { Clock } from '../../clock.js';
import type { JsonDocument } from '../engine/json-doc.js';

export interface CachedDocument extends JsonDocument {
  readonly fetchedAtMs: number;
}

export type Lookup =
  /** `hit`: answered from the cache without a fetch. */
  | { readonly kind: 'fresh'; readonly doc: CachedDocument; readonly hit: boolean }
  | { readonly kind: 'stale'; readonly doc: CachedDocument; readonly error: string }
  | { readonly kind: 'error'; readonly error: string };

export interface DocumentCacheOptions {
  readonly ttlMs: number;
  /** How long past `ttlMs` a copy may be served when fetching fails. */
  readonly maxStaleMs: number;
}

export class DocumentCache {
  readonly #fetch: () => Promise<JsonDocument>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #backoffMs: number;
  #entry: CachedDocument | undefined;
  #inflight: Promise<Lookup> | undefined;
  #retryAtMs = 0;

  constructor(fetch: () => Promise<JsonDocument>, clock: Clock, o: DocumentCacheOptions) {
    this.#fetch = fetch;
    this.#clock = clock;
    this.#ttlMs = o.ttlMs;
    this.#maxStaleMs = o.maxStaleMs;
    this.#backoffMs = Math.min(o.ttlMs, 10_000);
  }

  /** The cached copy while fresh, else the result of a (shared) fetch. */
  get(): Promise<Lookup> {
    const e = this.#entry;
    const now = this.#clock.now();
    if (e !== undefined && now - e.fetchedAtMs < this.#ttlMs) return Promise.resolve({ kind: 'fresh', doc: e, hit: true });
    if (this.#inflight === undefined && now < this.#retryAtMs) {
      const stale = this.#stale('upstream failed recently', now);
      if (stale.kind === 'stale') return Promise.resolve(stale);
    }
    return this.refresh();
  }

  /** Fetches now (joining a fetch already in flight), whatever the cached copy's age. */
  refresh(): Promise<Lookup> {
    this.#inflight ??= this.#fetch().then(
      (doc): Lookup => {
        this.#entry = { ...doc, fetchedAtMs: this.#clock.now() };
        this.#retryAtMs = 0;
        this.#inflight = undefined;
        return { kind: 'fresh', doc: this.#entry, hit: false };
      },
      (err: unknown): Lookup => {
        const now = this.#clock.now();
        this.#retryAtMs = now + this.#backoffMs;
        this.#inflight = undefined;
        return this.#stale(err instanceof Error ? err.message : String(err), now);
      },
    );
    return this.#inflight;
  }

  #stale(error: string, now: number): Lookup {
    const e = this.#entry;
    if (e !== undefined && now - e.fetchedAtMs <= this.#ttlMs + this.#maxStaleMs) return { kind: 'stale', doc: e, error };
    return { kind: 'error', error };
  }
}
