/**
 * The Kubernetes proxy's decision as a configuration of the one judge (`judge/decide.ts`): its
 * authenticators (`kube-oidc`, the OIDC token check of oidc.ts, then `kube-token-review`, the
 * TokenReview passthrough of passthrough.ts when configured, for tokens OIDC refused), one
 * authorizer (`kube-impersonation`: the requester must have a name, inbound `Impersonate-*`
 * refused or checked by SubjectAccessReview — pipeline.ts plans it) and the answers the mode has
 * always given (plain-text 401 with `WWW-Authenticate: Bearer`, 400/403 naming the refusal, 503),
 * wrapped with the same `observe()` as the judge: every request gets the decision log line and
 * counts in the check metrics. No host check, no skip rules, no login, no identity headers (the
 * plan carries the `Impersonate-*` headers).
 */
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createJudge, type Judge } from '../../judge/decide.js';
import { deny, type HeaderPair, type Identity } from '../../judge/decision.js';
import type { IdentityHeaders } from '../../judge/upstream/identity-headers.js';
import { judgeRequestOf } from '../../judge/node-request.js';
import { ALLOW, NOT_MINE, type Authenticator, type AuthnOutcome, type Authorizer, type Target } from '../../judge/ports.js';
import type { JudgeRequest } from '../../judge/request.js';
import type { Responses } from '../../judge/responses.js';
import { observe } from '../../judge/wrap/observe.js';
import type { TrustMatcher } from '../../net/cidr.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import type { SuccessPath } from './access-log.js';
import type { KubeUser } from './impersonate.js';
import type { KubeOidcAuthenticator } from './oidc.js';
import type { TokenPassthrough } from './passthrough.js';
import type { ProxyEngine } from '../engine/proxy.js';
import { UNAVAILABLE } from '../engine/reply.js';

/** What to do with an authenticated request: refuse it, or forward it with these header edits. */
export type Plan =
  | { readonly kind: 'refuse'; readonly status: 400 | 403 | 503; readonly message: string }
  | {
      readonly kind: 'forward';
      readonly path: SuccessPath;
      readonly engine: ProxyEngine;
      readonly inbound: KubeUser;
      readonly outbound?: KubeUser;
      readonly impersonatedBy?: KubeUser;
      readonly set: readonly (readonly [string, string])[];
      readonly remove: readonly string[];
    };

/** A judge request with the Node request, its bearer token, and the plan the impersonation step made. */
export interface KubeRequest extends JudgeRequest {
  readonly node: IncomingMessage;
  /** The token of the first `Authorization` value (pipeline.ts `bearerToken`). */
  readonly bearer: string | undefined;
  /** Written by the `kube-impersonation` authorizer. */
  readonly outcome: { plan?: Plan };
}

/** An identity with the Kubernetes user it stands for. */
export interface KubeIdentity extends Identity {
  readonly kube: KubeUser;
}

export const OIDC = 'kube-oidc';
export const TOKEN_REVIEW = 'kube-token-review';

function identityOf(user: KubeUser, authenticator: string): KubeIdentity {
  return {
    user: user.username,
    groups: user.groups,
    claims: {},
    method: 'header',
    authenticator,
    ...(user.uid !== undefined ? { uid: user.uid } : {}),
    kube: user,
  };
}

/** The OIDC check; a refused token lets the TokenReview passthrough try (the 401 stands if it does not vouch). */
export function kubeOidcAuthenticator(oidc: Pick<KubeOidcAuthenticator, 'authenticate'>): Authenticator {
  return {
    name: OIDC,
    async authenticate(req): Promise<AuthnOutcome> {
      const token = (req as KubeRequest).bearer;
      if (token === undefined) return NOT_MINE;
      const v = await oidc.authenticate(token);
      if (v.kind === 'ok') return { kind: 'ok', identity: identityOf(v.user, OIDC) };
      return v.kind === 'unavailable' ? { kind: 'unavailable', reason: v.reason } : { kind: 'invalid', reason: v.reason, fallThrough: true };
    },
  };
}

/** The TokenReview passthrough: vouches or says nothing (the OIDC answer stands then). */
export function tokenReviewAuthenticator(reviewer: Pick<TokenPassthrough, 'review'>): Authenticator {
  return {
    name: TOKEN_REVIEW,
    async authenticate(req): Promise<AuthnOutcome> {
      const token = (req as KubeRequest).bearer;
      if (token === undefined) return NOT_MINE;
      const r = await reviewer.review(token, req.requestId);
      return r.kind === 'ok' ? { kind: 'ok', identity: identityOf(r.user, TOKEN_REVIEW) } : NOT_MINE;
    },
  };
}

