/**
 * Forward-proxy operation of the egress forwarder (jwtproxy's signer): a client configured with
 * this service as its HTTP proxy sends absolute-URI requests (`GET http://host:port/path`); each is
 * given a token for `aud` = the target's origin (`scheme://host[:port]`, default port left out)
 * and proxied to that target. Origin-form requests are not ours: 400 (jwtproxy: 500). HTTPS goes
 * through CONNECT (connect.ts). With `allowHosts`, a target not on it gets 403 (allow-hosts.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../obs/log.js';
import { answerTokenFailure, bearerEdits } from './edits.js';
import type { EnginePool } from './engines.js';
import type { HostAllowList } from './allow-hosts.js';
import { BAD_REQUEST, writeReply, type HttpReply } from '../engine/reply.js';
import type { TokenSource } from './tokens/source.js';

const ORIGIN_FORM: HttpReply = {
  status: 400,
  headers: [['content-type', 'text/plain; charset=utf-8']],
  body: 'This is a forward proxy: send absolute-URI requests (http://host/path) or CONNECT.\n',
};

export const HOST_NOT_ALLOWED: HttpReply = {
  status: 403,
  headers: [['content-type', 'text/plain; charset=utf-8']],
  body: 'This proxy does not forward to that host (allowHosts).\n',
};

/** The target of an absolute-URI request: its origin and the path+query to send (raw, fragment dropped). */
export function absoluteTarget(target: string): { origin: string; path: string; hostname: string; port: number } | undefined {
  const m = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(target);
  if (m === null) return undefined;
  let url: URL;
  try {
    url = new URL(`${m[1]!.toLowerCase()}://${m[2]!}/`);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '') return undefined;
  const rest = m[3]!;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { origin: url.origin, path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`, hostname: url.hostname, port };
}

export interface ForwardProxyDeps {
  readonly source: TokenSource;
  readonly pool: EnginePool;
  readonly log: Logger;
  /** `allowHosts`; absent: every host. */
  readonly allow?: HostAllowList;
}

export function forwardProxyHandler(d: ForwardProxyDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const raw = req.url ?? '';
    if (raw.startsWith('/')) return writeReply(res, ORIGIN_FORM, req.method);
    const target = absoluteTarget(raw);
    if (target === undefined) return writeReply(res, BAD_REQUEST, req.method);
    if (d.allow !== undefined && !d.allow(target.hostname, target.port)) {
      d.log.info({ host: target.hostname, port: target.port }, 'egress: destination not in allowHosts (403)');
      return writeReply(res, HOST_NOT_ALLOWED, req.method);
    }
    d.source.token(target.origin).then(
      (token) => {
        if (res.destroyed) return;
        req.url = target.path;
        d.pool.get(target.origin).forward(req, res, bearerEdits(req, token, 'http'));
      },
      (e: unknown) => answerTokenFailure(res, req.method, e, d.log, target.origin),
    );
  };
}
