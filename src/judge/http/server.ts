/**
 * The HTTP front door on the judge port: Envoy `http_service`, Ambassador AuthService, Traefik
 * ForwardAuth and nginx `auth_request`, on plain `node:http` (this is the hot path; no Express).
 * It only translates (see `map.ts`); every decision is the judge's. A judge failure answers
 * 503 (fail closed), never an allow.
 */
import { listenOn } from '../../net/listen.js';
import { answerClientErrors } from '../../net/client-errors.js';
import { DEFAULT_SLOW_CLIENT_LIMITS, limitSlowClients, type SlowClientLimits } from '../../net/slow-clients.js';
import { turnWrites } from '../../net/turn-writes.js';
import { wireValue } from '../../net/wire.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../obs/log.js';
import type { Decision } from '../decision.js';
import { createHttpMap, replyFor, type HttpReply } from './map.js';
import { requestIds, type JudgeRequest } from '../request.js';

export interface HttpJudgeOptions {
  /** `VERIFY_AUTH_URL` (path or absolute URL). */
  readonly verifyPath: string;
  /** `FORWARD_AUTH_URL` (path or absolute URL). */
  readonly forwardAuthPath: string;
  /** `HTTP_CHECK_PATH_PREFIX`. */
  readonly checkPathPrefix: string;
  /** oauth2-proxy's `/oauth2/auth` (`COMPAT_ENDPOINTS=oauth2-proxy`): allow → 202. */
  readonly authOnlyPath?: string;
  /** `TRUSTED_PROXIES`. */
  readonly trustedProxies: readonly string[];
  /**
   * How long an idle keep-alive connection stays open. Longer than the proxies' own idle timeouts
   * (nginx 60 s, Traefik 90 s, most load balancers ≤ 600 s), so the proxy closes first and never
   * sends a check on a connection we are closing. Default 620 000.
   */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Largest request head accepted (JWTs and cookies are big; Envoy `http_service` passes on heads of
   * up to its `max_request_headers_kb`, 60 KiB by default, 96 KiB in many meshes). Default 131 072.
   */
  readonly maxHeaderSize?: number;
  /** Slow-client limits (`HTTP_HEADERS_TIMEOUT`, `HTTP_REQUEST_TIMEOUT`). Default 10 s / 30 s. */
  readonly slowClients?: SlowClientLimits;
}

export interface HttpJudgeDeps {
  readonly judge: (req: JudgeRequest) => Promise<Decision>;
  readonly options: HttpJudgeOptions;
  readonly log: Logger;
  /** Answers some paths first (login callback, logout); returns true when it handled the request. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface HttpJudge {
  readonly server: Server;
  /** Listens and resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, lets in-flight checks finish, closes idle connections; force-closes after `drainMs`. */
  close(drainMs: number): Promise<void>;
}

/** 128 KiB: Envoy's largest classic `max_request_headers_kb` (96) and what it adds fit. */
export const DEFAULT_MAX_HEADER_SIZE = 131_072;

const UNAVAILABLE: HttpReply = { status: 503, headers: [['content-type', 'text/plain; charset=utf-8']], body: 'Service unavailable' };
/** Distinct untrusted peers remembered for warning once each. */
const WARNED_LIMIT = 1024;

/** A reply's headers as node writes them, with `content-length` when a body may follow. */
function flatHeaders(reply: HttpReply, bodyAllowed: boolean): string[] {
  const flat: string[] = [];
  for (const [name, value] of reply.headers) flat.push(name, wireValue(value));
  if (bodyAllowed) flat.push('content-length', String(Buffer.byteLength(reply.body)));
  return flat;
}

/** Flat header lists of shared (frozen) replies, made once: [with content-length, without]. */
const wired = new WeakMap<HttpReply, [string[] | undefined, string[] | undefined]>();

function wireHeaders(reply: HttpReply, bodyAllowed: boolean): string[] {
  if (!Object.isFrozen(reply)) return flatHeaders(reply, bodyAllowed);
  let w = wired.get(reply);
  if (w === undefined) wired.set(reply, (w = [undefined, undefined]));
  const i = bodyAllowed ? 0 : 1;
  return (w[i] ??= flatHeaders(reply, bodyAllowed));
}

