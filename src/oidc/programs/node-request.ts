/**
 * The `JudgeRequest` a program form POST (`node:http`, `http.ts`) is looked up with: its headers
 * (the session cookie) and its peer. Only the session lookup reads it; nothing is judged on it.
 */
import type { IncomingMessage } from 'node:http';
import { joinHeaders } from '../../judge/node-request.js';
import type { JudgeRequest } from '../../judge/request.js';

export function requestOf(req: IncomingMessage): JudgeRequest {
  const headers = joinHeaders(req.headersDistinct);
  return {
    method: 'POST',
    scheme: 'http',
    host: (headers['host'] ?? '').toLowerCase(),
    path: req.url ?? '/',
    headers,
    peer: req.socket.remoteAddress ?? '',
    requestId: '',
    denyStyle: 'status-only',
    via: 'web',
  };
}
