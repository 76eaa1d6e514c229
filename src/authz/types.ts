import type { Identity } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';

export type AuthzOutcome =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly reason: string }
  /** The authorizer could not decide (its backend failed): fail closed. */
  | { readonly kind: 'error'; readonly reason: string };

export const ALLOW: AuthzOutcome = Object.freeze({ kind: 'allow' });

/** One way an upstream may read the request's host and path (see judge/target.ts). */
export interface Reading {
  readonly hostname: string;
  readonly path: string;
}

/** Facts about the request target the authorizers and skip rules match on, computed once per check (judge/target.ts). */
export interface Target extends Reading {
  readonly method: string;
  /** The host as the upstream's server reads it (judge/host.ts): lower-case, no port, no trailing dot, punycode. */
  readonly hostname: string;
  /** Normalized path (see judge/path.ts). */
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
