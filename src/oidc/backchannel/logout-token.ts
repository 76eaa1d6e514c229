/**
 * Logout token validation, OpenID Connect Back-Channel Logout 1.0 §2.6:
 * - a compact JWS (encrypted logout tokens are not supported), no `crit`; `typ` is `logout+jwt`
 *   (§2.4 says SHOULD) or, since many providers omit it or send `JWT`, absent or `JWT` — the
 *   `events` claim and the ban on `nonce` keep ID tokens and access tokens out either way;
 * - signed by the provider (`OIDC_PROVIDER`'s JWKS) with an algorithm of `JWT_ALGORITHMS`;
 * - `iss` = `OIDC_PROVIDER`, `aud` contains `CLIENT_ID`, `exp` (when present) not passed;
 * - `iat` no more than `JWT_LEEWAY` in the future and no older than `maxAgeSeconds` (+ leeway);
 * - `events` has the member `http://schemas.openid.net/event/backchannel-logout` with an object
 *   value; no `nonce`; `sub` and/or `sid` (non-empty strings); a non-empty `jti`.
 * Never throws; reasons are short and carry no token content.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { MAX_JWT_LENGTH, peekJwt, safeAlgorithms } from '../../authn/jwt-peek.js';
import { reasonOf } from '../../authn/jwt-verify.js';
import type { Clock } from '../../clock.js';
import type { IssuerKeys } from '../issuers.js';
import { KeysUnavailableError } from '../keys.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How old (by `iat`) a logout token may be: providers send them at once; 5 minutes allows for retries and slow queues. */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 300;

const ACCEPTED_TYP = new Set(['logout+jwt', 'application/logout+jwt', 'jwt']);

export interface LogoutTokenPolicy {
  readonly issuer: string;
  readonly clientId: string;
  /** `JWT_ALGORITHMS` (only the asymmetric ones are ever used). */
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  readonly maxAgeSeconds: number;
  readonly clock: Clock;
}

export interface LogoutClaims {
  readonly iss: string;
  readonly sub?: string;
  readonly sid?: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly iat: number;
}

export type LogoutTokenResult =
  | { readonly ok: true; readonly claims: LogoutClaims }
  | { readonly ok: false; readonly unavailable: boolean; readonly reason: string };

const invalid = (reason: string): LogoutTokenResult => ({ ok: false, unavailable: false, reason });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Readonly<Record<string, unknown>>, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

function headerProblem(token: string, algorithms: readonly string[]): string | undefined {
  if (token.length > MAX_JWT_LENGTH) return 'token too long';
  const jwt = peekJwt(token);
  // An unsigned token (empty signature) is malformed here: a logout token is never judged "mine but invalid".
  if (jwt === undefined || token.endsWith('.')) return token.split('.').length === 5 ? 'encrypted logout tokens are not supported' : 'malformed token';
  const header = jwt.header as Record<string, unknown>;
  if (header['crit'] !== undefined) return 'unsupported "crit" header';
  const typ = header['typ'];
  if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ.toLowerCase()))) return 'wrong "typ" header (want logout+jwt)';
  if (typeof header['alg'] !== 'string' || !algorithms.includes(header['alg'])) return 'algorithm not allowed';
  return undefined;
}

/** Checks the claims jose does not know about (§2.4, §2.6 steps 5–8). */
function claimsProblem(p: JWTPayload, now: number, policy: LogoutTokenPolicy): string | undefined {
  const claims = p as Record<string, unknown>;
  const iat = own(claims, 'iat');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return 'missing "iat"';
  if (iat > now + policy.leewaySeconds) return '"iat" is in the future';
  if (iat < now - policy.maxAgeSeconds - policy.leewaySeconds) return 'token too old ("iat")';
  const events = own(claims, 'events');
  if (!isObject(events) || !isObject(own(events, BACKCHANNEL_LOGOUT_EVENT))) return 'missing the back-channel logout event';
  if (own(claims, 'nonce') !== undefined) return '"nonce" is not allowed in a logout token';
  const sub = own(claims, 'sub');
  const sid = own(claims, 'sid');
  if (sub === undefined && sid === undefined) return 'neither "sub" nor "sid"';
  if ((sub !== undefined && !nonEmpty(sub)) || (sid !== undefined && !nonEmpty(sid))) return '"sub" and "sid" must be non-empty strings';
  const jti = own(claims, 'jti');
  if (!nonEmpty(jti) || jti.length > 1024) return 'missing "jti"';
  return undefined;
}

type VerifyOptions = NonNullable<Parameters<typeof jwtVerify>[2]>;

/** jose leaves "several keys match (no `kid`)" to the caller: try each candidate in turn. */
async function verify(token: string, getKey: JWTVerifyGetKey, options: VerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, getKey, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** Validates a logout token from the provider. `unavailable` when the provider's keys cannot be had (answer 503). */
export async function verifyLogoutToken(token: string, keys: IssuerKeys, policy: LogoutTokenPolicy): Promise<LogoutTokenResult> {
  const algorithms = safeAlgorithms(policy.algorithms);
  const problem = headerProblem(token, algorithms);
  if (problem !== undefined) return invalid(problem);
  const status = keys.status(policy.issuer);
  if (status.state !== 'ready') return { ok: false, unavailable: true, reason: 'the provider has not been discovered yet' };
  const nowMs = policy.clock.now();
  let payload: JWTPayload;
  try {
    payload = await verify(token, status.jwks.getKey, {
      issuer: policy.issuer,
      audience: policy.clientId,
      algorithms,
      clockTolerance: policy.leewaySeconds,
      currentDate: new Date(nowMs),
    });
  } catch (err) {
    if (err instanceof KeysUnavailableError) return { ok: false, unavailable: true, reason: 'signing keys unavailable' };
    return invalid(reasonOf(err));
  }
  const claimsError = claimsProblem(payload, nowMs / 1000, policy);
  if (claimsError !== undefined) return invalid(claimsError);
  const { sub, sid } = payload as { sub?: string; sid?: string };
  return {
    ok: true,
    claims: { iss: policy.issuer, ...(sub !== undefined ? { sub } : {}), ...(sid !== undefined ? { sid } : {}), jti: payload.jti!, iat: payload.iat! },
  };
}
