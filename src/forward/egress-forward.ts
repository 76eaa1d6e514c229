/**
 * Forward-proxy operation of the egress forwarder (jwtproxy's signer): a client configured with
 * this service as its HTTP proxy sends absolute-URI requests (`GET http://host:port/path`); each is
 * given a token for `aud` = the target's origin (`scheme://host[:port]`, default port left out)
 * and proxied to that target. Origin-form requests are not ours: 400 (jwtproxy: 500). HTTPS goes
 * through CONNECT (connect.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../obs/log.js';
import { answerTokenFailure, bearerEdits } from './egress-edits.js';
import type { EnginePool } from './egress-engines.js';
import { BAD_REQUEST, writeReply, type HttpReply } from './reply.js';
import type { TokenSource } from './signer.js';

const ORIGIN_FORM: HttpReply = {
  status: 400,
  headers: [['content-type', 'text/plain; charset=utf-8']],
  body: 'This is a forward proxy: send absolute-URI requests (http://host/path) or CONNECT.\n',
};

/** The target of an absolute-URI request: its origin and the path+query to send (raw, fragment dropped). */
export function absoluteTarget(target: string): { origin: string; path: string } | undefined {
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
  return { origin: url.origin, path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}` };
}

export interface ForwardProxyDeps {
  readonly source: TokenSource;
  readonly pool: EnginePool;
  readonly log: Logger;
}

export function forwardProxyHandler(d: ForwardProxyDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const raw = req.url ?? '';
    if (raw.startsWith('/')) return writeReply(res, ORIGIN_FORM, req.method);
    const target = absoluteTarget(raw);
    if (target === undefined) return writeReply(res, BAD_REQUEST, req.method);
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
