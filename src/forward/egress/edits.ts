/**
 * What every egress path does to one exchange: the header edits that put `Authorization: Bearer
 * <token>` on the request (replacing whatever the client sent, in every spelling — jwtproxy
 * appended a second one), and the short 502/503 answer when no token can be had, in which case
 * nothing is proxied.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../obs/log.js';
import { FORWARDER_COOKIES, type HeaderEdits } from '../engine/hop.js';
import { writeReply, writeSocketReply, type HttpReply } from '../engine/reply.js';
import { TokenError } from './tokens/source.js';

/** The edits for one exchange: the bearer token set, `Proxy-Authorization` never forwarded (hop-by-hop anyway). */
export function bearerEdits(req: IncomingMessage, token: string, proto: 'http' | 'https', peer = req.socket.remoteAddress ?? ''): HeaderEdits {
  const rid = req.headers['x-request-id'];
  return {
    set: [['authorization', `Bearer ${token}`]],
    remove: ['proxy-authorization'],
    stripCookies: FORWARDER_COOKIES.names,
    stripCookiePrefixes: FORWARDER_COOKIES.prefixes,
    responseHeaders: [],
    requestId: typeof rid === 'string' && rid.length > 0 && rid.length <= 200 ? rid : randomUUID(),
    client: { peer, trusted: false, proto, host: req.headers.host ?? '' },
  };
}

/** 503 when the source is not ready (no active key, expired static token), 502 when the token service failed. */
export function tokenFailureReply(e: unknown): HttpReply {
  const t = e instanceof TokenError ? e : new TokenError('failed', 'the token source failed');
  const status = t.kind === 'unavailable' ? 503 : 502;
  return {
    status,
    headers: [['content-type', 'text/plain; charset=utf-8']],
    body: `${status === 503 ? 'Service unavailable' : 'Bad gateway'}: no token (${t.reason})\n`,
  };
}

/** Answers a request that could not get a token, and logs why (never the token). */
export function answerTokenFailure(res: ServerResponse | Duplex, method: string | undefined, e: unknown, log: Logger, audience: string): void {
  const reply = tokenFailureReply(e);
  log.warn(
    { audience, status: reply.status, reason: e instanceof TokenError ? e.reason : String((e as Error)?.message ?? e) },
    'no egress token; request not proxied',
  );
  if ('writeHead' in res) writeReply(res, reply, method);
  else writeSocketReply(res, reply, method);
}
