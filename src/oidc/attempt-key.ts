/**
 * Where the login-attempt cookie key comes from. Every replica must open the cookies every other
 * one sealed, so the key cannot be per process:
 * - `LOGIN_STATE_SECRET` (or `_FILE`) set: the key is derived from it, nothing is stored;
 * - not set: a random 32-byte secret is kept in the session store under a fixed name, written once
 *   (set-if-absent: SQLite `INSERT OR IGNORE`, Redis `SET NX`) — the first process to start creates
 *   it, every other one reads the same bytes. One write at start-up, none per login.
 * The store is asked at start-up; if it cannot answer then, the next login start asks again (and
 * answers 503 meanwhile).
 */
import { randomBytes } from 'node:crypto';
import type { SessionStore } from '../sessions/store.js';
import { attemptKey, type AttemptKey } from './attempt.js';

/** The store's name for the secret. */
export const ATTEMPT_SECRET_NAME = 'login-attempt-key';

export interface AttemptKeySource {
  /** The key (resolved at once after the first success); rejects while the store cannot answer. */
  get(): Promise<AttemptKey>;
  /** The key when it is already known (no promise to wait for on the hot path), else `undefined`. */
  ready(): AttemptKey | undefined;
}

/**
 * `provider` (`providers:`): that provider's own key, derived from the same secret, so an attempt
 * started at one provider never opens at another's callback (no code of one provider exchanged at another).
 */
export function attemptKeySource(secret: string, store: Pick<SessionStore, 'sharedSecret'>, provider?: string): AttemptKeySource {
  const keyOf = (bytes: Uint8Array): AttemptKey =>
    attemptKey(provider === undefined ? bytes : Buffer.concat([bytes, Buffer.from(`\0provider ${provider}`, 'utf8')]));
  if (secret !== '') {
    const key = keyOf(Buffer.from(secret, 'utf8'));
    const resolved = Promise.resolve(key);
    return { get: () => resolved, ready: () => key };
  }
  let pending: Promise<AttemptKey> | undefined;
  let known: AttemptKey | undefined;
  const load = (): Promise<AttemptKey> => {
    const p = store.sharedSecret(ATTEMPT_SECRET_NAME, randomBytes(32)).then((bytes) => (known = keyOf(bytes)));
    // A failure is not remembered: the next caller asks the store again.
    p.catch(() => {
      if (pending === p) pending = undefined;
    });
    return p;
  };
  pending = load();
  return {
    get() {
      pending ??= load();
      return pending;
    },
    ready: () => known,
  };
}
