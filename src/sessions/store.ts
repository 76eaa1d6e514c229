/**
 * The session store port. Backends (SQLite file, Redis) keep opaque, already-encrypted bytes under
 * keys that are hashes of the secret ids (see `ticket.ts`): reading the store yields neither
 * cookies nor tokens. One contract test suite (`test/sessions/contract.ts`) runs against every
 * backend.
 *
 * Times are epoch milliseconds from the caller's clock; a backend never reads its own clock for
 * expiry decisions it reports (`get` of an expired record answers `undefined` given `now`), but
 * may also let its server expire records (Redis TTLs) as housekeeping.
 */

import { JudgeError } from '../errors.js';
import type { RevocationFeed, RevocationFeedOptions } from './feed.js';
import type { SessionIndex } from './session-index.js';

export interface StoredRecord {
  readonly value: Uint8Array;
  /** When the record stops being valid (epoch ms). */
  readonly expiresAt: number;
}

/** A lock held across processes and replicas; `release` is safe to call more than once. */
export interface StoreLock {
  release(): Promise<void>;
}

export class StoreUnavailableError extends JudgeError<'store-unavailable'> {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super('store-unavailable', message, options);
  }
}

export interface SessionStore {
  /** `sqlite` or `redis` (for logs and metrics). */
  readonly kind: string;

  /** Creates or replaces a session record. */
  put(key: string, value: Uint8Array, expiresAt: number, index?: SessionIndex): Promise<void>;
  /**
   * Replaces a session record that is still live at `now`; false, and nothing written, when it is
   * gone — so a token refresh finishing after a logout or revocation never brings the session back.
   */
  update(key: string, value: Uint8Array, expiresAt: number, index: SessionIndex, now: number): Promise<boolean>;
  /** The record, or `undefined` when absent or expired at `now`. */
  get(key: string, now: number): Promise<StoredRecord | undefined>;
  /** Moves the expiry of an existing record (idle timeout); false when it no longer exists. */
  touch(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes a session; true when it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Deletes every session with this index value — and, with `also`, only those whose index also
   * carries each value given there (back-channel logout with both `sid` and `sub`). Returns their keys.
   */
  deleteByIndex(field: keyof SessionIndex, value: string, also?: SessionIndex): Promise<string[]>;

  /**
   * Records a one-time value (a logout token's `jti`) until `expiresAt`: true the first time,
   * false while an earlier record of it is live at `now`. Atomic across processes and replicas.
   */
  claimOnce(key: string, expiresAt: number, now: number): Promise<boolean>;

  /**
   * The channel through which the processes sharing this store tell each other that sessions
   * ended, so each drops its cached copies (`feed.ts`). Nothing is opened until it is subscribed to.
   */
  revocationFeed(opts?: RevocationFeedOptions): RevocationFeed;

  /**
   * The secret named `name` shared by every process and replica on this store: the first call
   * anywhere stores `candidate` (once — set-if-absent) and every call answers the stored bytes. It
   * never expires. Used for the login-attempt cookie key when `LOGIN_STATE_SECRET` is not set.
   */
  sharedSecret(name: string, candidate: Uint8Array): Promise<Uint8Array>;

  /**
   * Tries to take the named lock for `ttlMs` from `now` (then it lapses by itself: a later `lock`
   * with `now >= ` that end takes it over). `undefined` when someone else holds it. Used so one
   * replica refreshes a session's tokens at a time.
   */
  lock(name: string, ttlMs: number, now: number): Promise<StoreLock | undefined>;

  /** Removes expired records (backends whose server does not expire them). Returns how many. */
  sweep(now: number): Promise<number>;
  /** True when the store answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
