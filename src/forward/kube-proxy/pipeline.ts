/**
 * The Kubernetes proxy's request pipeline, as named steps (kube-oidc-proxy's handler chain):
 *   bearer → OIDC (→ TokenReview passthrough for tokens that failed it) → unimpersonated
 *   forwarding when impersonation is disabled → requester must have a name → inbound
 *   `Impersonate-*` refused, or checked by SubjectAccessReview → outbound identity (plus the
 *   configured extras) → forward with the proxy's own credentials and `Impersonate-*` headers.
 * The decision is the one judge's (judge.ts: the authentication steps are its authenticators, the
 * rest — `plan` below — its authorizer), so each request also gets the decision log line and counts
 * in the check metrics. Every outcome gets an access-log line and audit events. Upgrades (exec,
 * attach, port-forward) take the same path and are tunnelled both ways.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../../clock.js';
import type { KubeCredentials } from '../../kube/credentials.js';
import type { TrustMatcher } from '../../net/cidr.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import { peerIp, type AccessFacts, type AccessLog } from './access-log.js';
import { AuditTrail, type AuditSink } from './audit.js';
import { addExtra, impersonationHeaderNames, impersonationHeaders, readInbound, withAuthenticated, type KubeUser } from './impersonate.js';
import type { KubeOidcAuthenticator } from './oidc.js';
import type { KubeOptions } from './options.js';
import type { TokenPassthrough } from './passthrough.js';
import { isLongRunning, requestInfo } from './request-info.js';
import type { ImpersonationReviewer } from './sar.js';
import { createKubeJudge, kubeRequestOf, NO_BEARER, TOKEN_REVIEW, type KubeIdentity, type KubeRequest, type Plan } from './judge.js';
import { FORWARDER_COOKIES } from '../engine/hop.js';
import type { HeaderEdits, ProxyEngine } from '../engine/proxy.js';
import { BAD_PATH, BAD_REQUEST, UNAVAILABLE, writeReply, writeSocketReply, type HttpReply } from '../engine/reply.js';
import { forwardTarget } from '../engine/target.js';

export const MSG_IMPERSONATION_DISABLED = 'Impersonation requests are disabled when using kube-oidc-proxy';
export const MSG_NO_USERNAME = 'Username claim not available in OIDC Issuer response';

export interface KubeHandlerDeps {
  readonly options: KubeOptions;
  readonly oidc: Pick<KubeOidcAuthenticator, 'authenticate'>;
  readonly reviewer?: Pick<TokenPassthrough, 'review'>;
  readonly sar?: Pick<ImpersonationReviewer, 'check'>;
  readonly credentials: KubeCredentials;
  /** To the API server with the proxy's client certificate (when it has one). */
  readonly credentialed: ProxyEngine;
  /** To the API server with only its CA: the caller's own credentials go through. */
  readonly bare: ProxyEngine;
  readonly accessLog: AccessLog;
  readonly audit?: AuditSink;
  readonly trust: TrustMatcher;
  readonly clock: Clock;
  readonly log: Logger;
  /** Where the decisions count (the runtime's registry). */
  readonly metrics: Metrics;
  /** One decision log line per request. */
  readonly logDecisions: boolean;
}

/** The token of the first `Authorization` value: `Bearer <token>` (scheme in any case, extra whitespace and words tolerated). */
export function bearerToken(value: string | undefined): string | undefined {
  const parts = value?.trim().split(/\s+/) ?? [];
  return parts.length >= 2 && parts[0]!.toLowerCase() === 'bearer' && parts[1] !== '' ? parts[1] : undefined;
}

