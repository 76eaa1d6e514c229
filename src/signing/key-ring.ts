/**
 * Generated assertion keys shared through the session store (SQLite file or Redis), so that every
 * replica signs only with keys every other replica publishes. The ring is one store record: each
 * key with `publishAt` (when it entered the ring), `signFrom` and, once replaced, `retireAt`.
 *
 * - every replica reads the ring each `refreshMs` and publishes every key not yet retired;
 * - it signs with the newest key whose `signFrom` has come;
 * - a rotation (under the store's lock, one replica at a time) adds a key whose `signFrom` is a
 *   lead (> 2 refreshes, and at least `leadMs`) ahead, so every replica — and every verifier that
 *   refetched the JWKS meanwhile — publishes it before any replica signs with it, and
 *   gives the key it replaces `retireAt` = that `signFrom` + the longest assertion lifetime + a
 *   refresh: it stays published until its last assertion has expired;
 * - a replica that cannot reach the store keeps its last ring (and says so in the log).
 *
 * The private keys are kept in the store as it keeps the login-state secret: whoever reads the
 * store can sign assertions, so the store is protected as a secret is.
 */
import type { JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { Logger } from '../obs/log.js';
import type { SessionStore } from '../sessions/store.js';
import type { AssertionKeys } from './key-files.js';
import { generateSigningKey, privateJwkOf, signingKeyFromJwk, type SigningAlg, type SigningKey } from './key.js';

/** The part of the session store the ring uses. */
export type RingStore = Pick<SessionStore, 'get' | 'put' | 'lock'>;

export const RING_RECORD = 'assertion-keys:v1';
const RING_LOCK = 'assertion-keys';
/** How long the ring record lives in the store after its last write (it is rewritten at each rotation). */
const RECORD_LIFETIME_MS = 5 * 365 * 86_400_000;

export interface KeyRingOptions {
  readonly store: RingStore;
  readonly alg: SigningAlg;
  /** How long a key signs before the next one takes over (> 0). */
  readonly rotateEveryMs: number;
  /** How often each replica reads the ring. */
  readonly refreshMs: number;
  /** How long every replica publishes a new key before it signs, at least (verifiers' JWKS caches: istiod refetches every 20 min). */
  readonly leadMs?: number;
  /** The longest lifetime of an assertion (`ASSERTION_TTL`). */
  readonly maxTtlMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Waits before asking for the ring's lock again when another replica is creating the first key (default: 100 ms timers). */
  readonly pause?: () => Promise<void>;
}

interface StoredKey {
  readonly jwk: JWK;
  readonly publishAt: number;
  readonly signFrom: number;
  readonly retireAt?: number;
}

interface RingKey {
  readonly key: SigningKey;
  readonly stored: StoredKey;
}

export interface KeyRing extends AssertionKeys {
  /** Reads the ring (rotating it when due): called each `refreshMs`, and by tests with a moved clock. */
  refresh(): Promise<void>;
}

/** Reads (or creates) the ring; rejects when the store cannot be reached at start. */
export async function sharedKeyRing(o: KeyRingOptions): Promise<KeyRing> {
  const ring = new SharedKeyRing(o);
  await ring.refresh();
  return ring;
}

/**
 * How long before it signs a new key enters the ring: two refreshes and a margin, or the configured
 * lead plus one refresh (so that the last replica to read the ring still publishes it `leadMs` ahead).
 */
export function publishLead(refreshMs: number, leadMs = 0): number {
  return Math.max(2 * refreshMs + 1_000, leadMs + refreshMs);
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100).unref());

class SharedKeyRing implements KeyRing {
  readonly #o: KeyRingOptions;
  readonly #lead: number;
  #keys: readonly RingKey[] = [];
  #published: readonly JWK[] = Object.freeze([]);
  #publishedAt = -1;
  readonly #parsed = new Map<string, SigningKey>();

  constructor(o: KeyRingOptions) {
    this.#o = o;
    this.#lead = publishLead(o.refreshMs, o.leadMs);
  }

