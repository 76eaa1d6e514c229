/**
 * When a session's tokens go to the upstream (`FORWARD_ID_TOKEN_HEADER`, `FORWARD_ACCESS_TOKEN_HEADER`),
 * the upstream must never get an expired one: a forwarded token that expires within
 * `FORWARD_TOKEN_MIN_TTL` makes the session due for a refresh (refresh.ts, once per session), and a
 * forwarded token that has expired and could not be renewed makes the session unusable for the
 * check (session.ts fails closed). The ID token's expiry is read from its `exp` once per session
 * object (it came from the token endpoint over TLS, so it is read, not verified).
 */
import type { Session } from '../sessions/session.js';

export interface ForwardFreshness {
  readonly idToken: boolean;
  readonly accessToken: boolean;
  readonly minTtlSeconds: number;
}

const expiries = new WeakMap<Session, number | null>();

/** The session's ID token `exp` in epoch ms; `undefined` without an ID token or a readable `exp`. */
export function idTokenExpiresAt(session: Session): number | undefined {
  if (session.idToken === undefined) return undefined;
  let at = expiries.get(session);
  if (at === undefined) {
    at = null;
    try {
      const payload: unknown = JSON.parse(Buffer.from(session.idToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
      const exp = (payload as { exp?: unknown } | null)?.exp;
      if (typeof exp === 'number' && Number.isFinite(exp)) at = exp * 1000;
    } catch {
      at = null;
    }
    expiries.set(session, at);
  }
  return at ?? undefined;
}

/**
 * Whether a forwarded token expires within the minimum time to live. An ID token the provider
 * did not renew at the last refresh (`idTokenKept`) does not ask again: refreshing would not help.
 */
export function forwardRefreshWanted(f: ForwardFreshness | undefined, session: Session, now: number): boolean {
  if (f === undefined) return false;
  const within = (at: number | undefined): boolean => at !== undefined && at - now <= f.minTtlSeconds * 1000;
  if (f.accessToken && session.accessToken !== undefined && within(session.accessExpiresAt)) return true;
  return f.idToken && session.idTokenKept !== true && within(idTokenExpiresAt(session));
}

/** Which forwarded token has expired (so it must not go upstream), if any. */
export function forwardExpired(f: ForwardFreshness | undefined, session: Session, now: number): 'id_token' | 'access_token' | undefined {
  if (f === undefined) return undefined;
  if (f.idToken && (idTokenExpiresAt(session) ?? Infinity) <= now) return 'id_token';
  if (f.accessToken && session.accessToken !== undefined && (session.accessExpiresAt ?? Infinity) <= now) return 'access_token';
  return undefined;
}
