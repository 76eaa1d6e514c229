/**
 * Sessions on top of a `SessionStore`: ids are 256-bit secrets that only the browser holds; the
 * store sees a hash of the id as the key and the session sealed with a key derived from the id
 * (`ticket.ts`). A short in-process cache (`cache.ts`) saves the store read on repeated checks.
 *
 * Ending sessions — logout, back-channel logout, admin revocation — deletes them in the store,
 * drops them from this process's cache, and announces it on the store's revocation feed
 * (`feed.ts`), so every other process sharing the store drops its cached copies too.
 */
import type { Clock } from '../clock.js';
import { SessionCache, type CacheEntry } from './cache.js';
import type { Revocation, RevocationFeed, RevocationListener } from './feed.js';
import type { SessionStore } from './store.js';
import type { SessionIndex } from './session-index.js';
import { parseSession, type Session } from './session.js';
import { indexHash, isWellFormedId, newSecretId, seal, storeKey, unseal } from './ticket.js';

export interface SessionsOptions {
  /** Seconds without a request after which a session ends; 0 = none. */
  readonly idleTimeoutSeconds: number;
  /** Seconds a session read from the store is reused in process; 0 = no cache. */
  readonly cacheTtlSeconds: number;
  /** Largest number of cached sessions. */
  readonly cacheSize?: number;
  /** How this process learns about, and announces, sessions ended elsewhere. */
  readonly feed?: RevocationFeed;
  /** Told when an announcement could not be sent (other processes then see it within `cacheTtlSeconds`). */
  readonly onFeedError?: (err: Error) => void;
}

/** Whose sessions to end: every session of `sub`, or the sessions of provider session `sid` (of `sub`, when both are given). */
export interface RevokeTarget {
  readonly iss: string;
  readonly sub?: string;
  readonly sid?: string;
}

export class Sessions {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #opts: SessionsOptions;
  readonly #cache: SessionCache;
  readonly #listener: RevocationListener;
  #listening = false;

  constructor(store: SessionStore, clock: Clock, opts: SessionsOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#opts = opts;
    this.#cache = new SessionCache(opts.cacheSize ?? 10_000);
    this.#listener = { revoked: (r) => this.#cache.revoke(r), reset: () => this.#cache.clear() };
  }

  get store(): SessionStore {
    return this.#store;
  }

  /** Starts following other processes' revocations (the feed's subscriber connection or poll). */
  listen(): void {
    this.#listening = true;
    this.#opts.feed?.subscribe(this.#listener);
  }

  /** Resolves once revocations from other processes are being received (at once when not following them). */
  async listening(): Promise<void> {
    if (this.#listening) await this.#opts.feed?.subscribed();
  }

  /** Stops following revocations (the store itself is closed by its owner). */
  async close(): Promise<void> {
    await this.#opts.feed?.close();
  }

  /** The record's expiry in the store: the absolute end, or sooner with an idle timeout. */
  #recordExpiry(session: Session, now: number): number {
    const idle = this.#opts.idleTimeoutSeconds;
    return idle > 0 ? Math.min(session.expiresAt, now + idle * 1000) : session.expiresAt;
  }

