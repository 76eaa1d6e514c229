/**
 * The core's ports: what the judge asks of the authenticators (`authn/`) and authorizers
 * (`authz/`) it is given, and the `Target` facts it hands the authorizers. The plug-ins depend on
 * these contracts; the core never imports a plug-in (the app layer, `src/app/`, wires them in).
 */
import type { Identity } from './decision.js';
import type { JudgeRequest } from './request.js';

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

export type AuthzOutcome =
  | { readonly kind: 'allow' }
  /**
   * `reason`: what refused, for logs and API clients (`Not allowed by access rule authzRules[2].`);
   * `message`: what a person is told instead (a rule's `description`), when there is one.
   */
  | { readonly kind: 'deny'; readonly reason: string; readonly message?: string }
  /** The authorizer could not decide (its backend failed): fail closed. */
  | { readonly kind: 'error'; readonly reason: string }
  /** Allowed once the user signs in more strongly (RFC 9470 step-up): a new login, or a 401 challenge. */
  | { readonly kind: 'step-up'; readonly reason: string; readonly need: StepUpNeed };

/** What a step-up asks the provider for, and what the current authentication lacked. */
export interface StepUpNeed {
  /** `acr_values`: one of these. */
  readonly acrValues?: readonly string[];
  /** `max_age` in seconds. */
  readonly maxAge?: number;
  /** What was missing (for logs): `acr`, `amr`, `max_age`. */
  readonly missing: readonly ('acr' | 'amr' | 'max_age')[];
}

export const ALLOW: AuthzOutcome = Object.freeze({ kind: 'allow' });

/** One way an upstream may read the request's host and path (see target.ts). */
export interface Reading {
  readonly hostname: string;
  readonly path: string;
}

/** Facts about the request target the authorizers and skip rules match on, computed once per check (target.ts). */
export interface Target extends Reading {
  readonly method: string;
  /** The host as the upstream's server reads it (host.ts): lower-case, no port, no trailing dot, punycode. */
  readonly hostname: string;
  /** Normalized path (see path.ts). */
  readonly path: string;
  /**
   * True when the raw path (or the host) was ambiguous (encoded slashes, `;` parameters, NUL,
   * backslashes, dot segments, `user@host`, …): skip rules never match it.
   */
  readonly ambiguous: boolean;
  /**
   * The other readings of an ambiguous request (raw path, decoded path with dot segments kept,
   * literal host), each of which access rules judge too: the strictest wins. Absent or empty
   * when the request reads one way only.
   */
  readonly readings?: readonly Reading[];
  /** True when `path` is known to hold no upper-case or non-ASCII character (access rules then skip lower-casing it). */
  readonly lowerCase?: boolean;
  /** True when no server could read the host (malformed, several values, control characters): the request is refused with 400. */
  readonly badHost?: boolean;
}

export interface Authorizer {
  readonly name: string;
  authorize(identity: Identity, target: Target, req: JudgeRequest): Promise<AuthzOutcome> | AuthzOutcome;
}

// What a plug-in (authn/, authz/) may use of the core besides the contracts above: it imports these
// from here, never from the files that define them (test/boundaries.test.ts holds that). The one
// other door is the request-matching kit access rules share with skip rules (match.ts, regex.ts,
// method-override.ts). Claims are read with the one claim reader (claims.ts), for every plug-in alike.
export type { Identity, Strength } from './decision.js';
export { bearerFrom, header, type JudgeRequest } from './request.js';
export { claimReader, groupsFrom, readClaim, readGroups, userIdFrom, type GroupsRead } from './claims.js';
