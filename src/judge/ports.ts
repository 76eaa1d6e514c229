import type { Identity } from '././decision.js';
import type { JudgeRequest } from '././request.js';

/**
 * What an authenticator says about a request:
 * - `none`: not mine (no credential of my kind, or one meant for someone else) → try the next one;
 * - `ok`: authenticated;
 * - `invalid`: mine but invalid (expired, bad signature, missing claim) → stop with 401 (with
 *   `fallThrough`: 401 unless a later authenticator vouches);
 * - `unavailable`: I cannot tell right now (provider or store down) → if nobody else authenticates, 503.
 */
export type AuthnOutcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly identity: Identity }
  | {
      readonly kind: 'invalid';
      readonly reason: string;
      readonly error?: string;
      /**
       * Let the later authenticators try first; if none of them vouches, this 401 stands. For
       * authenticators that cannot tell their credential from another's (a provider rejecting an
       * opaque bearer that may be a session id in the same header).
       */
      readonly fallThrough?: boolean;
    }
  | { readonly kind: 'unavailable'; readonly reason: string };

export const NOT_MINE: AuthnOutcome = Object.freeze({ kind: 'none' });

export interface Authenticator {
  /** Stable name used in the chain order, logs and metrics: `kubernetes`, `access_token`, `session`, `id_token` … */
  readonly name: string;
  authenticate(req: JudgeRequest): Promise<AuthnOutcome> | AuthnOutcome;
}

/** Reads a bearer credential from a header value: an optional `Bearer ` prefix (any case) is stripped. */
export function bearerFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (v.length > 7 && v.slice(0, 7).toLowerCase() === 'bearer ') v = v.slice(7).trim();
  return v === '' ? undefined : v;
}