  static #index(s: Session): SessionIndex {
    return { subject: indexHash(s.iss, s.sub), ...(s.sid !== undefined ? { sid: indexHash(s.iss, s.sid) } : {}) };
  }

  /** Stores a new session and returns its id (the cookie value). */
  async create(session: Session): Promise<string> {
    const id = newSecretId();
    const now = this.#clock.now();
    const key = storeKey('session', id);
    await this.#store.put(key, seal('session', id, JSON.stringify(session), key), this.#recordExpiry(session, now), Sessions.#index(session));
    return id;
  }

  /**
   * Replaces a session's content (after a token refresh); its absolute end does not move. False
   * when the session ended meanwhile (logout, revocation): it is not brought back.
   */
  async update(id: string, session: Session): Promise<boolean> {
    const now = this.#clock.now();
    const epoch = this.#cache.epoch;
    const index = Sessions.#index(session);
    const key = storeKey('session', id);
    const written = await this.#store.update(key, seal('session', id, JSON.stringify(session), key), this.#recordExpiry(session, now), index, now);
    if (!written) {
      this.#cache.forget(id);
      return false;
    }
    this.#remember(id, key, session, index, now, now, epoch);
    return true;
  }

  /**
   * The live session for an id, or `undefined` (unknown, expired, tampered). Store failures throw
   * (`StoreUnavailableError`): the caller answers 503, never a logout.
   */
  async load(id: string, opts: { fresh?: boolean } = {}): Promise<Session | undefined> {
    if (!isWellFormedId(id)) return undefined;
    const now = this.#clock.now();
    const hit = opts.fresh ? undefined : this.#cache.get(id);
    if (hit && hit.until > now && hit.session.expiresAt > now) {
      await this.#touch(id, hit, now);
      return hit.session;
    }
    // A revocation arriving while we read must not be undone by caching what we read.
    const epoch = this.#cache.epoch;
    const key = storeKey('session', id);
    const rec = await this.#store.get(key, now);
    if (!rec) {
      this.#cache.forget(id);
      return undefined;
    }
    const json = unseal('session', id, rec.value, key);
    const session = json === undefined ? undefined : parseSession(json);
    if (!session || session.expiresAt <= now) {
      this.#cache.forget(id);
      return undefined;
    }
    // When the record was last extended: its expiry minus one idle period.
    const idle = this.#opts.idleTimeoutSeconds * 1000;
    const entry = this.#remember(id, key, session, undefined, now, idle > 0 ? rec.expiresAt - idle : now, epoch);
    await this.#touch(id, entry, now);
    return session;
  }

  /** Pushes the idle expiry forward, at most once per tenth of the idle timeout. */
  async #touch(_id: string, entry: CacheEntry, now: number): Promise<void> {
    const idle = this.#opts.idleTimeoutSeconds * 1000;
    if (idle === 0 || now - entry.touchedAt < idle / 10) return;
    entry.touchedAt = now;
    await this.#store.touch(entry.key, Math.min(entry.session.expiresAt, now + idle), now);
  }

  /** The cache entry for a session read or written now; cached when caching is on (its index hashes only then). */
  #remember(id: string, key: string, session: Session, index: SessionIndex | undefined, now: number, touchedAt: number, epoch: number): CacheEntry {
    const caching = this.#opts.cacheTtlSeconds > 0;
    const entry: CacheEntry = {
      session,
      key,
      index: caching ? (index ?? Sessions.#index(session)) : {},
      until: now + this.#opts.cacheTtlSeconds * 1000,
      touchedAt,
    };
    if (caching) this.#cache.set(id, entry, epoch);
    return entry;
  }

  /** Ends a session, here and (through the feed) in every process's cache; true when it existed. */
  async delete(id: string): Promise<boolean> {
    this.#cache.forget(id);
    if (!isWellFormedId(id)) return false;
    const key = storeKey('session', id);
    // Also bumps the cache epoch: a read under way must not cache the session being deleted.
    this.#cache.revoke({ field: 'key', value: key });
    const existed = await this.#store.delete(key);
    if (existed) await this.#announce({ field: 'key', value: key });
    return existed;
  }

  /**
   * Ends every session of a user (`sub`) or of a provider session (`sid`; with `sub` too, only
   * the sessions carrying both) in the store, in this process's cache and, through the feed, in
   * every other process's. Returns how many sessions ended. Store failures throw.
   */
  async revoke(target: RevokeTarget): Promise<number> {
    const subject = target.sub === undefined ? undefined : indexHash(target.iss, target.sub);
    let r: Revocation;
    let keys: string[];
    if (target.sid !== undefined) {
      r = { field: 'sid', value: indexHash(target.iss, target.sid) };
      keys = await this.#store.deleteByIndex('sid', r.value, subject === undefined ? {} : { subject });
    } else if (subject !== undefined) {
      r = { field: 'subject', value: subject };
      keys = await this.#store.deleteByIndex('subject', subject);
    } else throw new TypeError('revoke needs a sub or a sid');
    this.#cache.revoke(r);
    await this.#announce(r);
    return keys.length;
  }

  async #announce(r: Revocation): Promise<void> {
    try {
      await this.#opts.feed?.publish(r);
    } catch (e) {
      this.#opts.onFeedError?.(e as Error);
    }
  }

  /** Forgets every cached session (this process only). */
  invalidateCache(): void {
    this.#cache.clear();
  }

  /** Sessions cached in this process now (for tests and metrics). */
  get cachedCount(): number {
    return this.#cache.size;
  }

  /** Lock name for refreshing one session's tokens. */
  static lockName(id: string): string {
    return `refresh:${storeKey('session', id)}`;
  }
}
