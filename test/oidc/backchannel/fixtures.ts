/**
 * Logout tokens for back-channel logout tests, signed with a real provider's own keys
 * (test/helpers/op.ts), and sessions to end.
 */
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../../src/oidc/backchannel/logout-token.js';
import type { Session } from '../../../src/sessions/session.js';
import type { SignOptions, TestOp } from '../../helpers/op.js';

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' } as const;

/** The claims of a good logout token for `clientId`, issued at `nowMs`. */
export function logoutClaims(op: TestOp, clientId: string, nowMs: number, extra: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(nowMs / 1000);
  return { iss: op.issuer, aud: clientId, iat, exp: iat + 120, jti: randomBytes(16).toString('hex'), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...extra };
}

/** Signs `claims` as the provider does (`typ: logout+jwt` unless `opts.header` says otherwise). */
export function signLogout(op: TestOp, claims: JWTPayload, opts: SignOptions = {}): Promise<string> {
  return op.sign(claims, { ...opts, header: { typ: 'logout+jwt', ...opts.header } });
}

/** A form body carrying `token`. */
export const form = (token: string): string => new URLSearchParams({ logout_token: token }).toString();

/** A session of `sub` (and provider session `sid`) at `iss`, valid for an hour from `nowMs`. */
export function sessionOf(iss: string, sub: string, sid: string | undefined, nowMs: number): Session {
  return {
    v: 1,
    user: `${sub}@example.com`,
    groups: [],
    claims: {},
    iss,
    sub,
    ...(sid !== undefined ? { sid } : {}),
    createdAt: nowMs,
    expiresAt: nowMs + 3_600_000,
  };
}
