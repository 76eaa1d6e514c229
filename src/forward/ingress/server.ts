/**
 * The ingress forwarder: `oidc-judge serve` listening as a reverse proxy in front of one upstream.
 * Each request (and each websocket upgrade) is judged in-process, then either answered with the
 * deny or proxied by the shared engine (engine/proxy.ts) with the allow's identity headers, the session
 * cookies stripped and `X-Forwarded-*` set. The service's own pages under the URL prefix go to the
 * web handler, except the paths the judge answers itself (login callback, logout). A judge failure
 * answers 503 and is never proxied.
 */
import { listenOn } from '../../net/listen.js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { trustMatcher } from '../../net/cidr.js';
import type { Logger } from '../../obs/log.js';
import type { Allow, Decision } from '../../judge/decision.js';
import { replyFor } from '../../judge/reply.js';
import { judgeRequestOf } from '../../judge/node-request.js';
import { configPrefix, underPrefix } from '../../judge/match.js';
import { normalizePath } from '../../judge/path.js';
import type { JudgeRequest } from '../../judge/request.js';
import { answerClientErrors } from '../../net/client-errors.js';
import { checkIntervalFor } from '../../net/slow-clients.js';
import { createProxyEngine, type HeaderEdits, type UpstreamTls } from '../engine/proxy.js';
import { BAD_PATH, BAD_REQUEST, NOT_FOUND, UNAVAILABLE, writeReply, writeSocketReply, type HttpReply } from '../engine/reply.js';
import { forwardTarget } from '../engine/target.js';
import { upstreamTraceHeaders } from '../../obs/trace/port.js';

export interface IngressTimeouts {
  /** TCP connect to the upstream (default 5 000 ms). */
  readonly connectMs?: number;
  /** Request fully sent → upstream response head (default 60 000 ms). */
  readonly responseMs?: number;
  /** Upstream socket inactivity during an exchange (default 300 000 ms). */
  readonly idleMs?: number;
  /** Idle client keep-alive connections are closed after this (default 75 000 ms, above common load-balancer idle timeouts). */
  readonly keepAliveMs?: number;
  /** Receiving a request head from the client (default 60 000 ms). */
  readonly headersMs?: number;
  /** Receiving a whole request, body included, from the client (default 300 000 ms; 0 = none). */
  readonly requestMs?: number;
}

export interface IngressDeps {
  readonly judge: (req: JudgeRequest) => Promise<Decision>;
  /** `http(s)://host:port/base-path`. */
  readonly upstream: string;
  /** Serves the service's own pages under `prefixPath`; 404 there when absent. */
  readonly web?: (req: IncomingMessage, res: ServerResponse) => void;
  /** `AUTHSERVICE_URL_PREFIX`'s path, e.g. `/authservice/`. */
  readonly prefixPath: string;
  /** Normalized paths under the prefix that go to the judge instead (login callback, logout). */
  readonly ownPaths?: (path: string) => boolean;
  /** Cookies never sent upstream: the session cookie and the login-binding cookie. */
  readonly stripCookies: readonly string[];
  /** Cookie name prefixes never sent upstream either: the per-attempt login-binding cookies (`oidc_state_csrf_`). */
  readonly stripCookiePrefixes?: readonly string[];
  /** Peers whose `X-Forwarded-*` headers are believed. */
  readonly trustedProxies: readonly string[];
  readonly log: Logger;
  readonly timeouts?: IngressTimeouts;
  /** Listen with TLS (PEM key and certificate). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** TLS settings for an `https` upstream. */
  readonly upstreamTls?: UpstreamTls;
  /** The `Host` sent upstream: the upstream's (default) or the client's. */
  readonly host?: 'upstream' | 'client';
  /** Upgrade protocols tunnelled (default `websocket`). */
  readonly upgradeProtocols?: readonly string[];
  /** Largest request head accepted (default 65 536). */
  readonly maxHeaderSize?: number;
}

export interface Ingress {
  readonly server: Server | TlsServer;
  /** Listens and resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, lets in-flight exchanges finish, destroys what is left (tunnels included) after `drainMs`. */
  close(drainMs: number): Promise<void>;
}

type Built = { readonly request: JudgeRequest; readonly trusted: boolean } | { readonly reply: HttpReply };

/** The error's kind and message only: no stack, no request data. */
function errorFacts(e: unknown): { name: string; message: string } {
  return e instanceof Error ? { name: e.name, message: e.message.slice(0, 300) } : { name: typeof e, message: 'non-Error thrown' };
}

