/**
 * Verified bearer JWTs, keyed by the SHA-256 of the token, so each new token costs one signature
 * verification. An entry lives until the token's `exp` and never beyond (measured with the injected
 * clock); the map is bounded and drops its oldest entries first. The raw token is not stored.
 */
import { hash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Identity } from '../judge/ports.js';

interface Entry {
  readonly identity: Identity;
  readonly expiresAtMs: number;
}

export class VerifiedTokenCache {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, maxEntries = 10_000) {
    this.#clock = clock;
    this.#max = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** SHA-256 of the token, base64url (one-shot `crypto.hash`: no Hash object per check). */
  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  /** The identity verified for this token, while the token has not expired. */
  get(key: string): Identity | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.#clock.now() >= e.expiresAtMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.identity;
  }

  /** Remembers an identity until `expSeconds` (the token's `exp`); already-expired tokens are not kept. */
  set(key: string, identity: Identity, expSeconds: number): void {
    const expiresAtMs = expSeconds * 1000;
    if (!Number.isFinite(expiresAtMs) || expiresAtMs <= this.#clock.now()) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#evict();
    this.#entries.set(key, { identity, expiresAtMs });
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Drops expired entries among the oldest few, and the oldest one if that freed nothing. */
  #evict(): void {
    const now = this.#clock.now();
    let scanned = 0;
    for (const [k, e] of this.#entries) {
      if (e.expiresAtMs <= now) this.#entries.delete(k);
      if (++scanned >= 64) break;
    }
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
