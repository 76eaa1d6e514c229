/**
 * The forwarding engine every forwarder mode shares (ingress, verify, egress and
 * Kubernetes impersonation): one upstream base URL, a keep-alive agent, the caller's header edits
 * applied per exchange (see hop.ts), bodies streamed both ways without buffering, upgrades
 * (websocket) tunnelled, and every upstream failure answered 502 without detail. It takes no
 * decisions: the caller has judged the request and says which headers to set and remove.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { Transform, type Duplex } from 'node:stream';
import { wireValue } from '../../net/wire.js';
import type { Logger } from '../../obs/log.js';
import { clientResponseHeaders, upgradeProtocols, upstreamRequestHeaders, type HeaderEdits } from './hop.js';
import { parseVia, viaAgent } from './proxy-via.js';
import { BAD_GATEWAY, BAD_PATH, BAD_REQUEST, PAYLOAD_TOO_LARGE, UNAVAILABLE, writeReply, writeSocketHead, writeSocketReply, type HttpReply } from './reply.js';
import { forwardTarget } from './target.js';

export type { ClientFacts, HeaderEdits } from './hop.js';

export interface UpstreamTls {
  /** Trusted CA certificates (PEM) for the upstream, instead of Node's roots. */
  readonly ca?: string;
  /** Client certificate and key (PEM), e.g. the service's own Kubernetes credentials. */
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface ProxyOptions {
  /**
   * `http(s)://host:port/base-path?query`: the base path prefixes every request path, the query goes first.
   * Or `unix:/path/to.sock` (plain HTTP over a unix socket, `Host: localhost`), optionally with a base:
   * `unix:/path/to.sock:/base-path?query`.
   */
  readonly upstream: string;
  /** The `Host` sent upstream: the upstream's own (default) or the one the client sent. */
  readonly host?: 'upstream' | 'client';
  /** Upgrade protocols tunnelled (default `websocket`). Never `h2c`: it would let one judged request carry many. */
  readonly upgradeProtocols?: readonly string[];
  /** TCP connect to the upstream (default 5 000 ms). */
  readonly connectTimeoutMs?: number;
  /** From the request fully sent to the response head (default 60 000 ms). */
  readonly responseTimeoutMs?: number;
  /** Upstream socket inactivity during an exchange, body streaming included (default 300 000 ms). */
  readonly idleTimeoutMs?: number;
  /** How long an idle kept-alive upstream connection is kept; below the upstream's own (Node's is 5 s). Default 4 000 ms. */
  readonly freeSocketTimeoutMs?: number;
  /** Connections per upstream (default 256). */
  readonly maxSockets?: number;
  readonly tls?: UpstreamTls;
  /**
   * An HTTP forward proxy the upstream is reached through (`http://[user:pass@]host:port`, e.g. from
   * HTTP(S)_PROXY; see proxy-via.ts): an http upstream gets absolute-form requests via the proxy, an
   * https one a CONNECT tunnel. Ignored for unix-socket upstreams. Default: direct.
   */
  readonly via?: string;
  /** Largest request body sent upstream, in bytes: a larger one is answered 413 (cut when the response has started). Default: no limit. */
  readonly maxRequestBodyBytes?: number;
  /**
   * What is sent as the request path: `judged` (default) the target `forwardTarget` gives
   * (target.ts: dot segments resolved, `//` merged, and 400 for a path no rewrite can keep
   * unambiguous), so the upstream gets the path the mode judged and a base path cannot be climbed
   * out of; `raw` the client's target as is, for the egress forward proxy, which judges no path
   * and has no base path.
   */
  readonly paths?: 'judged' | 'raw';
  /**
   * Sends the response head as soon as the upstream's arrives when it has no `Content-Length`
   * (a watch, `logs -f`, an event stream), instead of with the first body bytes. Default false.
   */
  readonly flushStreamingHeads?: boolean;
  readonly log: Logger;
}

export interface ProxyEngine {
  /** The upstream base URL, parsed. */
  readonly upstream: URL;
  /** Proxies one exchange. Never throws; answers 502 itself when the upstream fails. */
  forward(req: IncomingMessage, res: ServerResponse, edits: HeaderEdits): void;
  /** Whether an upgrade request asks only for protocols this engine tunnels. */
  upgradable(req: IncomingMessage): boolean;
  /** Tunnels an allowed upgrade: the upstream's 101 goes back to `socket`, then bytes flow both ways. */
  tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, edits: HeaderEdits): void;
  /** Destroys open tunnels and idle upstream connections. */
  close(): void;
}

