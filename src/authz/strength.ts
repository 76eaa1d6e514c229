/**
 * Step-up per route (RFC 9470): whether the user signed in strongly enough for an access rule's
 * `require` (`acr` one of, every `amr` member, `auth_time` within `maxAge`), and if not, what a new
 * sign-in must ask for. A session is judged by what its ID token said at login (`Identity.strength`),
 * a bearer token by its own claims. What was not recorded is never strong enough.
 */
import type { Clock } from '../clock.js';
import type { RequireSpec } from '../config/rules.js';
import type { Identity, StepUpNeed, Strength } from '../judge/ports.js';

/**
 * `undefined` when the identity is strong enough, else what a stronger sign-in must ask for — or
 * `REFUSED` when the session's own login already asked the provider for it and did not get it
 * (asking again would send the browser round in a loop).
 */
export type StrengthTest = (id: Identity) => StepUpNeed | typeof REFUSED | undefined;
export const REFUSED = 'refused';

/** A bearer token's `acr`, `amr`, `auth_time` (each only when well-formed). */
export function strengthFromClaims(claims: Readonly<Record<string, unknown>>): Strength {
  const acr = Object.hasOwn(claims, 'acr') ? claims['acr'] : undefined;
  const amr = Object.hasOwn(claims, 'amr') ? claims['amr'] : undefined;
  const authTime = Object.hasOwn(claims, 'auth_time') ? claims['auth_time'] : undefined;
  return {
    ...(typeof acr === 'string' ? { acr } : {}),
    ...(Array.isArray(amr) && amr.every((m) => typeof m === 'string') ? { amr: amr as string[] } : {}),
    ...(typeof authTime === 'number' && Number.isFinite(authTime) ? { authTime } : {}),
  };
}

export function compileRequire(spec: RequireSpec, clock: Clock): StrengthTest {
  const acr = spec.acr === undefined ? undefined : new Set(spec.acr);
  const amr = spec.amr;
  const maxAge = spec.maxAge;
  // A new sign-in asks for all the rule requires, so that meeting one part does not lose another.
  const ask = {
    ...(spec.acr !== undefined ? { acrValues: spec.acr } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
  };
  return (id) => {
    const s = id.strength ?? strengthFromClaims(id.claims);
    const missing: ('acr' | 'amr' | 'max_age')[] = [];
    if (acr !== undefined && (s.acr === undefined || !acr.has(s.acr))) missing.push('acr');
    if (amr !== undefined && !amr.every((m) => s.amr?.includes(m) === true)) missing.push('amr');
    if (maxAge !== undefined && (s.authTime === undefined || clock.now() > (s.authTime + maxAge) * 1000)) missing.push('max_age');
    if (missing.length === 0) return undefined;
    return s.asked !== undefined && refused(missing, s, spec) ? REFUSED : { ...ask, missing };
  };
}

/**
 * Whether every missing part was asked for by the login that made this session and not given:
 * `acr_values` holding the rule's values, or a `max_age` no longer than the rule's while the
 * `auth_time` the provider then sent was already too old when the session began. `amr` is never
 * refused: its step-up (`prompt=login`) asks the user anew each time.
 */
function refused(missing: readonly string[], s: Strength, spec: RequireSpec): boolean {
  const asked = s.asked!;
  return missing.every((m) => {
    if (m === 'acr') return asked.acrValues !== undefined && spec.acr!.every((v) => asked.acrValues!.includes(v));
    if (m === 'max_age')
      return (
        asked.maxAge !== undefined && asked.maxAge <= spec.maxAge! && s.loginAt !== undefined && ((s.authTime ?? -Infinity) + spec.maxAge!) * 1000 < s.loginAt
      );
    return false;
  });
}

/** The user-safe reason of a step-up: what kind of sign-in the rule wants, never the claims found. */
export function stepUpReason(rule: number, need: StepUpNeed): string {
  const what = need.missing.map((m) => (m === 'max_age' ? 'a more recent sign-in' : m === 'acr' ? 'a stronger sign-in' : 'another sign-in method'));
  return `Access rule authzRules[${rule}] requires ${[...new Set(what)].join(' and ')}.`;
}
