/**
 * The verify mode as a configuration of the one judge (`judge/decide.ts`): its authenticator
 * (`verify-token`, the token check of token.ts), one authorizer carrying the check's 403s
 * (required claims unmet, replayed `jti`), its identity headers (`X-Auth-Subject`/`X-Auth-Issuer`)
 * and its answers (plain-text 401 with `WWW-Authenticate: Bearer`, 403, 503), wrapped with the same
 * `observe()` as the judge — so every forwarded request gets the decision log line and the check
 * metrics. No host check, no skip rules, no login: the mode never had them.
 */
import { ALLOW, NOT_MINE, type Authenticator, type AuthnOutcome, type Authorizer, type Target } from '../../judge/ports.js';
import { createJudge, type Judge } from '../../judge/decide.js';
import { deny, type Deny, type HeaderPair, type Identity } from '../../judge/decision.js';
import type { IdentityHeaders } from '../../judge/upstream/identity-headers.js';
import type { JudgeRequest } from '../../judge/request.js';
import type { Responses } from '../../judge/responses.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import { observe } from '../../judge/wrap/observe.js';
import type { Claims, Verify } from './token.js';

/** Identity headers the verifier may set; always removed from what clients send. */
export const SUBJECT_HEADER = 'x-auth-subject';
export const ISSUER_HEADER = 'x-auth-issuer';

/**
 * The shared judge request (judge/node-request.ts) with every `Authorization` value the client sent
 * beside it: its joined `headers` cannot tell two values from one holding a comma, and two are a
 * malformed credential.
 */
export interface VerifyRequest extends JudgeRequest {
  readonly authorization: readonly string[] | undefined;
}

/** An authentic token the check still refused (403): the authorizer below says no. */
interface CheckedIdentity extends Identity {
  readonly refused?: string;
}

const TEXT: HeaderPair = ['content-type', 'text/plain; charset=utf-8'];
const NO_CLAIMS: Claims = Object.freeze({});

/** The answers the verify mode has always given (bodies and headers unchanged). */
export const verifyResponses: Responses = {
  unauthenticated: () => deny(401, 'no-credentials', 'Unauthorized', [TEXT, ['www-authenticate', 'Bearer']]),
  invalidToken: (_req, authenticator, reason) =>
    deny(401, 'invalid-token', 'Unauthorized', [TEXT, ['www-authenticate', 'Bearer error="invalid_token"']], { authenticator, detail: reason }),
  forbidden: (_req, identity, reason) => deny(403, 'forbidden', 'Forbidden', [TEXT], { identity, authenticator: identity.authenticator, detail: reason }),
  authzError: (_req, identity) =>
    deny(503, 'unavailable', 'Service unavailable', [TEXT], { identity, authenticator: identity.authenticator, detail: 'authorization' }),
  unavailable: (_req, reason) => deny(503, 'unavailable', 'Service unavailable', [TEXT], { detail: reason }),
};

function identityOf(claims: Claims | undefined, refused?: string): CheckedIdentity {
  const sub = claims?.['sub'];
  return {
    user: typeof sub === 'string' ? sub : '',
    groups: [],
    claims: claims ?? NO_CLAIMS,
    method: 'header',
    authenticator: 'verify-token',
    ...(refused !== undefined ? { refused } : {}),
  };
}

/** The token check as the judge's authenticator: 401 without a credential → "not mine" (the judge answers 401). */
export function verifyTokenAuthenticator(verify: Verify): Authenticator {
  return {
    name: 'verify-token',
    async authenticate(req): Promise<AuthnOutcome> {
      const v = await verify((req as VerifyRequest).authorization);
      if (v.ok) return { kind: 'ok', identity: identityOf(v.claims) };
      if (v.status === 401) return v.presented ? { kind: 'invalid', reason: v.reason } : NOT_MINE;
      if (v.status === 503) return { kind: 'unavailable', reason: v.reason };
      return { kind: 'ok', identity: identityOf(v.claims, v.reason) };
    },
  };
}

/** Says no to what the token check refused after authenticating it (required claims, replay). */
const checkedClaims: Authorizer = {
  name: 'verify-claims',
  authorize: (identity) => {
    const refused = (identity as CheckedIdentity).refused;
    return refused === undefined ? ALLOW : { kind: 'deny', reason: refused };
  },
};

/** A claim usable as a header value: a string without control characters. */
function headerValue(v: unknown): string | undefined {
  // eslint-disable-next-line no-control-regex
  return typeof v === 'string' && v !== '' && v.length <= 1024 && !/[\u0000-\u001f\u007f]/.test(v) ? v : undefined;
}

function verifyIdentityHeaders(setThem: boolean, passThroughToken: boolean): IdentityHeaders {
  const remove = Object.freeze([SUBJECT_HEADER, ISSUER_HEADER, ...(passThroughToken ? [] : ['authorization'])]);
  const upstream = (identity: Identity): HeaderPair[] => {
    if (!setThem || identity.claims === NO_CLAIMS) return [];
    const set: HeaderPair[] = [];
    const sub = headerValue(identity.claims['sub']);
    const iss = headerValue(identity.claims['iss']);
    if (sub !== undefined) set.push([SUBJECT_HEADER, sub]);
    if (iss !== undefined) set.push([ISSUER_HEADER, iss]);
    return set;
  };
  return {
    forAllow: (identity) => ({ upstream: upstream(identity), remove }),
    upstream,
    removeOnAllow: () => remove,
    removeOnSkip: remove,
    names: [SUBJECT_HEADER, ISSUER_HEADER],
  };
}

export interface VerifyJudgeOptions {
  readonly verify: Verify;
  readonly identityHeaders: boolean;
  readonly passThroughToken: boolean;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly logDecisions: boolean;
}

const NO_SKIP = { matches: (): undefined => undefined };

export function createVerifyJudge(o: VerifyJudgeOptions): Judge {
  const judge = createJudge({
    // The mode has no host or path rules: the target is only what the decision log shows.
    targetOf: (req): Target => ({ method: req.method, hostname: req.host, path: req.path, ambiguous: false }),
    skip: NO_SKIP,
    authenticators: [verifyTokenAuthenticator(o.verify)],
    authorizers: [checkedClaims],
    identityHeaders: verifyIdentityHeaders(o.identityHeaders, o.passThroughToken),
    responses: verifyResponses,
  });
  return observe(judge, o.log, o.metrics, o.logDecisions);
}

/** A deny as the reply the mode writes. */
export function replyOfDeny(d: Deny): { status: number; headers: readonly HeaderPair[]; body: string } {
  return { status: d.status, headers: d.headers, body: d.body };
}
