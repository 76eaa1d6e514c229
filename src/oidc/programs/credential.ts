/**
 * A program credential: a session of its own, made from the browser session that approved it (the
 * user's identity, groups, claims, `sid` — so back-channel logout of that provider session or of the
 * user ends it too — and how strongly they signed in), without the provider's tokens (the browser
 * session keeps those; two holders of one refresh token would break each other's rotation), ending
 * `PROGRAM_SESSION_MAX_AGE` after it was issued. The program presents its id as a bearer token.
 */
import type { Session } from '../../sessions/session.js';

/** The longest client name kept (it is shown on approval pages and in logs, escaped). */
const MAX_CLIENT_NAME = 64;

/** A program's self-given name, printable and bounded; `unnamed program` when it gave none. */
export function clientName(raw: string | null | undefined): string {
  const clean = (raw ?? '')
    .replace(/[^\x20-\x7e]/g, '')
    .trim()
    .slice(0, MAX_CLIENT_NAME);
  return clean === '' ? 'unnamed program' : clean;
}

export function programSession(from: Session, client: string, via: 'loopback' | 'device', now: number, maxAgeSeconds: number): Session {
  return {
    v: 1,
    user: from.user,
    groups: from.groups,
    claims: from.claims,
    iss: from.iss,
    sub: from.sub,
    ...(from.sid !== undefined ? { sid: from.sid } : {}),
    ...(from.acr !== undefined ? { acr: from.acr } : {}),
    ...(from.amr !== undefined ? { amr: from.amr } : {}),
    ...(from.authTime !== undefined ? { authTime: from.authTime } : {}),
    program: { client, via },
    createdAt: now,
    expiresAt: now + maxAgeSeconds * 1000,
  };
}

/** The token endpoint's success body (RFC 6749 §5.1) for a credential `id` of `session`. */
export function tokenBody(id: string, session: Session, now: number): string {
  return JSON.stringify({
    access_token: id,
    token_type: 'Bearer',
    expires_in: Math.max(0, Math.floor((session.expiresAt - now) / 1000)),
    user: session.user,
  });
}
