import type { Identity } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';

export type AuthzOutcome =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly reason: string }
  /** The authorizer could not decide (its backend failed): fail closed. */
  | { readonly kind: 'error'; readonly reason: string };

export const ALLOW: AuthzOutcome = Object.freeze({ kind: 'allow' });

/** Facts about the request target the authorizers and skip rules match on, computed once per check. */
export interface Target {
  readonly method: string;
  /** Lower-case host without port. */
  readonly hostname: string;
  /** Normalized path (see judge/path.ts). */
  readonly path: string;
  /** True when the raw path was ambiguous (encoded slashes, `;` parameters, NUL, backslashes, …): skip rules never match it. */
  readonly ambiguous: boolean;
}

export interface Authorizer {
  readonly name: string;
  authorize(identity: Identity, target: Target, req: JudgeRequest): Promise<AuthzOutcome> | AuthzOutcome;
}