/** `base` path + request path joined with one slash; the base's query first, then the request's. */
export function upstreamPath(base: URL, target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const bp = base.pathname;
  const joined = bp === '/' ? path : bp.endsWith('/') ? bp + path.slice(1) : bp + path;
  const bq = base.search.slice(1);
  const all = bq !== '' && query !== '' ? `${bq}&${query}` : bq + query;
  return all === '' ? joined : `${joined}?${all}`;
}

function toPairs(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

class UpstreamError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const IDEMPOTENT_BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * An upstream spec as a URL plus, for `unix:/path.sock[:/base]`, the socket path (the URL is then
 * `http://localhost/base`). Throws a message naming what is wrong.
 */
export function parseUpstream(spec: string): { readonly url: URL; readonly socketPath?: string } {
  if (spec.startsWith('unix:')) {
    const rest = spec.slice(5);
    const sep = rest.indexOf(':');
    const socketPath = sep < 0 ? rest : rest.slice(0, sep);
    const base = sep < 0 ? '/' : rest.slice(sep + 1);
    if (!socketPath.startsWith('/')) throw new Error(`upstream ${spec}: the unix socket path must be absolute`);
    if (!base.startsWith('/') || base.startsWith('//') || base.includes('#')) throw new Error(`upstream ${spec}: after the socket path comes ":/base-path"`);
    return { url: new URL(base, 'http://localhost'), socketPath };
  }
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new Error(`upstream ${spec}: must be an http(s) URL or unix:/path.sock`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`upstream ${spec}: must be an http(s) URL`);
  if (url.username !== '' || url.password !== '' || url.hash !== '') throw new Error('upstream: no credentials or fragment in the URL');
  return { url };
}

export function createProxyEngine(o: ProxyOptions): ProxyEngine {
  const { url: upstream, socketPath } = parseUpstream(o.upstream);
  const secure = upstream.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const agentOptions = { keepAlive: true, maxSockets: o.maxSockets ?? 256, timeout: o.freeSocketTimeoutMs ?? 4_000, ...(secure ? { ...o.tls } : {}) };
  const via = o.via === undefined || socketPath !== undefined ? undefined : parseVia(o.via);
  const agent =
    via !== undefined ? viaAgent(via, secure, o.connectTimeoutMs ?? 5_000, agentOptions) : secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  // Upgraded sockets leave the pool: through a proxy they still need the tunnel, from a non-pooling agent.
  const upgradeAgent = via !== undefined ? viaAgent(via, secure, o.connectTimeoutMs ?? 5_000, { ...agentOptions, keepAlive: false }) : false;
  /** Plain http through a proxy: the proxy is dialled and the target is in absolute form. */
  const viaPlain = via !== undefined && !secure ? via : undefined;
  const protocols = new Set((o.upgradeProtocols ?? ['websocket']).map((p) => p.toLowerCase()));
  protocols.delete('h2c');
  const connectMs = o.connectTimeoutMs ?? 5_000;
  const responseMs = o.responseTimeoutMs ?? 60_000;
  const idleMs = o.idleTimeoutMs ?? 300_000;
  const tunnels = new Set<Duplex>();
  const { log } = o;

  function headers(req: IncomingMessage, edits: HeaderEdits, upgrade?: string): string[] {
    const te = req.headers['transfer-encoding'];
    return upstreamRequestHeaders({
      raw: req.rawHeaders,
      edits,
      host: o.host === 'client' ? edits.client.host : upstream.host,
      body: { contentLength: req.headers['content-length'], chunked: te !== undefined },
      wire: wireValue,
      ...(upgrade !== undefined ? { upgrade } : {}),
    });
  }

  /**
   * Starts the upstream request with connect and response deadlines (and, except for upgrades, an
   * idle deadline). Throws when Node cannot express it (an unescaped path, an invalid header).
   */
  function open(req: IncomingMessage, target: string, flat: string[], forUpgrade: boolean): ClientRequest {
    const up = send({
      protocol: upstream.protocol,
      ...(socketPath !== undefined
        ? { socketPath }
        : viaPlain !== undefined
          ? { hostname: viaPlain.url.hostname.replace(/^\[|\]$/g, ''), port: viaPlain.url.port || 80 }
          : { hostname: upstream.hostname.replace(/^\[|\]$/g, ''), port: upstream.port }),
      method: req.method ?? 'GET',
      path: (viaPlain !== undefined ? upstream.origin : '') + upstreamPath(upstream, target),
      headers: viaPlain?.authorization !== undefined ? [...flat, 'proxy-authorization', viaPlain.authorization] : flat,
      // An upgraded socket leaves the pool; a fresh one keeps it out of the keep-alive accounting.
      agent: forUpgrade ? upgradeAgent : agent,
      ...(forUpgrade && secure ? { ...o.tls } : {}),
    });
    let connect: NodeJS.Timeout | undefined;
    let response: NodeJS.Timeout | undefined;
    let answered = false;
    const clear = (): void => {
      answered = true;
      clearTimeout(connect);
      clearTimeout(response);
    };
    up.once('socket', (s: Socket) => {
      if (!s.connecting) return;
      connect = setTimeout(() => up.destroy(new UpstreamError('connect-timeout')), connectMs);
      s.once('connect', () => clearTimeout(connect));
    });
    // The response deadline runs from the request fully sent (a slow upload is the idle deadline's business).
    up.once('finish', () => {
      if (!answered) response = setTimeout(() => up.destroy(new UpstreamError('response-timeout')), responseMs);
    });
    if (!forUpgrade) up.setTimeout(idleMs, () => up.destroy(new UpstreamError('idle-timeout')));
    up.once('response', clear);
    up.once('upgrade', clear);
    up.once('close', clear);
    return up;
  }

  function failed(edits: HeaderEdits, e: unknown, what: string): void {
    const code = e instanceof UpstreamError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'error');
    log.warn({ requestId: edits.requestId, upstream: upstream.host, code }, `${what}; answered 502`);
  }

  /** The engine's own answer, told to the caller's `onResponseHead` when it goes out. */
  function answer(req: IncomingMessage, res: ServerResponse, edits: HeaderEdits, reply: HttpReply): void {
    if (res.headersSent || res.destroyed) return;
    writeReply(res, reply, req.method);
    edits.onResponseHead?.(res.statusCode);
  }

  /** The target sent upstream (see `paths`), or undefined for a path to refuse. */
  function targetOf(req: IncomingMessage): string | undefined {
    const raw = req.url ?? '/';
    return o.paths === 'raw' ? raw : forwardTarget(raw);
  }

  function forward(req: IncomingMessage, res: ServerResponse, edits: HeaderEdits): void {
    const target = targetOf(req);
    if (target === undefined) {
      res.shouldKeepAlive = false;
      return answer(req, res, edits, BAD_PATH);
    }
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = req.headers['content-length'];
    const bodyless = !chunked && (length === undefined || length === '0');
    const retryable = bodyless && IDEMPOTENT_BODYLESS.has(req.method ?? '');
    const maxBody = o.maxRequestBodyBytes;
    if (maxBody !== undefined && !chunked && length !== undefined && Number(length) > maxBody) {
      // The body stays unread: the connection cannot be reused.
      res.shouldKeepAlive = false;
      return answer(req, res, edits, PAYLOAD_TOO_LARGE);
    }
    let current: ClientRequest | undefined;
    req.on('error', () => current?.destroy());
    res.on('close', () => {
      if (!res.writableFinished) current?.destroy();
    });

    const attempt = (retried: boolean): void => {
      let up: ClientRequest;
      try {
        up = open(req, target, headers(req, edits), false);
      } catch (e) {
        // A path Node will not send (unescaped characters) is the client's; a bad header value the decision's.
        const code = (e as NodeJS.ErrnoException).code;
        log.error({ requestId: edits.requestId, code }, 'request could not be expressed upstream');
        answer(req, res, edits, code === 'ERR_UNESCAPED_CHARACTERS' ? BAD_REQUEST : UNAVAILABLE);
        return;
      }
      current = up;
      let errored = false;
      up.on('error', (e: NodeJS.ErrnoException) => {
        if (current !== up || errored) return;
        errored = true;
        if (e instanceof UpstreamError && e.code === 'body-too-large') {
          res.shouldKeepAlive = false;
          if (res.headersSent) return void res.destroy();
          log.info({ requestId: edits.requestId, maxRequestBodyBytes: maxBody }, 'request body too large; answered 413');
          return answer(req, res, edits, PAYLOAD_TOO_LARGE);
        }
        // A kept-alive connection the upstream closed as we reused it: send a bodyless request once more.
        if (!retried && retryable && up.reusedSocket && e.code === 'ECONNRESET' && !res.destroyed && !res.headersSent) {
          attempt(true);
          return;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        failed(edits, e, 'upstream request failed');
        answer(req, res, edits, BAD_GATEWAY);
      });
      up.on('response', (upRes) => {
        if (res.destroyed) return void upRes.destroy();
        upRes.on('close', () => {
          if (!upRes.complete) res.destroy();
        });
        const status = upRes.statusCode ?? 502;
        try {
          res.writeHead(status, clientResponseHeaders(upRes.rawHeaders, edits, wireValue));
        } catch (e) {
          upRes.destroy();
          log.error({ requestId: edits.requestId, code: (e as NodeJS.ErrnoException).code }, 'invalid response header; answered 503');
          answer(req, res, edits, UNAVAILABLE);
          return;
        }
        edits.onResponseHead?.(status);
        if (o.flushStreamingHeads === true && upRes.headers['content-length'] === undefined) res.flushHeaders();
        upRes.pipe(res);
      });
      if (bodyless) up.end();
      else if (maxBody !== undefined && chunked) {
        let seen = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            if (seen > maxBody) done(new UpstreamError('body-too-large'));
            else done(null, chunk);
          },
        });
        limit.on('error', (e) => up.destroy(e));
        req.pipe(limit).pipe(up);
      } else req.pipe(up);
    };
    attempt(false);
  }

  function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, edits: HeaderEdits): void {
    const target = targetOf(req);
    if (target === undefined) {
      writeSocketReply(socket, BAD_PATH, req.method);
      edits.onResponseHead?.(400);
      return;
    }
    let up: ClientRequest;
    try {
      up = open(req, target, headers(req, edits, req.headers['upgrade'] ?? ''), true);
    } catch {
      writeSocketReply(socket, UNAVAILABLE, req.method);
      edits.onResponseHead?.(503);
      return;
    }
    const onClientGone = (): void => void up.destroy();
    socket.once('close', onClientGone);
    up.on('error', (e) => {
      if (socket.destroyed) return;
      failed(edits, e, 'upstream upgrade failed');
      writeSocketReply(socket, BAD_GATEWAY, req.method);
      edits.onResponseHead?.(502);
    });
    up.on('response', (upRes) => {
      // The upstream declined the upgrade: relay its answer, close-delimited, then close.
      const pairs = toPairs(clientResponseHeaders(upRes.rawHeaders, edits, wireValue)).filter(([n]) => n.toLowerCase() !== 'content-length');
      if (!writeSocketHead(socket, upRes.statusCode ?? 502, [...pairs, ['connection', 'close']])) return void upRes.destroy();
      edits.onResponseHead?.(upRes.statusCode ?? 502);
      upRes.pipe(socket);
    });
    up.on('upgrade', (upRes, upSocket: Socket, upHead) => {
      socket.off('close', onClientGone);
      upSocket.setTimeout(0);
      const pairs = toPairs(clientResponseHeaders(upRes.rawHeaders, edits, wireValue, true));
      const both = (): void => {
        tunnels.delete(socket);
        tunnels.delete(upSocket);
        socket.destroy();
        upSocket.destroy();
      };
      upSocket.on('error', both);
      upSocket.on('close', both);
      socket.on('error', both);
      socket.on('close', both);
      if (socket.destroyed || !writeSocketHead(socket, 101, pairs)) return both();
      edits.onResponseHead?.(101);
      tunnels.add(socket).add(upSocket);
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      upSocket.pipe(socket);
      socket.pipe(upSocket);
    });
    up.end();
  }

  return {
    upstream,
    forward,
    tunnel,
    upgradable(req) {
      const asked = upgradeProtocols(req.headers['upgrade']);
      return asked.length > 0 && asked.every((p) => protocols.has(p));
    },
    close() {
      for (const s of tunnels) s.destroy();
      tunnels.clear();
      agent.destroy();
      if (upgradeAgent !== false) upgradeAgent.destroy();
    },
  };
}
