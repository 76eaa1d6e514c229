/**
 * Translates between the web server's Express requests/responses and the judge's types: a
 * `JudgeRequest` for the service's own routes (login callback, logout), and a `Deny` written back.
 * `X-Forwarded-Proto` is believed only from a trusted proxy (TRUSTED_PROXIES).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TrustMatcher } from '../net/cidr.js';
import type { Deny } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { joinHeaders } from '../judge/http/map.js';

/** Builds the JudgeRequest for a web request; `path` is the original target, prefix included. */
export function judgeRequestOf(req: IncomingMessage & { originalUrl?: string }, trust: TrustMatcher, newId: () => string): JudgeRequest {
  const headers = joinHeaders(req.headersDistinct);
  const peer = req.socket.remoteAddress ?? '';
  const forwarded = trust.trusts(peer) ? headers['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase() : undefined;
  const scheme = forwarded === 'http' || forwarded === 'https' ? forwarded : (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
  const rid = headers['x-request-id'];
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    scheme,
    host: (headers['host'] ?? '').toLowerCase(),
    path: req.originalUrl ?? req.url ?? '/',
    headers,
    peer,
    requestId: rid !== undefined && rid.length > 0 && rid.length <= 200 ? rid : newId(),
    denyStyle: 'redirect',
    via: 'web',
  };
}

/** Writes a Deny as it is: status, every header (repeated ones kept, e.g. `set-cookie`), body. */
export function writeDeny(res: ServerResponse, d: Deny): void {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of d.headers) {
    const list = grouped.get(name);
    if (list === undefined) grouped.set(name, [value]);
    else list.push(value);
  }
  res.statusCode = d.status;
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.setHeader('content-length', Buffer.byteLength(d.body));
  res.end(d.body);
}
