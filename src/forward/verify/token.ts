/**
 * The verify-then-proxy forwarder's verdict on one request's token, as a list of steps: extract →
 * (static token: constant-time compare) or (parse → algorithm allowed → key lookup → signature) →
 * standard claims → required claims → `jti` replay record. Missing or invalid credentials are 401,
 * unmet required claims and replays 403, keys or the replay store unavailable 503. Reasons are
 * short and never contain the token; they go to debug logs only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { compactVerify, errors } from 'jose';
import { peekJwt } from '../../authn/jwt-peek.js';
import type { Clock } from '../../clock.js';
import { replayKey, type ReplayStore } from './replay.js';
import { extractToken } from './bearer.js';
import type { KeySource } from './keys.js';
import { unmetClaim, type ClaimRequirement } from './required-claims.js';

export type Claims = Readonly<Record<string, unknown>>;

export type Verdict =
  | { readonly ok: true; readonly claims: Claims | undefined }
  | { readonly ok: false; readonly status: 401; readonly presented: boolean; readonly reason: string }
  /** Authentic, but refused: `claims` are the token's (for the decision log's user). */
  | { readonly ok: false; readonly status: 403; readonly reason: string; readonly claims: Claims }
  | { readonly ok: false; readonly status: 503; readonly reason: string };

export interface StaticToken {
  readonly digest: Buffer;
  /** The token's payload when it is a JWT (its `exp`/`nbf`/claims are checked on each request). */
  readonly claims: Claims | undefined;
}

export interface VerifierParts {
  readonly clock: Clock;
  readonly basicAuthFallback: boolean;
  /** Exactly one of `keys` and `staticToken`. */
  readonly keys?: KeySource;
  readonly staticToken?: StaticToken;
  readonly standard: (payload: Claims, nowMs: number) => string | undefined;
  readonly required: readonly ClaimRequirement[];
  readonly replay?: ReplayStore;
  readonly skewSeconds: number;
}

const invalid = (reason: string): Verdict => ({ ok: false, status: 401, presented: true, reason });
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export function staticTokenOf(token: string): StaticToken {
  return { digest: sha256(token), claims: peekJwt(token)?.payload };
}

export type Verify = (authorization: readonly string[] | undefined) => Promise<Verdict>;

export function createVerify(p: VerifierParts): Verify {
  async function signed(token: string): Promise<{ readonly verdict: Verdict } | { readonly claims: Claims }> {
    const keys = p.keys!;
    const jwt = peekJwt(token);
    if (jwt === undefined) return { verdict: invalid('not a JWT') };
    const { header } = jwt;
    if (header.crit !== undefined) return { verdict: invalid('unsupported "crit" header') };
    if (typeof header.alg !== 'string' || !keys.algorithms.has(header.alg)) return { verdict: invalid('algorithm not allowed') };
    const found = await keys.lookup({ ...header, alg: header.alg }, jwt.payload);
    if (found.kind === 'unavailable') return { verdict: { ok: false, status: 503, reason: found.reason } };
    if (found.kind === 'none') return { verdict: invalid(found.reason) };
    const algorithms = [header.alg];
    for (const key of found.keys) {
      try {
        const { payload } = await compactVerify(token, key, { algorithms });
        return { claims: JSON.parse(new TextDecoder().decode(payload)) as Claims };
      } catch (e) {
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) return { verdict: invalid('signature verification failed') };
      }
    }
    return { verdict: invalid('signature verification failed') };
  }

  function matchesStatic(token: string): boolean {
    return timingSafeEqual(sha256(token), p.staticToken!.digest);
  }

  async function recorded(claims: Claims): Promise<Verdict | undefined> {
    if (p.replay === undefined) return undefined;
    const { jti, iss, exp } = claims;
    if (typeof jti !== 'string' || jti === '') return invalid('missing or invalid "jti"');
    const untilMs = (typeof exp === 'number' ? exp + p.skewSeconds : p.clock.now() / 1000 + 3600) * 1000;
    const outcome = await p.replay.remember(replayKey(typeof iss === 'string' ? iss : '', jti), untilMs);
    if (outcome === 'replayed') return { ok: false, status: 403, reason: 'token replayed ("jti" already seen)', claims };
    if (outcome === 'unavailable') return { ok: false, status: 503, reason: 'replay store unavailable' };
    return undefined;
  }

  return async (authorization) => {
    const got = extractToken(authorization, p.basicAuthFallback);
    if (got.kind === 'absent') return { ok: false, status: 401, presented: false, reason: 'no bearer token' };
    if (got.kind === 'malformed') return invalid('malformed credential');
    let claims: Claims | undefined;
    if (p.staticToken !== undefined) {
      if (!matchesStatic(got.token)) return invalid('static token did not match');
      claims = p.staticToken.claims;
    } else {
      const r = await signed(got.token);
      if ('verdict' in r) return r.verdict;
      claims = r.claims;
    }
    if (claims !== undefined) {
      const bad = p.standard(claims, p.clock.now());
      if (bad !== undefined) return invalid(bad);
      const unmet = unmetClaim(claims, p.required);
      if (unmet !== undefined) return { ok: false, status: 403, reason: `required claim not met: ${unmet}`, claims };
      const replay = await recorded(claims);
      if (replay !== undefined) return replay;
    }
    return { ok: true, claims };
  };
}
