/**
 * The revocation feed: how the processes sharing one session store (replicas on Redis, workers on
 * one SQLite file) tell each other that sessions ended, so that each drops its in-process cached
 * copies at once instead of serving them until `SESSION_CACHE_TTL` runs out. The store itself is
 * the truth (the sessions are already deleted there); the feed only invalidates caches.
 *
 * Each backend carries it its own way — Redis pub/sub (`redis-feed.ts`), a log table polled by
 * every process (`sqlite-feed.ts`) — and a subscriber that may have missed messages (a
 * reconnect, a pruned log) is told to `reset`: forget everything cached.
 */
import type { SessionIndex } from './session-index.js';

/** What ended: every session with an index value (hash, as in `SessionIndex`), or one session by its store key. */
export interface Revocation {
  readonly field: keyof SessionIndex | 'key';
  readonly value: string;
}

export interface RevocationListener {
  /** Sessions ended in another process. */
  revoked(r: Revocation): void;
  /** Revocations may have been missed (reconnected, resubscribed, log pruned): drop every cached session. */
  reset(): void;
}

/** Runs `task` once after `delayMs`; returns a cancel function (tests pass their own). */
export type Schedule = (task: () => Promise<void>, delayMs: number) => () => void;

export const timerSchedule: Schedule = (task, delayMs) => {
  const t = setTimeout(() => void task(), delayMs);
  t.unref();
  return () => clearTimeout(t);
};

export interface RevocationFeedOptions {
  /** When polling backends look for news (default: timers). */
  readonly schedule?: Schedule;
  /** How often a polling backend looks (default 200 ms). */
  readonly pollMs?: number;
  /** Told when delivery fails or recovers (no values: only what happened). */
  readonly onProblem?: (what: string) => void;
}

export interface RevocationFeed {
  /** Tells every other process sharing the store. Rejects (`StoreUnavailableError`) when the store is down. */
  publish(r: Revocation): Promise<void>;
  /** Starts delivering other processes' revocations to `listener` (one listener; a second call replaces it). */
  subscribe(listener: RevocationListener): void;
  /** Resolves once deliveries flow (the subscription is confirmed). */
  subscribed(): Promise<void>;
  /** Stops delivering; publishing is refused afterwards. */
  close(): Promise<void>;
}

const FIELDS: ReadonlySet<string> = new Set(['subject', 'sid', 'key']);
const VALUE = /^[A-Za-z0-9_-]{1,128}$/;

/** `<origin> <field> <value>`: what travels between processes (hashes only, never ids or claims). */
export function encodeRevocation(origin: string, r: Revocation): string {
  if (!VALUE.test(r.value)) throw new TypeError('a revocation value must be a base64url hash');
  return `${origin} ${r.field} ${r.value}`;
}

/** The message's origin and revocation, or `undefined` when it is not one of ours. */
export function decodeRevocation(message: string): { origin: string; revocation: Revocation } | undefined {
  const [origin, field, value, extra] = message.split(' ');
  if (extra !== undefined || origin === undefined || field === undefined || value === undefined) return undefined;
  if (!FIELDS.has(field) || !VALUE.test(value) || !VALUE.test(origin)) return undefined;
  return { origin, revocation: { field: field as Revocation['field'], value } };
}
