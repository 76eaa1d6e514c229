/**
 * JWT checks shared by the bearer authenticators (the unverified peek is `jwt-peek.ts`): full
 * verification with jose (algorithm allow-list, signature, `iss`, `aud`, `exp`/`nbf`/`iat` with
 * leeway, no logout tokens, no `crit`). Claims are read with the one claim reader (judge/claims.ts).
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../clock.js';
import { KeysUnavailableError } from '../oidc/keys.js';
import type { PeekedJwt } from './jwt-peek.js';

/** The `aud` claim as a list (a string is one audience; non-strings are ignored). */
export function audiencesOf(payload: JWTPayload): readonly string[] {
  const aud = payload.aud as unknown;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

export function audienceIntersects(payload: JWTPayload, accepted: readonly string[]): boolean {
  return audiencesOf(payload).some((a) => accepted.includes(a));
}

/** A logout token (OpenID Back-Channel Logout) must never authenticate a request. */
export function isLogoutToken(jwt: PeekedJwt): boolean {
  const typ = typeof jwt.header.typ === 'string' ? jwt.header.typ.toLowerCase() : '';
  return typ === 'logout+jwt' || typ === 'application/logout+jwt' || Object.hasOwn(jwt.payload, 'events');
}

/**
 * OIDC Core 3.1.3.7 items 4 and 5 for an ID token presented to `clientId`: an ID token with several
 * audiences must name the party it was issued to in `azp`, and an `azp`, when present, must be this
 * client — else the token was issued to another client (the one holding it) and merely lists us.
 * The spec says SHOULD; we refuse. `undefined` when the token passes.
 */
export function authorizedPartyProblem(payload: JWTPayload, clientId: string): string | undefined {
  const azp = payload['azp'];
  if (azp === undefined) return Array.isArray(payload.aud) && payload.aud.length > 1 ? 'several audiences and no "azp" claim' : undefined;
  return azp === clientId ? undefined : '"azp" claim is not this client';
}

export interface VerifyPolicy {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  /** Already restricted with `safeAlgorithms`. */
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  readonly clock: Clock;
}

export type VerifyResult =
  | { readonly ok: true; readonly payload: JWTPayload }
  | { readonly ok: false; readonly unavailable: false; readonly reason: string }
  | { readonly ok: false; readonly unavailable: true; readonly reason: string };

const fail = (reason: string): VerifyResult => ({ ok: false, unavailable: false, reason });

/** Verifies a peeked token; never throws. `unavailable` when the issuer's keys cannot be had. */
export async function verifyJwt(token: string, jwt: PeekedJwt, getKey: JWTVerifyGetKey, policy: VerifyPolicy): Promise<VerifyResult> {
  if (jwt.header.crit !== undefined) return fail('unsupported "crit" header');
  if (isLogoutToken(jwt)) return fail('logout tokens are not accepted as credentials');
  if (typeof jwt.header.alg !== 'string' || !policy.algorithms.includes(jwt.header.alg)) return fail('algorithm not allowed');
  const now = policy.clock.now();
  const options = {
    issuer: policy.issuer,
    audience: typeof policy.audience === 'string' ? policy.audience : [...policy.audience],
    algorithms: [...policy.algorithms],
    clockTolerance: policy.leewaySeconds,
    currentDate: new Date(now),
    requiredClaims: ['exp'],
  };
  let payload: JWTPayload;
  try {
    payload = (await verifyWithCandidates(token, getKey, options)).payload;
  } catch (err) {
    if (err instanceof KeysUnavailableError) return { ok: false, unavailable: true, reason: 'signing keys unavailable' };
    return fail(reasonOf(err));
  }
  if (typeof payload.iat === 'number' && payload.iat > now / 1000 + policy.leewaySeconds) return fail('"iat" is in the future');
  return { ok: true, payload };
}

type Options = NonNullable<Parameters<typeof jwtVerify>[2]>;

/** jose leaves "several keys match (no `kid`)" to the caller: try each candidate in turn. */
async function verifyWithCandidates(token: string, getKey: JWTVerifyGetKey, options: Options): Promise<{ payload: JWTPayload }> {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** A short, token-free reason for logs and `WWW-Authenticate`. */
export function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `"${err.claim}" claim check failed`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no matching signing key';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed token';
  if (err instanceof errors.JOSENotSupported) return 'unsupported token or key';
  return 'token verification failed';
}
