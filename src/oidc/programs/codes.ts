/**
 * One-time codes of the loopback program login, kept server side in the session store (so every
 * replica can redeem them): the program credential waiting to be made, bound to the PKCE challenge
 * and the redirect URI it was issued for. Keyed by a hash of the code and sealed under a key derived
 * from it (`sessions/ticket.ts`), like sessions. Single use: redeeming claims the code in the store
 * first (atomic across replicas), then deletes it; a replay finds the claim and gets nothing.
 */
import type { Clock } from '../../clock.js';
import { parseSession, type Session } from '../../sessions/session.js';
import type { SessionStore } from '../../sessions/store.js';
import { claimKey, isWellFormedId, newSecretId, seal, storeKey, unseal } from '../../sessions/ticket.js';

/** How long a code may wait for its exchange (RFC 6749 §4.1.2: short, 10 minutes at most). */
export const CODE_TTL_MS = 60_000;

export interface PendingCode {
  readonly session: Session;
  readonly challenge: string;
  readonly redirectUri: string;
}

export async function issueCode(store: SessionStore, clock: Clock, pending: PendingCode): Promise<string> {
  const code = newSecretId();
  const key = storeKey('program-code', code);
  const json = JSON.stringify({ session: pending.session, challenge: pending.challenge, redirectUri: pending.redirectUri });
  await store.put(key, seal('program-code', code, json, key), clock.now() + CODE_TTL_MS);
  return code;
}

/**
 * The pending credential of `code`, once: `undefined` for an unknown, expired, tampered or already
 * redeemed code. Store failures throw (the caller answers 503).
 */
export async function redeemCode(store: SessionStore, clock: Clock, code: string | null): Promise<PendingCode | undefined> {
  if (code === null || !isWellFormedId(code)) return undefined;
  const now = clock.now();
  const key = storeKey('program-code', code);
  const rec = await store.get(key, now);
  if (rec === undefined) return undefined;
  if (!(await store.claimOnce(claimKey('program-code', '', code), rec.expiresAt, now))) return undefined;
  await store.delete(key);
  const json = unseal('program-code', code, rec.value, key);
  if (json === undefined) return undefined;
  try {
    const v = JSON.parse(json) as { session?: unknown; challenge?: unknown; redirectUri?: unknown };
    const session = parseSession(JSON.stringify(v.session));
    if (session === undefined || typeof v.challenge !== 'string' || typeof v.redirectUri !== 'string') return undefined;
    return { session, challenge: v.challenge, redirectUri: v.redirectUri };
  } catch {
    return undefined;
  }
}
