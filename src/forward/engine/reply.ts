/**
 * The answers the forwarder writes itself (a deny, 400, 404, 502, 503): on a `ServerResponse`, or
 * for upgrade requests straight onto the socket, where no `ServerResponse` exists. Header values
 * go out as UTF-8 bytes (`wireValue`); an invalid header turns the answer into a 503 (fail closed).
 */
import { STATUS_CODES, validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderPair } from '../../judge/decision.js';
import type { HttpReply } from '../../judge/reply.js';
import { wireValue } from '../../net/wire.js';

export type { HttpReply };

const TEXT: HeaderPair = ['content-type', 'text/plain; charset=utf-8'];
const plain = (status: number, body: string): HttpReply => ({ status, headers: [TEXT], body });

export const BAD_REQUEST = plain(400, 'Bad request');
/** A path no forwarder sends upstream (target.ts): an escaped `/` `\\` `%` `;`, a control character, a bad escape. */
export const BAD_PATH = plain(400, 'Bad request: ambiguous path');
export const NOT_FOUND = plain(404, 'Not found');
export const PAYLOAD_TOO_LARGE = plain(413, 'Payload too large');
export const BAD_GATEWAY = plain(502, 'Bad gateway');
export const UNAVAILABLE = plain(503, 'Service unavailable');

function bodyAllowed(status: number, method: string | undefined): boolean {
  return status !== 204 && status !== 304 && method !== 'HEAD';
}

/** Writes `reply` unless a response was already started. */
export function writeReply(res: ServerResponse, reply: HttpReply, method: string | undefined): void {
  if (res.headersSent || res.destroyed) return;
  const flat: string[] = [];
  for (const [name, value] of reply.headers) flat.push(name, wireValue(value));
  const withBody = bodyAllowed(reply.status, method);
  if (withBody) flat.push('content-length', String(Buffer.byteLength(reply.body)));
  try {
    res.writeHead(reply.status, flat);
  } catch {
    if (reply !== UNAVAILABLE) writeReply(res, UNAVAILABLE, method);
    else res.destroy();
    return;
  }
  res.end(withBody ? reply.body : undefined);
}

/**
 * Writes a response head onto a raw socket. Values must already be wire values (Latin-1 strings).
 * Returns false, writing nothing, when a name or value is not a valid header.
 */
export function writeSocketHead(socket: Duplex, status: number, headers: readonly HeaderPair[]): boolean {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  try {
    for (const [name, value] of headers) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
      head += `${name}: ${value}\r\n`;
    }
  } catch {
    return false;
  }
  socket.write(Buffer.from(head + '\r\n', 'latin1'));
  return true;
}

/** Writes `reply` as a complete response on a raw socket, then closes it. */
export function writeSocketReply(socket: Duplex, reply: HttpReply, method: string | undefined): void {
  if (socket.destroyed || !socket.writable) return;
  const withBody = bodyAllowed(reply.status, method);
  const body = withBody ? Buffer.from(reply.body, 'utf8') : Buffer.alloc(0);
  const headers: HeaderPair[] = reply.headers.map(([n, v]) => [n, wireValue(v)]);
  if (withBody) headers.push(['content-length', String(body.length)]);
  headers.push(['connection', 'close']);
  if (!writeSocketHead(socket, reply.status, headers)) {
    if (reply !== UNAVAILABLE) writeSocketReply(socket, UNAVAILABLE, method);
    else socket.destroy();
    return;
  }
  socket.end(body);
}
