/**
 * The standard claim checks of the verify-then-proxy forwarder, on a payload whose signature was
 * already verified: `iss` (one of the configured issuers, when any), `sub`, `aud` (a string or a
 * list; exact compare, or jwtproxy's origin compare), `exp`/`nbf`/`iat` with one skew applied to
 * all three, and an optional largest lifetime (`exp − iat`). Each check answers a short reason, never
 * token content.
 */

export type StandardClaim = 'iss' | 'sub' | 'aud' | 'exp' | 'iat';

export interface StandardPolicy {
  /** Accepted `iss` values (exact); empty: any non-empty string. */
  readonly issuers: readonly string[];
  /** Accepted audiences; empty: `aud` is not compared. */
  readonly audiences: readonly string[];
  /** `exact` string compare, or `origin`: `scheme://host[:port]` compared case-insensitively, default ports normalised, path ignored. */
  readonly audienceMatch: 'exact' | 'origin';
  /** Claims that must be present (OIDC: iss, sub, aud, exp, iat). */
  readonly required: ReadonlySet<StandardClaim>;
  readonly skewSeconds: number;
  /** Largest `exp − iat` accepted, in seconds. */
  readonly maxTtlSeconds?: number;
}

export const OIDC_REQUIRED: ReadonlySet<StandardClaim> = new Set(['iss', 'sub', 'aud', 'exp', 'iat']);

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** `scheme://host:port` in lower case with the scheme's default port made explicit; undefined when not an absolute URL with a host. */
export function audienceOrigin(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return undefined;
  }
  if (u.host === '') return undefined;
  const port = u.port !== '' ? u.port : (DEFAULT_PORTS[u.protocol] ?? '');
  return `${u.protocol}//${u.hostname.toLowerCase()}${port === '' ? '' : `:${port}`}`;
}

/** The `aud` claim as a list of strings, or undefined when it is neither a string nor a list of strings. */
function audiences(aud: unknown): readonly string[] | undefined {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) return aud as string[];
  return undefined;
}

export function audienceMatcher(configured: readonly string[], mode: 'exact' | 'origin'): (aud: string) => boolean {
  if (mode === 'exact') {
    const set = new Set(configured);
    return (aud) => set.has(aud);
  }
  const origins = new Set(configured.map(audienceOrigin).filter((o): o is string => o !== undefined));
  return (aud) => {
    const o = audienceOrigin(aud);
    return o !== undefined && origins.has(o);
  };
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A compiled standard-claims check: the reason a payload fails, or undefined when it passes. */
export function standardCheck(policy: StandardPolicy): (payload: Readonly<Record<string, unknown>>, nowMs: number) => string | undefined {
  const issuers = new Set(policy.issuers);
  const audOk = audienceMatcher(policy.audiences, policy.audienceMatch);
  const { required, skewSeconds: skew } = policy;
  return (p, nowMs) => {
    const now = nowMs / 1000;
    const { iss, sub, aud, exp, nbf, iat } = p;
    if (iss !== undefined || required.has('iss') || issuers.size > 0) {
      if (typeof iss !== 'string' || iss === '') return 'missing or invalid "iss"';
      if (issuers.size > 0 && !issuers.has(iss)) return 'issuer not accepted';
    }
    if (required.has('sub') && (typeof sub !== 'string' || sub === '')) return 'missing or invalid "sub"';
    if (aud !== undefined || required.has('aud') || policy.audiences.length > 0) {
      const list = audiences(aud);
      if (list === undefined) return 'missing or invalid "aud"';
      if (policy.audiences.length > 0 && !list.some(audOk)) return 'audience not accepted';
    }
    if (exp !== undefined || required.has('exp')) {
      if (!isTime(exp)) return 'missing or invalid "exp"';
      if (now >= exp + skew) return 'token expired';
    }
    if (nbf !== undefined) {
      if (!isTime(nbf)) return 'invalid "nbf"';
      if (nbf > now + skew) return 'token not yet valid';
    }
    if (iat !== undefined || required.has('iat')) {
      if (!isTime(iat)) return 'missing or invalid "iat"';
      if (iat > now + skew) return 'token issued in the future';
    }
    if (policy.maxTtlSeconds !== undefined) {
      if (!isTime(exp) || !isTime(iat)) return 'lifetime unknown ("exp" and "iat" needed)';
      if (exp - iat > policy.maxTtlSeconds) return 'token lifetime too long';
    }
    return undefined;
  };
}
