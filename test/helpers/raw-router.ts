/**
 * An upstream that routes like real apps do, for the "judged path = forwarded path" tests (issue
 * 14): on the RAW request path, without resolving `.`/`..` or decoding escapes first, and
 * case-insensitively — Express's default router (`app.use('/admin', …)` matches `/admin`,
 * `/ADMIN/x`, `/admin/../` and `/admin/%2e%2e/` alike). It answers JSON `{ route, url }` where
 * `route` is `admin` for a path under `/admin` and `other` for anything else, and records every
 * raw target it received.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RawRouted {
  readonly route: 'admin' | 'other';
  readonly url: string;
}

export interface RawRouter {
  readonly port: number;
  readonly url: string;
  /** Every raw request target received, in order. */
  readonly received: string[];
  close(): Promise<void>;
}

/** Express's prefix match for a mount path: the path starts with it (any case), then `/` or the end. */
export function routeOf(rawTarget: string): RawRouted['route'] {
  const q = rawTarget.indexOf('?');
  const path = (q < 0 ? rawTarget : rawTarget.slice(0, q)).toLowerCase();
  return /^\/admin(?:\/|$)/.test(path) ? 'admin' : 'other';
}

export async function startRawRouter(): Promise<RawRouter> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    received.push(url);
    const body = JSON.stringify({ route: routeOf(url), url } satisfies RawRouted);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
