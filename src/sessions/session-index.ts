/**
 * The index a stored session carries, on its own so that both the store port (`store.ts`) and the
 * revocation feed (`feed.ts`), which names index fields, can use it without importing each other.
 */

/** What a session is indexed by, for back-channel logout and admin revocation (hashes, not raw values). */
export interface SessionIndex {
  /** Hash of `iss` + `sub`. */
  readonly subject?: string;
  /** Hash of `iss` + `sid`. */
  readonly sid?: string;
}
