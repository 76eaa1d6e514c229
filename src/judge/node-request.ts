/**
 * One way to read a Node HTTP request in the judge's terms, shared by every door that receives
 * one — the HTTP front door, the web server and the ingress forwarder — so they cannot disagree:
 * the header record (lower-case names, repeats joined, the strip list's CLEAN mark), the request
 * id (the caller's `x-request-id` when it is short and printable, else a new one; the gRPC door
 * uses the same rule), and the scheme (a trusted proxy's `X-Forwarded-Proto`, else the socket's
 * TLS, else http).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TrustMatcher } from '../net/cidr.js';
import type { DenyStyle, JudgeRequest, Via } from './request.js';
import { candidate, CLEAN } from './strip.js';

/** Longest `x-request-id` taken from a caller (Envoy's are 36 characters); longer ones are replaced. */
export const MAX_REQUEST_ID = 200;
const REQUEST_ID = /^[\x21-\x7e]+$/;

/** The caller's request id when it is 1–200 visible ASCII characters (it goes into every log line), else `newId()`. */
export function requestIdOf(value: string | undefined, newId: () => string): string {
  return value !== undefined && value.length > 0 && value.length <= MAX_REQUEST_ID && REQUEST_ID.test(value) ? value : newId();
}

/**
 * `rawHeaders` as a prototype-less record with lower-case names, repeated headers joined with `, `
 * (`cookie` with `; `) — the same record `joinHeaders(req.headersDistinct)` gives, in one pass and
 * without Node building `headersDistinct` first. Returns how many `Host` headers there were.
 */
export function joinRawHeaders(raw: readonly string[], out: Record<string, string>): number {
  let hosts = 0;
  let clean = true;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'host') hosts++;
    const prev = out[name];
    out[name] = prev === undefined ? value : prev + (name === 'cookie' ? '; ' : ', ') + value;
    if (clean && candidate(name)) clean = false;
  }
  if (clean) (out as Record<symbol, unknown>)[CLEAN] = true;
  return hosts;
}

/** Joins repeated headers with `, ` (`cookie` with `; `) into a prototype-less record. */
export function joinHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let clean = true;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    out[name] = typeof v === 'string' ? v : v.join(name === 'cookie' ? '; ' : ', ');
    if (clean && candidate(name)) clean = false;
  }
  if (clean) (out as Record<symbol, unknown>)[CLEAN] = true;
  return out;
}

/** The first entry of a comma-separated `X-Forwarded-Proto` as `http`/`https`, else `undefined`. */
export function forwardedProto(value: string | undefined): 'http' | 'https' | undefined {
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const s = (comma < 0 ? value : value.slice(0, comma)).trim().toLowerCase();
  return s === 'http' || s === 'https' ? s : undefined;
}

/**
 * The scheme the client used: what a trusted proxy says in `X-Forwarded-Proto` (it spoke to the
 * client; a proxy that re-encrypts towards us still knows the client came over plain http), else
 * `https` on a TLS socket, else `http`.
 */
export function schemeOf(headers: Readonly<Record<string, string>>, trusted: boolean, tls: boolean): 'http' | 'https' {
  return (trusted ? forwardedProto(headers['x-forwarded-proto']) : undefined) ?? (tls ? 'https' : 'http');
}

export interface NodeRequestOptions {
  readonly trust: TrustMatcher;
  readonly newId: () => string;
  readonly via: Via;
  readonly denyStyle: DenyStyle;
  /** The target judged, when the caller rewrote it (the forwarder's canonical path); else `req.url`. */
  readonly path?: string;
}

/** The JudgeRequest of a Node request, and whether its peer is a trusted proxy. */
export function judgeRequestOf(req: IncomingMessage & { originalUrl?: string }, o: NodeRequestOptions): { request: JudgeRequest; trusted: boolean } {
  const headers = joinHeaders(req.headersDistinct);
  const peer = req.socket.remoteAddress ?? '';
  const trusted = o.trust.trusts(peer);
  const request: JudgeRequest = {
    method: (req.method ?? 'GET').toUpperCase(),
    scheme: schemeOf(headers, trusted, (req.socket as Partial<TLSSocket>).encrypted === true),
    host: (headers['host'] ?? '').toLowerCase(),
    path: o.path ?? req.originalUrl ?? req.url ?? '/',
    headers,
    peer,
    requestId: requestIdOf(headers['x-request-id'], o.newId),
    denyStyle: o.denyStyle,
    via: o.via,
  };
  return { request, trusted };
}
