/**
 * What a bearer JWT must satisfy, per issuer: the token is matched to its policy by its `iss`
 * (one map lookup on the hot path), then its audiences, claim mapping and required claims apply.
 * Built from the main provider and `jwtIssuers` (short-form URLs take the global settings).
 */
import type { ClaimScalar, JwtIssuerSetting } from '../config/jwt-issuers.js';

export interface IssuerPolicy {
  readonly audiences: readonly string[];
  readonly userIdClaim: string;
  readonly groupsClaim: string;
  /** Missing groups claim → invalid, else → no groups. */
  readonly groupsRequired: boolean;
  /** Claim name → accepted values (empty: nothing required). */
  readonly requiredClaims: Readonly<Record<string, readonly ClaimScalar[]>>;
}

export interface PolicyDefaults {
  readonly audiences: readonly string[];
  readonly userIdClaim: string;
  readonly groupsClaim: string;
  readonly groupsRequired: boolean;
}

/** `iss` → policy for every configured issuer (an `iss` listed twice keeps its first policy). */
export function issuerPolicies(primary: string, settings: readonly JwtIssuerSetting[], d: PolicyDefaults): ReadonlyMap<string, IssuerPolicy> {
  const global: IssuerPolicy = Object.freeze({ ...d, requiredClaims: Object.freeze({}) });
  const out = new Map<string, IssuerPolicy>();
  for (const s of [primary, ...settings]) {
    if (typeof s === 'string') {
      if (!out.has(s)) out.set(s, global);
      continue;
    }
    const p: IssuerPolicy = Object.freeze({
      audiences: s.audiences ?? d.audiences,
      userIdClaim: s.userIdClaim ?? d.userIdClaim,
      groupsClaim: s.groupsClaim ?? d.groupsClaim,
      groupsRequired: s.groupsRequired,
      requiredClaims: s.requiredClaims,
    });
    for (const iss of s.issuers) if (!out.has(iss)) out.set(iss, p);
  }
  return out;
}

/** The first required claim the token fails, as a token-free reason; `undefined` when all hold. */
export function requiredClaimProblem(claims: Readonly<Record<string, unknown>>, required: IssuerPolicy['requiredClaims']): string | undefined {
  for (const [name, accepted] of Object.entries(required)) {
    const v = Object.hasOwn(claims, name) ? claims[name] : undefined;
    const values = Array.isArray(v) ? v : [v];
    if (!values.some((x) => accepted.includes(x as ClaimScalar))) return `required claim "${name}" missing or not an accepted value`;
  }
  return undefined;
}