export type Planner = (identity: KubeIdentity, req: KubeRequest) => Promise<Plan> | Plan;

/** The rest of the pipeline as the judge's authorizer: records the plan; a refusal says no (a 503 one is an error). */
function impersonationAuthorizer(plan: Planner): Authorizer {
  return {
    name: 'kube-impersonation',
    async authorize(identity, _target, req) {
      const p = await plan(identity as KubeIdentity, req as KubeRequest);
      (req as KubeRequest).outcome.plan = p;
      if (p.kind === 'forward') return ALLOW;
      return p.status === 503 ? { kind: 'error', reason: p.message } : { kind: 'deny', reason: p.message };
    },
  };
}

const TEXT: HeaderPair = ['content-type', 'text/plain; charset=utf-8'];
const UNAUTHORIZED: readonly HeaderPair[] = [TEXT, ['www-authenticate', 'Bearer']];
/** What the access log and the audit event say of a request without a bearer token. */
export const NO_BEARER = 'no bearer token';
const OIDC_PREFIX = `${OIDC}: `;

/** The answers the mode has always given; `detail` is the access log's and audit event's reason (for `no-credentials`: NO_BEARER above). */
export const kubeResponses: Responses = {
  unauthenticated: () => deny(401, 'no-credentials', 'Unauthorized', UNAUTHORIZED),
  invalidToken: (_req, authenticator, reason) => deny(401, 'invalid-token', 'Unauthorized', UNAUTHORIZED, { authenticator, detail: reason }),
  forbidden: (req, identity, reason) => {
    const extra = { identity, authenticator: identity.authenticator, detail: reason };
    const plan = (req as KubeRequest).outcome.plan;
    return plan?.kind === 'refuse' && plan.status === 400
      ? deny(400, 'bad-impersonation', reason, [TEXT], extra)
      : deny(403, 'forbidden', reason, [TEXT], extra);
  },
  authzError: (_req, identity) =>
    deny(503, 'unavailable', UNAVAILABLE.body, UNAVAILABLE.headers, { identity, authenticator: identity.authenticator, detail: UNAVAILABLE.body }),
  // Only the OIDC check is ever unavailable: its reason as it gave it.
  unavailable: (_req, reason) =>
    deny(503, 'unavailable', UNAVAILABLE.body, UNAVAILABLE.headers, { detail: reason.startsWith(OIDC_PREFIX) ? reason.slice(OIDC_PREFIX.length) : reason }),
};

const NONE: readonly never[] = Object.freeze([]);
const NO_IDENTITY_HEADERS: IdentityHeaders = {
  forAllow: () => ({ upstream: NONE, remove: NONE }),
  upstream: () => [],
  removeOnAllow: () => NONE,
  removeOnSkip: NONE,
  names: NONE,
};
const NO_SKIP = { matches: (): undefined => undefined };

export interface KubeJudgeOptions {
  readonly oidc: Pick<KubeOidcAuthenticator, 'authenticate'>;
  readonly reviewer?: Pick<TokenPassthrough, 'review'>;
  readonly plan: Planner;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly logDecisions: boolean;
}

export function createKubeJudge(o: KubeJudgeOptions): Judge {
  const judge = createJudge({
    // The mode has no host or path rules: the target is only what the decision log shows.
    targetOf: (req): Target => ({ method: req.method, hostname: req.host, path: req.path, ambiguous: false }),
    skip: NO_SKIP,
    authenticators: [kubeOidcAuthenticator(o.oidc), ...(o.reviewer !== undefined ? [tokenReviewAuthenticator(o.reviewer)] : [])],
    authorizers: [impersonationAuthorizer(o.plan)],
    identityHeaders: NO_IDENTITY_HEADERS,
    responses: kubeResponses,
  });
  return observe(judge, o.log, o.metrics, o.logDecisions);
}

/** The judge request of a Node request (the shared builder), with a new request id: it is the audit ID too. */
export function kubeRequestOf(req: IncomingMessage, trust: TrustMatcher, bearer: string | undefined): KubeRequest {
  const { request } = judgeRequestOf(req, { trust, newId: randomUUID, via: 'forwarder', denyStyle: 'status-only' });
  return { ...request, requestId: randomUUID(), node: req, bearer, outcome: {} };
}