  signing(): SigningKey | undefined {
    const now = this.#o.clock.now();
    let best: RingKey | undefined;
    for (const k of this.#keys) if (k.stored.signFrom <= now && (best === undefined || k.stored.signFrom > best.stored.signFrom)) best = k;
    return best?.key;
  }

  published(): readonly JWK[] {
    const now = this.#o.clock.now();
    // Recomputed once a second at most: the list is asked for on every JWKS request.
    if (now - this.#publishedAt >= 1_000 || now < this.#publishedAt) {
      this.#published = Object.freeze(this.#keys.filter((k) => k.stored.retireAt === undefined || k.stored.retireAt > now).map((k) => k.key.publicJwk));
      this.#publishedAt = now;
    }
    return this.#published;
  }

  async refresh(): Promise<void> {
    const { store, clock, log } = this.#o;
    let now = clock.now();
    let stored = await this.#read(now);
    // The record gone from a store that still answers (flushed, evicted): this replica's ring is written back, never a new first key.
    let lost = stored.length === 0 && this.#keys.length > 0;
    if (lost || this.#due(stored, now)) {
      let lock = await store.lock(RING_LOCK, 30_000, now);
      // Another replica is writing the ring: with no key at all, wait for its first one.
      for (let i = 0; lock === undefined && stored.length === 0 && !lost && i < 100; i++) {
        await (this.#o.pause ?? pause)();
        lock = await store.lock(RING_LOCK, 30_000, clock.now());
      }
      if (lock !== undefined) {
        try {
          now = clock.now();
          stored = await this.#read(now);
          lost = stored.length === 0 && this.#keys.length > 0;
          if (lost) stored = this.#keys.map((k) => k.stored);
          const due = this.#due(stored, now);
          if (due) stored = await this.#rotate(stored, now);
          if (lost || due) await store.put(RING_RECORD, Buffer.from(JSON.stringify(stored)), now + RECORD_LIFETIME_MS);
          if (lost) log.warn('the shared assertion key ring was missing from the store; written back from this replica');
          if (due)
            log.info(
              { kid: stored.at(-1)?.jwk.kid, signFrom: new Date(stored.at(-1)?.signFrom ?? now).toISOString() },
              'assertion signing key added to the shared ring',
            );
        } finally {
          await lock.release();
        }
      }
    }
    // Lost and not written back (another replica holds the lock): keep this replica's ring until the next refresh.
    if (stored.length === 0 && this.#keys.length > 0) return;
    await this.#adopt(stored);
  }

  async #read(now: number): Promise<StoredKey[]> {
    const rec = await this.#o.store.get(RING_RECORD, now);
    if (rec === undefined) return [];
    try {
      const parsed = JSON.parse(Buffer.from(rec.value).toString('utf8')) as unknown;
      return Array.isArray(parsed) ? (parsed as StoredKey[]) : [];
    } catch {
      this.#o.log.error('the shared assertion key ring in the store is unreadable; starting a new one');
      return [];
    }
  }

  /** A rotation is due when no key signs after `now + lead`: the next one must be published a lead ahead. */
  #due(stored: readonly StoredKey[], now: number): boolean {
    const newest = stored.reduce<StoredKey | undefined>((a, k) => (a === undefined || k.signFrom > a.signFrom ? k : a), undefined);
    if (newest === undefined || newest.jwk.alg !== this.#o.alg) return true;
    return newest.signFrom + this.#o.rotateEveryMs <= now + this.#lead;
  }

  async #rotate(stored: readonly StoredKey[], now: number): Promise<StoredKey[]> {
    const first = stored.length === 0;
    const key = await generateSigningKey(this.#o.alg);
    // The first key signs at once: no replica signs with anything else it would have to overlap.
    const newest = stored.reduce((m, k) => Math.max(m, k.signFrom), -Infinity);
    const signFrom = first ? now : Math.max(now + this.#lead, newest + this.#o.rotateEveryMs);
    const retireAt = signFrom + this.#o.maxTtlMs + this.#o.refreshMs + 1_000;
    const kept = stored.filter((k) => k.retireAt === undefined || k.retireAt > now).map((k) => (k.retireAt === undefined ? { ...k, retireAt } : k));
    return [...kept, { jwk: privateJwkOf(key), publishAt: now, signFrom }];
  }

  async #adopt(stored: readonly StoredKey[]): Promise<void> {
    const keys: RingKey[] = [];
    for (const s of stored) {
      const kid = String(s.jwk.kid ?? '');
      let key = this.#parsed.get(kid);
      if (key === undefined) {
        try {
          key = await signingKeyFromJwk(s.jwk);
        } catch {
          this.#o.log.error({ kid }, 'a key in the shared assertion key ring is unreadable; skipped');
          continue;
        }
        this.#parsed.set(kid, key);
      }
      keys.push({ key, stored: s });
    }
    for (const kid of this.#parsed.keys()) if (!keys.some((k) => k.key.kid === kid)) this.#parsed.delete(kid);
    this.#keys = Object.freeze(keys);
    this.#publishedAt = -1;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
