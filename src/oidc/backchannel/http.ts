/**
 * The back-channel logout endpoint on `node:http` listeners: reads the (small, bounded) form body
 * of a `POST` to one of `paths` and writes the handler's reply. Used as a route in front of the
 * web server and the forwarder's pages (success 200), and on the judge's HTTP port (success 204).
 *
 * Why 204 on the judge port: there a 200 means "allow" to an Envoy `http_service` check, which
 * would send the request on to the web server a second time, where the `jti` is a replay. 204 is a
 * denial Envoy passes back verbatim, and §2.8 tells providers to accept it as success. A POST
 * without a body on the judge port is an ext_authz check that carries none: it is judged as usual
 * (the prefix is skipped), so the proxy forwards the real request to the web server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackchannelLogout, BackchannelReply } from './backchannel.js';

export interface BackchannelRouteOptions {
  /** Exact request paths answered (without a trailing slash; the query is ignored). */
  readonly paths: Iterable<string>;
  /** Status of a successful logout: 200 (default) or 204 (the judge's check port). */
  readonly successStatus?: 200 | 204;
  /** Let POSTs without a body fall through (the judge's check port). */
  readonly bodyRequired?: boolean;
  /** Largest body read (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Longest wait for the whole body (default 10 000 ms). */
  readonly bodyTimeoutMs?: number;
}

/** A `node:http` route: true when it took the request (and answers it). */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length.trim() !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function write(res: ServerResponse, reply: BackchannelReply): void {
  if (res.headersSent || res.destroyed) return;
  const flat: string[] = [];
  for (const [name, value] of reply.headers) flat.push(name, value);
  if (reply.status !== 204) flat.push('content-length', String(Buffer.byteLength(reply.body)));
  res.writeHead(reply.status, flat);
  res.end(reply.status === 204 ? undefined : reply.body);
}

const tooLarge: BackchannelReply = {
  status: 400,
  headers: [
    ['content-type', 'application/json'],
    ['cache-control', 'no-store'],
    ['connection', 'close'],
  ],
  body: JSON.stringify({ error: 'invalid_request', error_description: 'request body too large or too slow' }),
};

const unavailable: BackchannelReply = {
  status: 503,
  headers: [
    ['content-type', 'application/json'],
    ['cache-control', 'no-store'],
  ],
  body: JSON.stringify({ error: 'temporarily_unavailable' }),
};

export function backchannelRoute(handler: BackchannelLogout, opts: BackchannelRouteOptions): HttpRoute {
  const paths = new Set([...opts.paths].map(trimSlash));
  const max = opts.maxBodyBytes ?? 64 * 1024;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (!paths.has(trimSlash(q < 0 ? url : url.slice(0, q)))) return false;
    if (opts.bodyRequired && !hasBody(req)) return false;

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      write(res, tooLarge);
      req.destroy();
    };
    const timer = setTimeout(fail, opts.bodyTimeoutMs ?? 10_000);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) fail();
      else chunks.push(chunk);
    });
    req.on('error', fail);
    req.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      handler(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']).then(
        (reply) => write(res, reply.status === 200 && opts.successStatus === 204 ? { ...reply, status: 204 } : reply),
        () => write(res, unavailable),
      );
    });
    return true;
  };
}

/** A request listener that tries `route` first and hands everything else to `next` (e.g. the Express pages). */
export function withRoute(route: HttpRoute, next: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (!route(req, res)) next(req, res);
  };
}