export function createIngress(deps: IngressDeps): Ingress {
  const { judge, log, web, ownPaths } = deps;
  const prefix = configPrefix(deps.prefixPath);
  if (prefix === '') throw new Error('ingress: the URL prefix path must not be "/"');
  const trust = trustMatcher(deps.trustedProxies);
  const t = deps.timeouts ?? {};
  const engine = createProxyEngine({
    upstream: deps.upstream,
    log,
    ...(deps.host !== undefined ? { host: deps.host } : {}),
    ...(deps.upgradeProtocols !== undefined ? { upgradeProtocols: deps.upgradeProtocols } : {}),
    ...(deps.upstreamTls !== undefined ? { tls: deps.upstreamTls } : {}),
    ...(t.connectMs !== undefined ? { connectTimeoutMs: t.connectMs } : {}),
    ...(t.responseMs !== undefined ? { responseTimeoutMs: t.responseMs } : {}),
    ...(t.idleMs !== undefined ? { idleTimeoutMs: t.idleMs } : {}),
  });
  const upgrading = new Set<Duplex>();
  let closing = false;
  let closed: Promise<void> | undefined;

  /** Whether the target is one of the service's own pages (never an ambiguous path: those are judged). */
  function forWeb(url: string): boolean {
    if (url.charCodeAt(0) !== 0x2f) return false;
    const n = normalizePath(url);
    return !n.ambiguous && underPrefix(n.path, prefix) && ownPaths?.(n.path) !== true;
  }

  function build(req: IncomingMessage): Built {
    const target = req.url ?? '';
    // Origin-form only: an absolute-form target is a forward-proxy request, not ours.
    if (target.charCodeAt(0) !== 0x2f) return { reply: BAD_REQUEST };
    // One path judged and sent upstream: dot segments resolved, `//` merged, or 400 (engine/target.ts).
    const path = forwardTarget(target);
    if (path === undefined) return { reply: BAD_PATH };
    req.url = path;
    // Belt and braces: Node's parser already refuses both framings at once.
    if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] !== undefined) return { reply: BAD_REQUEST };
    if ((req.headersDistinct['host']?.length ?? 0) > 1) return { reply: BAD_REQUEST };
    return judgeRequestOf(req, { trust, newId: randomUUID, via: 'forwarder', denyStyle: 'redirect', path });
  }

  function editsFor(request: JudgeRequest, trusted: boolean, allow: Allow): HeaderEdits {
    // Tracing on: the upstream request continues the check's trace.
    const trace = upstreamTraceHeaders(allow);
    return {
      set: trace === undefined ? allow.upstreamHeaders : [...allow.upstreamHeaders, ...Object.entries(trace)],
      remove: allow.removeHeaders,
      stripCookies: deps.stripCookies,
      ...(deps.stripCookiePrefixes !== undefined ? { stripCookiePrefixes: deps.stripCookiePrefixes } : {}),
      responseHeaders: allow.responseHeaders,
      requestId: request.requestId,
      client: { peer: request.peer, trusted, proto: request.scheme, host: request.headers['host'] ?? '' },
    };
  }

  /** Judges; `onAllow` proxies, `answer` writes a deny or a 503. */
  function judged(built: Built, answer: (r: HttpReply) => void, onAllow: (edits: HeaderEdits) => void): void {
    if ('reply' in built) return answer(built.reply);
    const { request, trusted } = built;
    const failed = (e: unknown): void => {
      log.error({ requestId: request.requestId, err: errorFacts(e) }, 'judge failed; answered 503');
      answer(UNAVAILABLE);
    };
    judge(request).then((d) => {
      try {
        if (d.kind === 'allow') return onAllow(editsFor(request, trusted, d));
        log.debug({ requestId: request.requestId, status: d.status, reason: d.reason }, 'denied');
        answer(replyFor('http', d));
      } catch (e) {
        failed(e);
      }
    }, failed);
  }

  function settled(): void {
    if (closing) server.closeIdleConnections();
  }

  function handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    if (closing) res.shouldKeepAlive = false;
    res.once('finish', settled);
    try {
      if (forWeb(req.url ?? '')) {
        if (web === undefined) return writeReply(res, NOT_FOUND, req.method);
        if (expectContinue) res.writeContinue();
        return web(req, res);
      }
      judged(
        build(req),
        (reply) => {
          // A client that waits for 100-continue may or may not send its body now: do not reuse the connection.
          if (expectContinue || reply.status === 400) res.shouldKeepAlive = false;
          writeReply(res, reply, req.method);
        },
        (edits) => {
          if (res.destroyed) return;
          if (expectContinue) res.writeContinue();
          engine.forward(req, res, edits);
        },
      );
    } catch (e) {
      log.error({ err: errorFacts(e) }, 'ingress failed; answered 503');
      writeReply(res, UNAVAILABLE, req.method);
    }
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    upgrading.add(socket);
    socket.once('close', () => upgrading.delete(socket));
    socket.on('error', () => socket.destroy());
    const answer = (reply: HttpReply): void => writeSocketReply(socket, reply, req.method);
    if (closing) return answer(UNAVAILABLE);
    if (!engine.upgradable(req)) return answer(BAD_REQUEST);
    if (forWeb(req.url ?? '')) return answer(NOT_FOUND);
    judged(build(req), answer, (edits) => {
      if (!socket.destroyed) engine.tunnel(req, socket, head, edits);
    });
  }

  const options: ServerOptions = {
    maxHeaderSize: deps.maxHeaderSize ?? 65_536,
    keepAlive: true,
    insecureHTTPParser: false,
    requireHostHeader: true,
    headersTimeout: t.headersMs ?? 60_000,
    requestTimeout: t.requestMs ?? 300_000,
    connectionsCheckingInterval: checkIntervalFor(t.headersMs ?? 60_000),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handle(req, res, false);
  const server = deps.tls === undefined ? createServer(options, onRequest) : createTlsServer({ ...options, ...deps.tls }, onRequest);
  server.keepAliveTimeout = t.keepAliveMs ?? 75_000;
  answerClientErrors(server);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => handle(req, res, true));
  server.on('upgrade', upgrade);

  return {
    server,
    listen: (host: string, port: number): Promise<number> => listenOn(server, host, port),
    close(drainMs: number): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => {
          server.closeAllConnections();
          for (const s of upgrading) s.destroy();
          engine.close();
        }, drainMs);
        server.close(() => {
          clearTimeout(force);
          engine.close();
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