/** The error's kind and message only: no stack frames with arguments, no request data. */
function errorFacts(e: unknown): { name: string; message: string; code?: string } {
  if (!(e instanceof Error)) return { name: typeof e, message: 'non-Error thrown' };
  const code = (e as NodeJS.ErrnoException).code;
  return { name: e.name, message: e.message.slice(0, 300), ...(code !== undefined ? { code } : {}) };
}

/** The path without its query, which may carry tokens (`?access_token=`). */
function logPath(url: string | undefined): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  return (q < 0 ? u : u.slice(0, q)).slice(0, 200);
}

export function createHttpJudge(deps: HttpJudgeDeps): HttpJudge {
  const { judge, options, log, routes } = deps;
  const map = createHttpMap(options, requestIds());
  const warned = new Set<string>();
  const atTurnEnd = turnWrites((e) => log.error({ err: errorFacts(e) }, 'writing an answer failed'));
  let closing = false;
  let closed: Promise<void> | undefined;

  function send(req: IncomingMessage, res: ServerResponse, reply: HttpReply): void {
    if (res.headersSent || res.destroyed) return;
    if (closing) res.shouldKeepAlive = false;
    const bodyAllowed = reply.status !== 204 && reply.status !== 304 && req.method !== 'HEAD';
    const flat = wireHeaders(reply, bodyAllowed);
    try {
      res.writeHead(reply.status, flat);
    } catch (e) {
      // A header the decision asked for is not a valid HTTP header (e.g. a control character in a
      // user id): fail closed rather than answer without it.
      log.error({ err: errorFacts(e), status: reply.status, path: logPath(req.url) }, 'invalid response header; answered 503');
      if (reply !== UNAVAILABLE) send(req, res, UNAVAILABLE);
      else res.destroy();
      return;
    }
    res.end(bodyAllowed ? reply.body : undefined);
  }

  function failed(req: IncomingMessage, res: ServerResponse, e: unknown, facts: Record<string, string>): void {
    log.error({ ...facts, path: logPath(req.url), err: errorFacts(e) }, 'judge failed; answered 503');
    send(req, res, UNAVAILABLE);
  }

  function warnUntrusted(peer: string, path: string): void {
    if (warned.has(peer)) return;
    if (warned.size >= WARNED_LIMIT) warned.clear();
    warned.add(peer);
    log.warn(
      { peer, trustedProxies: map.trust.ranges.join(', '), path },
      `forward-auth request from ${peer || 'an unknown peer'}, which is not in TRUSTED_PROXIES (${map.trust.ranges.join(', ')}); answered 403`,
    );
  }

  function afterRoute(): void {
    if (closing) server.closeIdleConnections();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    // The body is never read: node discards whatever is left once the response is finished.
    if (closing) res.shouldKeepAlive = false;
    try {
      if (routes?.(req, res) === true) {
        // A route may answer later; once it has, a draining server should not keep the socket.
        res.once('finish', afterRoute);
        return;
      }
      const mapped = map.map({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, peer: req.socket.remoteAddress });
      if (mapped.kind === 'reply') {
        if (mapped.untrustedPeer !== undefined) warnUntrusted(mapped.untrustedPeer, logPath(req.url));
        send(req, res, mapped.reply);
        return;
      }
      const { mode, request } = mapped;
      // Answers go out together at the end of the turn (net/turn-writes.ts): one wake-up of the proxy per burst.
      judge(request).then(
        (decision) =>
          atTurnEnd(() => {
            try {
              send(req, res, replyFor(mode, decision));
            } catch (e) {
              failed(req, res, e, { requestId: request.requestId, via: request.via });
            }
          }),
        (e: unknown) => atTurnEnd(() => failed(req, res, e, { requestId: request.requestId, via: request.via })),
      );
    } catch (e) {
      failed(req, res, e, {});
    }
  }

  const server = createServer({ maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE, keepAlive: true }, handle);
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 620_000;
  limitSlowClients(server, options.slowClients ?? DEFAULT_SLOW_CLIENT_LIMITS);
  answerClientErrors(server);

  return {
    server,
    listen: (host: string, port: number): Promise<number> => listenOn(server, host, port),
    close(drainMs: number): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const force = setTimeout(() => server.closeAllConnections(), drainMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle sockets close now; in-flight responses carry `Connection: close` (see `send`).
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
