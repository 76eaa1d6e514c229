/**
 * A Microsoft Graph double on 127.0.0.1 (Graph cannot run here), speaking Graph's wire shapes for
 * `GET /v1.0/me/transitiveMemberOf`: `{"@odata.context", "value": [{"@odata.type":
 * "#microsoft.graph.group", "id", "displayName"}], "@odata.nextLink"}` pages (absolute links with a
 * `$skiptoken`, `$top` honoured up to 999, default page 100), directory roles mixed in as Graph
 * does; errors as `{"error": {"code", "message", "innerError": {"date", "request-id",
 * "client-request-id"}}}` — 401 `InvalidAuthenticationToken` for a missing token or one not
 * meant for Graph, 429 `TooManyRequests` and 503 `serviceNotAvailable` with `Retry-After`.
 * The caller is whoever the access token's `sub` names (read unverified: it is a double; the
 * audience is checked, as Graph does).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GraphGroup {
  readonly id: string;
  readonly displayName: string;
}

export interface GraphDouble {
  readonly url: string;
  /** Each request: method, path with query, and whether it carried a bearer token. */
  readonly requests: { method: string; url: string; bearer: boolean }[];
  /** `sub` → the user's groups. */
  readonly members: Map<string, readonly GraphGroup[]>;
  /** `ok`, or answer every request with this failure. */
  mode: 'ok' | 'down' | 'throttled';
  /** Retry-After seconds sent with 429 and 503. */
  retryAfter: number;
  /** Default page size (Graph's is 100). */
  pageSize: number;
  /** Page links point here instead (a hostile or broken next link). */
  nextLinkBase: string | undefined;
  close(): Promise<void>;
}

export interface GraphOptions {
  /** The `aud` Graph accepts (default Graph's resource URI and app id). */
  readonly audiences?: readonly string[];
}

export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];

function payloadOf(token: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = { error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } };
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export async function startGraph(opts: GraphOptions = {}): Promise<GraphDouble> {
  const audiences = opts.audiences ?? GRAPH_AUDIENCES;
  const state = {
    requests: [] as GraphDouble['requests'],
    members: new Map<string, readonly GraphGroup[]>(),
    mode: 'ok' as GraphDouble['mode'],
    retryAfter: 7,
    pageSize: 100,
    nextLinkBase: undefined as string | undefined,
  };
  let url = '';
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    state.requests.push({ method: req.method ?? '', url: req.url ?? '', bearer: token !== undefined });
    const u = new URL(req.url ?? '/', url);
    if (u.pathname !== '/v1.0/me/transitiveMemberOf' || req.method !== 'GET') {
      return error(res, 400, 'BadRequest', `Resource not found for the segment '${u.pathname.split('/').pop()}'.`);
    }
    if (state.mode === 'down') return error(res, 503, 'serviceNotAvailable', 'Service unavailable', { 'retry-after': String(state.retryAfter) });
    if (state.mode === 'throttled') {
      return error(res, 429, 'TooManyRequests', 'Too many requests are being made.', { 'retry-after': String(state.retryAfter) });
    }
    if (token === undefined) return error(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const claims = payloadOf(token);
    if (claims === undefined) return error(res, 401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).');
    const aud = Array.isArray(claims['aud']) ? claims['aud'] : [claims['aud']];
    if (!aud.some((a) => audiences.includes(String(a))))
      return error(res, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    const groups = state.members.get(String(claims['sub'])) ?? [];
    const top = Math.min(999, Number(u.searchParams.get('$top') ?? state.pageSize) || state.pageSize, state.pageSize);
    const skip = Number(u.searchParams.get('$skiptoken') ?? '0');
    const slice = groups.slice(skip, skip + top);
    // Graph mixes directory roles into transitiveMemberOf: one on the first page.
    const value: unknown[] = slice.map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName }));
    if (skip === 0) value.unshift({ '@odata.type': '#microsoft.graph.directoryRole', id: 'role-0001', displayName: 'Global Reader' });
    const body: Record<string, unknown> = { '@odata.context': `${url}/v1.0/$metadata#directoryObjects(id,displayName)`, value };
    if (skip + top < groups.length) {
      const next = new URL('/v1.0/me/transitiveMemberOf', state.nextLinkBase ?? url);
      next.search = `$select=id,displayName&$top=${top}&$skiptoken=${skip + top}`;
      body['@odata.nextLink'] = next.href;
    }
    res.writeHead(200, { 'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8' });
    res.end(JSON.stringify(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

/** `n` groups with Entra-like object ids. */
export function manyGroups(n: number, prefix = 'team'): GraphGroup[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`, displayName: `${prefix}-${i}` }));
}
