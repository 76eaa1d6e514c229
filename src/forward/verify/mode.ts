/**
 * The verify-then-proxy forwarder mode (`mode: verify`): oidc-proxy's ingress and jwtproxy's
 * verifier. Each request's bearer token is checked (token.ts) against the configured key
 * source; a missing or invalid token is answered 401 with `WWW-Authenticate: Bearer`, unmet
 * required claims and replays 403, unavailable keys or replay store 503; an accepted request is
 * proxied by the shared engine with `Authorization` removed (unless `passThroughToken`), forged
 * `X-Auth-Subject`/`X-Auth-Issuer` removed and, with `identityHeaders`, set from `sub` and `iss`.
 * Websocket upgrades are verified the same way, then tunnelled. The decision is the one judge's
 * (judge.ts: `createJudge` with the mode's authenticator, wrapped with `observe()`), so each
 * request also gets the decision log line and counts in the check metrics.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { trustMatcher } from '../../net/cidr.js';
import type { ForwarderDeps, ModeDefinition, ModeHandler } from '../engine/mode.js';
import { FORWARDER_COOKIES } from '../engine/hop.js';
import { createProxyEngine, type HeaderEdits } from '../engine/proxy.js';
import { BAD_PATH, BAD_REQUEST, UNAVAILABLE, writeReply, writeSocketReply, type HttpReply } from '../engine/reply.js';
import { forwardTarget } from '../engine/target.js';
import type { Allow } from '../../judge/decision.js';
import { judgeRequestOf } from '../../judge/node-request.js';
import { createMetrics } from '../../obs/metrics.js';
import { buildKeys, buildReplay, buildUpstreamTls, upstreamVia } from './build.js';
import { OIDC_REQUIRED, standardCheck, type StandardClaim } from './claims.js';
import { parseVerifyOptions, type VerifyOptions } from './options.js';
import { createVerify } from './token.js';
import { createVerifyJudge, replyOfDeny, type VerifyRequest } from './judge.js';

export type { VerifyOptions };
export { ISSUER_HEADER, SUBJECT_HEADER } from './judge.js';

export async function createVerifyHandler(o: VerifyOptions, deps: ForwarderDeps): Promise<ModeHandler> {
  const { log, clock } = deps;
  const upstreamTls = buildUpstreamTls(o.upstreamTls, deps);
  const built = await buildKeys(o, deps);
  const closeKeys = (): void => void ('keys' in built && built.keys.close());
  const replay = await buildReplay(o, deps).catch((e: unknown) => {
    closeKeys();
    throw e;
  });
  const isStatic = 'staticToken' in built;
  const required: ReadonlySet<StandardClaim> = isStatic ? new Set() : o.requireSub ? OIDC_REQUIRED : new Set(['iss', 'aud', 'exp', 'iat']);
  const verify = createVerify({
    clock,
    basicAuthFallback: o.basicAuthFallback,
    ...built,
    standard: standardCheck({
      issuers: o.issuers,
      audiences: o.audiences,
      audienceMatch: o.audienceMatch,
      required,
      skewSeconds: o.skewSeconds,
      ...(o.maxTtlSeconds !== undefined ? { maxTtlSeconds: o.maxTtlSeconds } : {}),
    }),
    required: o.claims,
    ...(replay !== undefined ? { replay } : {}),
    skewSeconds: o.skewSeconds,
  });
  const via = upstreamVia(o, deps);
  const engine = createProxyEngine({
    upstream: o.upstream,
    host: o.host,
    log,
    ...(via !== undefined ? { via } : {}),
    ...(upstreamTls !== undefined ? { tls: upstreamTls } : {}),
    ...(o.timeouts.connectMs !== undefined ? { connectTimeoutMs: o.timeouts.connectMs } : {}),
    ...(o.timeouts.responseMs !== undefined ? { responseTimeoutMs: o.timeouts.responseMs } : {}),
    ...(o.timeouts.idleMs !== undefined ? { idleTimeoutMs: o.timeouts.idleMs } : {}),
  });
  const trust = trustMatcher(o.trustedProxies);
  const judge = createVerifyJudge({
    verify,
    identityHeaders: o.identityHeaders,
    passThroughToken: o.passThroughToken,
    log,
    metrics: deps.metrics ?? createMetrics(false),
    logDecisions: deps.logDecisions ?? true,
  });

  /** The shared builder's request (judge/node-request.ts), with every `Authorization` value the client sent beside it. */
  function verifyRequestOf(req: IncomingMessage): VerifyRequest {
    const { request } = judgeRequestOf(req, { trust, newId: randomUUID, via: 'forwarder', denyStyle: 'status-only' });
    return { ...request, authorization: req.headersDistinct['authorization'] };
  }

  function editsFor(req: IncomingMessage, requestId: string, allow: Allow): HeaderEdits {
    const peer = req.socket.remoteAddress ?? '';
    return {
      set: allow.upstreamHeaders,
      remove: allow.removeHeaders,
      stripCookies: FORWARDER_COOKIES.names,
      stripCookiePrefixes: FORWARDER_COOKIES.prefixes,
      responseHeaders: allow.responseHeaders,
      requestId,
      client: { peer, trusted: trust.trusts(peer), proto: (req.socket as TLSSocket).encrypted === true ? 'https' : 'http', host: req.headers.host ?? '' },
    };
  }

  /** Refuses what a reverse proxy must not take: absolute-form targets, several `Host` headers. */
  function malformed(req: IncomingMessage): boolean {
    return (req.url ?? '').charCodeAt(0) !== 0x2f || (req.headersDistinct['host']?.length ?? 0) > 1;
  }

  /** Puts the target the upstream will receive in `req.url` (engine/target.ts); false for a path to refuse (400). */
  function canonical(req: IncomingMessage): boolean {
    const target = forwardTarget(req.url ?? '');
    if (target === undefined) return false;
    req.url = target;
    return true;
  }

  function judged(req: IncomingMessage, answer: (r: HttpReply) => void, pass: (edits: HeaderEdits) => void): void {
    const request = verifyRequestOf(req);
    judge(request).then(
      (d) => (d.kind === 'allow' ? pass(editsFor(req, request.requestId, d)) : answer(replyOfDeny(d))),
      (e: unknown) => {
        log.error({ requestId: request.requestId, err: { message: (e as Error).message } }, 'verification failed; answered 503');
        answer(UNAVAILABLE);
      },
    );
  }

  return {
    handle(req: IncomingMessage, res: ServerResponse): void {
      if (malformed(req)) return writeReply(res, BAD_REQUEST, req.method);
      if (!canonical(req)) {
        res.shouldKeepAlive = false;
        return writeReply(res, BAD_PATH, req.method);
      }
      judged(
        req,
        (reply) => writeReply(res, reply, req.method),
        (edits) => {
          if (!res.destroyed) engine.forward(req, res, edits);
        },
      );
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => socket.destroy());
      const answer = (reply: HttpReply): void => writeSocketReply(socket, reply, req.method);
      if (malformed(req) || !engine.upgradable(req)) return answer(BAD_REQUEST);
      if (!canonical(req)) return answer(BAD_PATH);
      judged(req, answer, (edits) => {
        if (!socket.destroyed) engine.tunnel(req, socket, head, edits);
      });
    },
    ready: () => ('keys' in built ? built.keys.ready() : true) && (replay?.ready() ?? true),
    async close(): Promise<void> {
      engine.close();
      closeKeys();
      await replay?.close();
    },
  };
}

export const verifyMode: ModeDefinition<VerifyOptions> = {
  mode: 'verify',
  parse: parseVerifyOptions,
  create: createVerifyHandler,
};
