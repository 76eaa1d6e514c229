/**
 * The signing keys of one issuer (`jwks_uri`), imported with jose's `createLocalJWKSet`.
 * - refreshed in the background every `refreshIntervalSeconds` (unref'ed timer; `stop()`);
 * - refetched on an unknown `kid` at most once per `minRefetchIntervalSeconds` (injected clock),
 *   concurrent lookups sharing one fetch, then the lookup is retried once;
 * - a failed fetch keeps the last good keys; with no keys at all, lookups throw
 *   `KeysUnavailableError`, which authenticators answer with 503, not 401.
 */
import { createLocalJWKSet, errors, type CryptoKey, type JSONWebKeySet, type JWTVerifyGetKey, type LocalJWKSet } from 'jose';
import type { Clock } from '../clock.js';
import { codeOf, JudgeError } from '../errors.js';
import { loggableUrl, type JsonGetter } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { Metrics } from '../obs/metrics.js';

export type JwksFetchCause = 'startup' | 'background' | 'unknown-kid';

/** No keys were ever fetched from the issuer and fetching them now failed. */
export class KeysUnavailableError extends JudgeError<'keys-unavailable'> {
  override readonly name = 'KeysUnavailableError';
  constructor(readonly jwksUri: string) {
    super('keys-unavailable', `signing keys of ${loggableUrl(jwksUri)} are not available`);
  }
}

export interface JwksCacheOptions {
  readonly uri: string;
  readonly http: JsonGetter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, 'jwksRefresh'>;
  readonly refreshIntervalSeconds: number;
  readonly minRefetchIntervalSeconds: number;
}

export class JwksCache {
  readonly uri: string;
  /** The key resolver for `jwtVerify(token, cache.getKey, …)`. */
  readonly getKey: JWTVerifyGetKey;

  readonly #opts: JwksCacheOptions;
  #keys: LocalJWKSet | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #fetches = 0;

  constructor(opts: JwksCacheOptions) {
    this.#opts = opts;
    this.uri = opts.uri;
    this.getKey = (header, token) => this.#resolve(header, token);
  }

  /** Whether at least one fetch succeeded. */
  get hasKeys(): boolean {
    return this.#keys !== undefined;
  }

  /** Fetches started so far (successful or not). */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** The current key set (public keys), if any. */
  jwks(): JSONWebKeySet | undefined {
    return this.#keys?.jwks();
  }

  /** First fetch now, then background refreshes. Does not wait. */
  start(): void {
    if (this.#timer) return;
    void this.refresh('startup');
    this.#timer = setInterval(() => void this.refresh('background'), this.#opts.refreshIntervalSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Fetches the key set now (joining a fetch under way); true when the fetch succeeded. Never throws. */
  refresh(cause: JwksFetchCause = 'background'): Promise<boolean> {
    this.#inflight ??= this.#fetch(cause).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #resolve(...args: Parameters<LocalJWKSet>): Promise<CryptoKey> {
    const keys = this.#keys;
    if (!keys) {
      await this.#refetch('startup');
      if (!this.#keys) throw new KeysUnavailableError(this.uri);
      return this.#keys(...args);
    }
    try {
      return await keys(...args);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // Keys replaced meanwhile (another lookup's refetch, a background refresh): just look again.
      if (this.#keys === keys && !(await this.#refetch('unknown-kid'))) throw err;
      return (this.#keys ?? keys)(...args);
    }
  }

  /** A fetch on demand: joins one under way, else only if the last one started long enough ago. */
  #refetch(cause: JwksFetchCause): Promise<boolean> {
    if (this.#inflight) return this.#inflight;
    if (this.#opts.clock.now() - this.#lastAttemptAt < this.#opts.minRefetchIntervalSeconds * 1000) return Promise.resolve(false);
    return this.refresh(cause);
  }

  async #fetch(cause: JwksFetchCause): Promise<boolean> {
    const { http, clock, log, metrics } = this.#opts;
    this.#lastAttemptAt = clock.now();
    this.#fetches++;
    let next: LocalJWKSet;
    try {
      const { json } = await http.getJson(this.uri, 'oidc.jwks');
      const keys = (json as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys) || keys.length === 0) throw new Error('the JWKS has no keys');
      next = createLocalJWKSet(json as JSONWebKeySet);
    } catch (err) {
      metrics?.jwksRefresh.inc({ result: 'error', cause });
      log.warn(
        {
          jwksUri: loggableUrl(this.uri),
          cause,
          keptLastGoodKeys: this.#keys !== undefined,
          err: err instanceof Error ? err.message : String(err),
          code: codeOf(err),
        },
        'JWKS fetch failed',
      );
      return false;
    }
    this.#keys = next;
    metrics?.jwksRefresh.inc({ result: 'ok', cause });
    log.debug({ jwksUri: loggableUrl(this.uri), cause }, 'JWKS fetched');
    return true;
  }
}
