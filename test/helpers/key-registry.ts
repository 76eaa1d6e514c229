/**
 * A jwtproxy key-registry double on 127.0.0.1 (port 0): `GET /services/<iss>/keys/<kid>` answers
 * what the test set for that pair (200 with the JWK and an optional `Cache-Control: max-age`, or any
 * other status with a body carrying internal detail that must never reach a client), 404 for
 * unknown pairs. Every lookup is counted, with the path segments decoded.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RegistryEntry = { readonly status: 200; readonly jwk: Record<string, unknown>; readonly maxAge?: number } | { readonly status: number };

export interface KeyRegistryDouble {
  readonly url: string;
  set(iss: string, kid: string, entry: RegistryEntry): void;
  /** Lookups of (iss, kid) so far. */
  hits(iss: string, kid: string): number;
  /** Every path requested, raw. */
  readonly paths: string[];
  close(): Promise<void>;
}

export const REGISTRY_SECRET_DETAIL = 'internal-registry-detail-7f3a';

export async function startKeyRegistry(): Promise<KeyRegistryDouble> {
  const entries = new Map<string, RegistryEntry>();
  const hits = new Map<string, number>();
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    paths.push(url);
    const m = /^\/services\/([^/]+)\/keys\/([^/?]+)$/.exec(url);
    if (req.method !== 'GET' || m === null) return void res.writeHead(404).end();
    const id = `${decodeURIComponent(m[1]!)}\0${decodeURIComponent(m[2]!)}`;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    const e = entries.get(id);
    if (e === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown key');
    if ('jwk' in e) {
      const body = JSON.stringify(e.jwk);
      res.writeHead(200, { 'content-type': 'application/json', ...(e.maxAge !== undefined ? { 'cache-control': `max-age=${e.maxAge}` } : {}) });
      return void res.end(body);
    }
    res.writeHead(e.status, { 'content-type': 'text/plain' }).end(`registry failure: ${REGISTRY_SECRET_DETAIL}`);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    set: (iss, kid, entry) => void entries.set(`${iss}\0${kid}`, entry),
    hits: (iss, kid) => hits.get(`${iss}\0${kid}`) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
