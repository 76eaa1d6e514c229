/**
 * The program endpoints that read a form body (`POST <prefix>/api/token`, `/api/revoke`,
 * `/api/device`, the device approval): `node:http` routes in front of the web server's pages, as
 * the back-channel logout receiver is (checks carry no body). Bodies are small and bounded; every
 * answer is `no-store` JSON (or a page), written whole.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderPair } from '../../judge/decision.js';
import type { HttpRoute } from '../backchannel/http.js';

export interface FormReply {
  readonly status: number;
  readonly headers: readonly HeaderPair[];
  readonly body: string;
}

/** A handler of one path: the form fields, and the request (headers, peer) they came with. */
export type FormHandler = (form: URLSearchParams, req: IncomingMessage) => Promise<FormReply>;

const MAX_BODY = 16 * 1024;
const BODY_TIMEOUT_MS = 10_000;
const JSON_HEADERS: readonly HeaderPair[] = [
  ['content-type', 'application/json'],
  ['cache-control', 'no-store'],
  ['pragma', 'no-cache'],
];

/** An OAuth JSON answer (RFC 6749 §5.1, §5.2). */
export function jsonReply(status: number, body: Record<string, unknown>, more: readonly HeaderPair[] = []): FormReply {
  return { status, headers: [...JSON_HEADERS, ...more], body: JSON.stringify(body) };
}

/** An OAuth error answer (RFC 6749 §5.2). */
export function oauthError(status: number, error: string, description?: string): FormReply {
  return jsonReply(status, { error, ...(description !== undefined ? { error_description: description } : {}) });
}

function write(res: ServerResponse, reply: FormReply): void {
  if (res.headersSent || res.destroyed) return;
  const flat: string[] = [];
  for (const [name, value] of reply.headers) flat.push(name, value);
  flat.push('content-length', String(Buffer.byteLength(reply.body)));
  res.writeHead(reply.status, flat);
  res.end(reply.body);
}

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** A route answering `POST` to each path of `handlers` with its handler; anything else is not its. */
export function formRoute(handlers: ReadonlyMap<string, FormHandler>): HttpRoute {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const handler = handlers.get(trimSlash(q < 0 ? url : url.slice(0, q)));
    if (handler === undefined) return false;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (reply: FormReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      write(res, reply);
    };
    const timer = setTimeout(() => {
      finish(oauthError(400, 'invalid_request', 'request body too slow'));
      req.destroy();
    }, BODY_TIMEOUT_MS);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        finish(oauthError(400, 'invalid_request', 'request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('error', () => finish(oauthError(400, 'invalid_request')));
    req.on('end', () => {
      if (done) return;
      if (type !== 'application/x-www-form-urlencoded') return finish(oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded'));
      handler(new URLSearchParams(Buffer.concat(chunks).toString('utf8')), req).then(finish, () => finish(oauthError(503, 'temporarily_unavailable')));
    });
    return true;
  };
}
