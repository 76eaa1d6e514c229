/**
 * Egress token sources: the one interface the egress handlers use ("a bearer token for this
 * audience"), the error they answer with when no token can be had, and the cache every fetched or
 * signed token goes through — per audience, renewed a margin before `exp`, one fetch in flight
 * per audience, the previous token kept while it is still valid if a renewal fails.
 */
import type { JWK } from 'jose';
import type { Clock } from '../../../clock.js';
import type { Logger } from '../../../obs/log.js';

/** Why no token: `unavailable` → 503 (not ready yet, expired static token), `failed` → 502 (the token service failed). */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    readonly kind: 'unavailable' | 'failed',
    /** Short and safe to show a client: never a token, a secret or a response body. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

export interface TokenSource {
  /** A bearer token for `audience` (the configured audience, or the target's origin). Rejects with `TokenError`. */
  token(audience: string): Promise<string>;
  /** Public keys to publish as a JWKS (asymmetric signing sources only). */
  readonly publicKeys?: () => readonly JWK[];
  /** Whether tokens can be had now (a key is active, the static token has not expired). */
  ready(): boolean;
  close(): Promise<void>;
}

/** One token with its expiry (epoch ms); `expiresAt` undefined means it does not expire. */
export interface Expiring {
  readonly value: string;
  readonly expiresAt: number | undefined;
}

interface Entry {
  token?: Expiring;
  /** When `token` was obtained, for proportional renewal of short-lived tokens. */
  obtainedAt?: number;
  inflight?: Promise<Expiring> | undefined;
}

export interface TokenCacheOptions {
  readonly fetch: (audience: string) => Promise<Expiring>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Renew this long before `exp` (ms; default 60 000), or at half the lifetime for shorter-lived tokens. */
  readonly marginMs?: number;
  /** Audiences remembered (default 1 000); the least recently used goes first. */
  readonly maxAudiences?: number;
}

export class TokenCache {
  readonly #o: TokenCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #margin: number;
  readonly #max: number;

  constructor(o: TokenCacheOptions) {
    this.#o = o;
    this.#margin = o.marginMs ?? 60_000;
    this.#max = o.maxAudiences ?? 1_000;
  }

  /** The cached token for `audience`, or the one being fetched (started now if none is in flight). */
  async get(audience: string): Promise<string> {
    const now = this.#o.clock.now();
    let e = this.#entries.get(audience);
    if (e !== undefined) {
      this.#entries.delete(audience);
      this.#entries.set(audience, e);
    } else {
      e = {};
      this.#entries.set(audience, e);
      if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    }
    if (e.token !== undefined && now < this.#renewAt(e)) return e.token.value;
    const entry = e;
    entry.inflight ??= this.#o.fetch(audience).then(
      (t) => {
        entry.token = t;
        entry.obtainedAt = this.#o.clock.now();
        entry.inflight = undefined;
        return t;
      },
      (err: unknown) => {
        entry.inflight = undefined;
        throw err;
      },
    );
    try {
      return (await entry.inflight).value;
    } catch (err) {
      const old = entry.token;
      if (old !== undefined && (old.expiresAt === undefined || this.#o.clock.now() < old.expiresAt)) {
        this.#o.log.warn(
          { audience, reason: err instanceof TokenError ? err.reason : 'error' },
          'egress token renewal failed; the current token is still valid and kept',
        );
        return old.value;
      }
      throw err;
    }
  }

  #renewAt(e: Entry): number {
    const exp = e.token?.expiresAt;
    if (exp === undefined) return Infinity;
    const lifetime = exp - (e.obtainedAt ?? exp);
    return exp - Math.min(this.#margin, lifetime / 2);
  }

  clear(): void {
    this.#entries.clear();
  }
}
