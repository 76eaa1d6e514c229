/**
 * Sessions made without a browser, for fault and load tests: a `Session` record as the callback
 * would store it, written through the real `Sessions` class (sealed, keyed by a hash of the id) into
 * whatever store the service uses — so a check carrying the returned id as its cookie is judged
 * exactly like one after a real login.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Session } from '../../src/sessions/session.js';
import type { Sessions } from '../../src/sessions/sessions.js';
import { StoreUnavailableError } from '../../src/sessions/store.js';

export interface SeedOptions {
  readonly groups?: readonly string[];
  readonly nowMs?: number;
  /** Lifetime in seconds (default one hour). */
  readonly maxAgeSeconds?: number;
  readonly accessToken?: string;
  readonly issuer?: string;
}

/** A session record for `user`, valid from `nowMs` for `maxAgeSeconds`, without a refresh token (never due). */
export function sessionRecord(user: string, o: SeedOptions = {}): Session {
  const now = o.nowMs ?? Date.now();
  return {
    v: 1,
    user,
    groups: [...(o.groups ?? ['devs'])],
    claims: { email: user, sub: `sub-${user}` },
    iss: o.issuer ?? 'http://127.0.0.1/issuer',
    sub: `sub-${user}`,
    accessToken: o.accessToken ?? `opaque-access-token-of-${user}`,
    tokenType: 'Bearer',
    createdAt: now,
    expiresAt: now + (o.maxAgeSeconds ?? 3600) * 1000,
  };
}

/**
 * Creates `n` sessions `user-<i>@example.com`; resolves with their ids (the cookie values), in order.
 * The first write waits (up to 30 s) for a store still connecting: the Redis client's first
 * connection can time out on a busy machine and succeed at its next attempt.
 */
export async function seedSessions(sessions: Sessions, n: number, o: SeedOptions = {}): Promise<string[]> {
  const ids: string[] = [];
  const until = Date.now() + 30_000;
  for (let i = 0; i < n; i++) {
    for (;;) {
      try {
        ids.push(await sessions.create(sessionRecord(`user-${i}@example.com`, o)));
        break;
      } catch (e) {
        if (i > 0 || !(e instanceof StoreUnavailableError) || Date.now() > until) throw e;
        await delay(100);
      }
    }
  }
  return ids;
}
