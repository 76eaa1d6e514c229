/**
 * The one unverified JWT peek and the one JWS algorithm allow-list, for every caller that must look
 * inside a token before (or instead of) verifying it: the judge's bearer authenticators, the
 * back-channel logout check, the verify and kube forwarder modes and the egress token sources.
 * A peek is never a verdict; it only answers "is this plausibly a JWT, and what does it claim?".
 */
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

/** Longer bearer values are not considered JWTs at all. */
export const MAX_JWT_LENGTH = 16 * 1024;

/** Three base64url parts; the signature may be empty here (an unsigned token is "a JWT, but invalid"). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Asymmetric JWS algorithms we verify; `none` is never among them. */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
/** HMAC algorithms: only ever with a configured shared secret, never with a public key. */
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const;

const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGS);

export interface PeekedJwt {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
}

/** Decodes a compact JWS without verifying it; `undefined` for anything that is not a plausible JWT. */
export function peekJwt(token: string): PeekedJwt | undefined {
  if (token.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(token)) return undefined;
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

/** Keeps the asymmetric algorithms of a configured list (`none` and HMAC never pass, whatever the configuration says). */
export function safeAlgorithms(configured: readonly string[]): string[] {
  return configured.filter((a) => ASYMMETRIC.has(a));
}
