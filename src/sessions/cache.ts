/**
 * The in-process session cache, keyed by the raw session id (the hot path hashes nothing on a
 * hit) and also indexed by what revocations name — the session's store key and its subject and
 * sid hashes — so that a revocation drops exactly the sessions it ends.
 *
 * An `epoch` counts revocations: a reader notes it before going to the store and `set` refuses
 * to cache what it read if a revocation arrived meanwhile (it may have read a session being
 * deleted). Bounded in size; the oldest entry goes first.
 */
import type { Revocation } from './feed.js';
import type { Session } from './session.js';
import type { SessionIndex } from './session-index.js';

export interface CacheEntry {
  readonly session: Session;
  /** The session's store key (`storeKey('session', id)`). */
  readonly key: string;
  readonly index: SessionIndex;
  /** When this entry must be re-read (epoch ms). */
  readonly until: number;
  /** When the store's idle expiry was last pushed forward. */
  touchedAt: number;
}

type Tag = `${Revocation['field']} ${string}`;

export class SessionCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #byTag = new Map<Tag, Set<string>>();
  readonly #max: number;
  #epoch = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Changes whenever a revocation or reset is applied. */
  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): CacheEntry | undefined {
    return this.#entries.get(id);
  }

  static #tags(e: CacheEntry): Tag[] {
    const tags: Tag[] = [`key ${e.key}`];
    if (e.index.subject !== undefined) tags.push(`subject ${e.index.subject}`);
    if (e.index.sid !== undefined) tags.push(`sid ${e.index.sid}`);
    return tags;
  }

  /** Caches `entry` unless a revocation was applied since `epoch` (when the caller started reading). */
  set(id: string, entry: CacheEntry, epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.forget(id);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    this.#entries.set(id, entry);
    for (const tag of SessionCache.#tags(entry)) {
      let ids = this.#byTag.get(tag);
      if (!ids) this.#byTag.set(tag, (ids = new Set()));
      ids.add(id);
    }
  }

  forget(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    for (const tag of SessionCache.#tags(entry)) {
      const ids = this.#byTag.get(tag);
      ids?.delete(id);
      if (ids?.size === 0) this.#byTag.delete(tag);
    }
  }

  /** Drops the cached sessions a revocation names. */
  revoke(r: Revocation): void {
    this.#epoch++;
    const ids = this.#byTag.get(`${r.field} ${r.value}`);
    if (ids) for (const id of [...ids]) this.forget(id);
  }

  clear(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#byTag.clear();
  }
}