/** The client's address: the peer, or — when the peer is a trusted proxy — the right-most `X-Forwarded-For` entry it does not trust. */
export function clientIp(peer: string | undefined, xff: readonly string[] | undefined, trust: TrustMatcher): string {
  const ip = peerIp(peer);
  if (xff === undefined || !trust.trusts(peer ?? '')) return ip;
  const chain = xff
    .flatMap((l) => l.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (let i = chain.length - 1; i >= 0; i--) if (!trust.trusts(chain[i]!)) return chain[i]!;
  return chain[0] ?? ip;
}

/**
 * kube-apiserver's default request-header authentication names: never sent with the proxy's own
 * credentials, in case its client certificate is one the API server takes them from.
 */
function isRequestHeaderIdentity(lowerName: string): boolean {
  return lowerName === 'x-remote-user' || lowerName === 'x-remote-group' || lowerName.startsWith('x-remote-extra-');
}

export function createKubeHandler(d: KubeHandlerDeps): {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
} {
  const o = d.options;

  /** The configured extras: the `extraUserHeaders` pairs and the client address. */
  function withConfiguredExtras(user: KubeUser, req: IncomingMessage): KubeUser {
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(user.extra)) extra[k] = [...v];
    for (const [k, v] of o.extraUserHeaders) addExtra(extra, k, [v]);
    if (o.extraUserHeaderClientIp) addExtra(extra, 'Remote-Client-IP', [clientIp(req.socket.remoteAddress, req.headersDistinct['x-forwarded-for'], d.trust)]);
    return { ...user, extra };
  }

  function impersonating(req: IncomingMessage, inbound: KubeUser, outbound: KubeUser, impersonatedBy?: KubeUser): Plan {
    const auth = d.credentials.authorization();
    return {
      kind: 'forward',
      path: 'impersonated',
      engine: d.credentialed,
      inbound,
      outbound,
      ...(impersonatedBy !== undefined ? { impersonatedBy } : {}),
      set: [...(auth !== undefined ? [['authorization', auth] as const] : []), ...impersonationHeaders(outbound)],
      remove: ['authorization', ...impersonationHeaderNames(req.headers), ...Object.keys(req.headers).filter(isRequestHeaderIdentity)],
    };
  }

  /** What follows authentication: the judge's authorizer (judge.ts) runs it and keeps the plan. */
  async function plan(identity: KubeIdentity, request: KubeRequest): Promise<Plan> {
    const user = identity.kube;
    const req = request.node;
    if (identity.authenticator === TOKEN_REVIEW) return { kind: 'forward', path: 'passthrough', engine: d.bare, inbound: user, set: [], remove: [] };
    if (o.disableImpersonation) return { kind: 'forward', path: 'unimpersonated', engine: d.bare, inbound: user, set: [], remove: [] };
    if (user.username === '') return { kind: 'refuse', status: 403, message: MSG_NO_USERNAME };
    const asked = readInbound(req.headersDistinct);
    if (asked === undefined) return impersonating(req, user, withConfiguredExtras({ ...user, groups: withAuthenticated(user.groups) }, req));
    if (d.sar === undefined) return { kind: 'refuse', status: 403, message: MSG_IMPERSONATION_DISABLED };
    const checked = await d.sar.check(user, asked, request.requestId);
    if (checked.kind === 'refused') return { kind: 'refuse', status: checked.status, message: checked.message };
    return impersonating(req, user, withConfiguredExtras(checked.target, req), checked.target);
  }

  const judge = createKubeJudge({
    oidc: d.oidc,
    ...(d.reviewer !== undefined ? { reviewer: d.reviewer } : {}),
    plan,
    log: d.log,
    metrics: d.metrics,
    logDecisions: d.logDecisions,
  });

  /** Per-request facts, the audit trail, and the outcome of `plan` handed to `refuse` or `go`. */
  function run(
    req: IncomingMessage,
    refuse: (r: HttpReply, trail: AuditTrail) => void,
    go: (p: Extract<Plan, { kind: 'forward' }>, edits: HeaderEdits, trail: AuditTrail) => void,
  ): void {
    const request = kubeRequestOf(req, d.trust, bearerToken(req.headers.authorization));
    const { requestId } = request;
    const uri = req.url ?? '';
    const xff = req.headersDistinct['x-forwarded-for'];
    const facts: AccessFacts = { peer: req.socket.remoteAddress, xff, uri };
    const info = requestInfo(req.method ?? 'GET', uri);
    const ip = peerIp(req.socket.remoteAddress);
    const trail = new AuditTrail(d.audit, d.clock, {
      auditID: requestId,
      requestURI: uri,
      verb: info.verb,
      ...(info.objectRef !== undefined ? { objectRef: info.objectRef } : {}),
      sourceIPs: [
        ...(xff ?? [])
          .flatMap((l) => l.split(','))
          .map((s) => s.trim())
          .filter((s) => s !== '' && s !== ip),
        ip,
      ],
      ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
      longRunning: isLongRunning(info) || req.headers.upgrade !== undefined,
    });
    const failed = (reply: HttpReply, message: string, user?: KubeUser): void => {
      d.accessLog.failure(facts, reply.status, message);
      if (reply.status === 401) trail.authenticationFailed();
      else {
        if (user !== undefined) trail.received(user);
        trail.complete(reply.status, message);
      }
      refuse(reply, trail);
    };
    const internal = (e: unknown): void => {
      d.log.error({ requestId, err: e instanceof Error ? e.message : String(e) }, 'Kubernetes proxy failed; answered 503');
      failed(UNAVAILABLE, 'internal error');
    };
    judge(request).then((decision) => {
      try {
        if (decision.kind === 'deny') {
          const { status, headers, body } = decision;
          const message = decision.reason === 'no-credentials' ? NO_BEARER : (decision.detail ?? '');
          return failed({ status, headers, body }, message, (decision.identity as KubeIdentity | undefined)?.kube);
        }
        const p = request.outcome.plan;
        if (p?.kind !== 'forward') throw new Error('allowed without a forwarding plan');
        d.accessLog.success(facts, p.path, p.inbound, p.outbound);
        trail.received(p.inbound, p.impersonatedBy);
        const peer = req.socket.remoteAddress ?? '';
        const proto = (req.socket as TLSSocket).encrypted === true ? 'https' : 'http';
        const edits: HeaderEdits = {
          set: p.set,
          remove: p.remove,
          stripCookies: FORWARDER_COOKIES.names,
          stripCookiePrefixes: FORWARDER_COOKIES.prefixes,
          responseHeaders: [],
          requestId,
          client: { peer, trusted: d.trust.trusts(peer), proto, host: req.headers.host ?? '' },
          onResponseHead: (status) => trail.head(status),
        };
        go(p, edits, trail);
      } catch (e) {
        internal(e);
      }
    }, internal);
  }

  /**
   * Puts the target the API server will receive in `req.url` (engine/target.ts), so the access log, the
   * audit event and the upstream all see one path; false (logged, to answer 400) when it is refused.
   */
  function canonical(req: IncomingMessage): boolean {
    const target = forwardTarget(req.url ?? '');
    if (target !== undefined) {
      req.url = target;
      return true;
    }
    d.accessLog.failure({ peer: req.socket.remoteAddress, xff: req.headersDistinct['x-forwarded-for'], uri: req.url ?? '' }, 400, 'ambiguous path');
    return false;
  }

  return {
    handle(req, res) {
      if (!canonical(req)) {
        res.shouldKeepAlive = false;
        return writeReply(res, BAD_PATH, req.method);
      }
      run(
        req,
        (reply) => {
          // A refused request's body is never read: the connection cannot be reused.
          if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) res.shouldKeepAlive = false;
          writeReply(res, reply, req.method);
        },
        (p, edits, trail) => {
          res.once('close', () => trail.complete(res.headersSent ? res.statusCode : 0));
          if (!res.destroyed) p.engine.forward(req, res, edits);
        },
      );
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      if (!d.credentialed.upgradable(req)) {
        d.accessLog.failure(
          { peer: req.socket.remoteAddress, xff: req.headersDistinct['x-forwarded-for'], uri: req.url ?? '' },
          400,
          'upgrade protocol not tunnelled',
        );
        return writeSocketReply(socket, BAD_REQUEST, req.method);
      }
      if (!canonical(req)) return writeSocketReply(socket, BAD_PATH, req.method);
      run(
        req,
        (reply) => writeSocketReply(socket, reply, req.method),
        (p, edits, trail) => {
          let status = 0;
          socket.once('close', () => trail.complete(status));
          const inner = edits.onResponseHead;
          if (!socket.destroyed) p.engine.tunnel(req, socket, head, { ...edits, onResponseHead: (s) => ((status = s), inner?.(s)) });
        },
      );
    },
  };
}
