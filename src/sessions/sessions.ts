/**
 * Sessions on top of a `SessionStore`: ids are 256-bit secrets that only the browser holds; the
 * store sees a hash of the id as the key and the session sealed with a key derived from the id
 * (`ticket.ts`). A short in-process cache saves the store read on repeated checks; deleting a
 * session here invalidates it at once (other replicas within `SESSION_CACHE_TTL`).
 */
import type { Clock } from '../clock.js';
import type { SessionIndex, SessionStore } from './store.js';
import { parseLoginState, parseSession, type LoginState, type Session } from './session.js';
import { indexHash, isWellFormedId, newSecretId, seal, storeKey, unseal } from './ticket.js';

export interface SessionsOptions {
  /** Seconds without a request after which a session ends; 0 = none. */
  readonly idleTimeoutSeconds: number;
  /** Seconds a session read from the store is reused in process; 0 = no cache. */
  readonly cacheTtlSeconds: number;
  /** Largest number of cached sessions. */
  readonly cacheSize?: number;
}

interface Cached {
  readonly session: Session;
  /** When this cache entry must be re-read (epoch ms). */
  readonly until: number;
  /** When the store's idle expiry was last pushed forward. */
  touchedAt: number;
}

export class Sessions {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #opts: SessionsOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #cacheSize: number;

  constructor(store: SessionStore, clock: Clock, opts: SessionsOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#opts = opts;
    this.#cacheSize = opts.cacheSize ?? 10_000;
  }

  get store(): SessionStore {
    return this.#store;
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
    await this.#store.put(storeKey('session', id), seal('session', id, JSON.stringify(session)), this.#recordExpiry(session, now), Sessions.#index(session));
    return id;
  }

  /** Replaces a session's content (after a token refresh); its absolute end does not move. */
  async update(id: string, session: Session): Promise<void> {
    const now = this.#clock.now();
    await this.#store.put(storeKey('session', id), seal('session', id, JSON.stringify(session)), this.#recordExpiry(session, now), Sessions.#index(session));
    this.#remember(id, session, now);
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
    const rec = await this.#store.get(storeKey('session', id), now);
    if (!rec) {
      this.#cache.delete(id);
      return undefined;
    }
    const json = unseal('session', id, rec.value);
    const session = json === undefined ? undefined : parseSession(json);
    if (!session || session.expiresAt <= now) {
      this.#cache.delete(id);
      return undefined;
    }
    // When the record was last extended: its expiry minus one idle period.
    const idle = this.#opts.idleTimeoutSeconds * 1000;
    const cached = this.#remember(id, session, now, idle > 0 ? rec.expiresAt - idle : now);
    await this.#touch(id, cached, now);
    return session;
  }

  /** Pushes the idle expiry forward, at most once per tenth of the idle timeout. */
  async #touch(id: string, entry: Cached, now: number): Promise<void> {
    const idle = this.#opts.idleTimeoutSeconds * 1000;
    if (idle === 0 || now - entry.touchedAt < idle / 10) return;
    entry.touchedAt = now;
    await this.#store.touch(storeKey('session', id), Math.min(entry.session.expiresAt, now + idle), now);
  }

  #remember(id: string, session: Session, now: number, touchedAt = now): Cached {
    const entry: Cached = { session, until: now + this.#opts.cacheTtlSeconds * 1000, touchedAt };
    if (this.#opts.cacheTtlSeconds === 0) return entry;
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(id, entry);
    return entry;
  }

  /** Ends a session; true when it existed. */
  async delete(id: string): Promise<boolean> {
    this.#cache.delete(id);
    if (!isWellFormedId(id)) return false;
    return this.#store.delete(storeKey('session', id));
  }

  /** Forgets cached sessions (all, when the store told us sessions were deleted elsewhere). */
  invalidateCache(): void {
    this.#cache.clear();
  }

  /** Saves a login attempt under a fresh `state` value and returns it. */
  async saveLoginState(state: LoginState, ttlSeconds: number): Promise<string> {
    const id = newSecretId();
    await this.#store.putState(storeKey('state', id), seal('state', id, JSON.stringify(state)), this.#clock.now() + ttlSeconds * 1000);
    return id;
  }

  /** Takes a login attempt (single use): `undefined` when unknown, used, expired or tampered. */
  async takeLoginState(stateId: string): Promise<LoginState | undefined> {
    if (!isWellFormedId(stateId)) return undefined;
    const raw = await this.#store.takeState(storeKey('state', stateId), this.#clock.now());
    if (!raw) return undefined;
    const json = unseal('state', stateId, raw);
    return json === undefined ? undefined : parseLoginState(json);
  }

  /** Lock name for refreshing one session's tokens. */
  static lockName(id: string): string {
    return `refresh:${storeKey('session', id)}`;
  }
}
