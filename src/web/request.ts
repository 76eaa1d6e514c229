/**
 * Translates between the web server's Express requests/responses and the judge's types: a
 * `JudgeRequest` for the service's own routes (login callback, logout), and a `Deny` written back.
 * `X-Forwarded-Proto` is believed only from a trusted proxy (TRUSTED_PROXIES).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TrustMatcher } from '../net/cidr.js';
import type { Deny } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { judgeRequestOf as nodeRequest } from '../judge/node-request.js';

/** Builds the JudgeRequest for a web request; `path` is the original target, prefix included. */
export function judgeRequestOf(req: IncomingMessage & { originalUrl?: string }, trust: TrustMatcher, newId: () => string): JudgeRequest {
  return nodeRequest(req, { trust, newId, via: 'web', denyStyle: 'redirect' }).request;
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
