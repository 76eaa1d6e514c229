/**
 * A small real upstream for forwarder tests, on 127.0.0.1 and port 0. By path:
 *   /hold…   records the request and never answers (until the client side goes away)
 *   /drip    sends a head and `first`, then `last` once `release()` is called
 *   /hop     answers with hop-by-hop headers, a Connection-listed header and two Set-Cookie
 *   else     echoes method, url, headers (lower-case names, every value) and body as JSON
 * Upgrades answer 101 and echo every byte back, except `/refuse…` (403) and `/drop…` (closed).
 * Header values are Latin-1 strings as Node reads them: `utf8()` turns them back into UTF-8 text.
 */
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string[]>;
  readonly body: string;
  readonly bodyBytes: number;
  readonly bodySha256: string;
}

export interface SeenUpgrade {
  readonly url: string;
  readonly headers: Record<string, string[]>;
}

export interface Upstream {
  readonly port: number;
  readonly url: string;
  /** Every request's head, in arrival order (upgrades too). */
  readonly heads: { url: string; method: string }[];
  readonly upgrades: SeenUpgrade[];
  /** TCP connections accepted so far. */
  connections(): number;
  /**
   * Events: `held` (req) for /hold; `held-closed` (url) once its client side closed; `body-data`
   * (url, bytes so far) on each body chunk; `dripping` when /drip sent `first`.
   */
  readonly events: EventEmitter;
  /** Ends the /drip responses. */
  release(): void;
  close(): Promise<void>;
}

/** A Latin-1 header value (as Node gives it) read as the UTF-8 it carries. */
export function utf8(latin1: string | undefined): string | undefined {
  return latin1 === undefined ? undefined : Buffer.from(latin1, 'latin1').toString('utf8');
}

function headersOf(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined) out[k] = v;
  return out;
}

export async function startUpstream(): Promise<Upstream> {
  const events = new EventEmitter();
  const heads: { url: string; method: string }[] = [];
  const upgrades: SeenUpgrade[] = [];
  const drips: ServerResponse[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = req.url ?? '';
    heads.push({ url, method: req.method ?? '' });
    if (url.startsWith('/hold')) {
      req.socket.once('close', () => events.emit('held-closed', url));
      events.emit('held', req);
      return;
    }
    if (url === '/drip') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      drips.push(res);
      events.emit('dripping');
      return;
    }
    if (url === '/hop') {
      res.writeHead(200, [
        'connection',
        'x-listed, keep-alive',
        'keep-alive',
        'timeout=5',
        'x-listed',
        'must go',
        'proxy-authenticate',
        'Basic',
        'trailer',
        'x-t',
        'x-kept',
        'yes',
        'set-cookie',
        'a=1; Path=/',
        'set-cookie',
        'b=2; Path=/',
      ]);
      res.end('hop');
      return;
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
      if (bytes <= 1 << 20) chunks.push(c);
      events.emit('body-data', url, bytes);
    });
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        url,
        headers: headersOf(req),
        body: bytes <= 1 << 20 ? Buffer.concat(chunks).toString('utf8') : '',
        bodyBytes: bytes,
        bodySha256: hash.digest('hex'),
      };
      const body = JSON.stringify(echo);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = req.url ?? '';
    heads.push({ url, method: req.method ?? '' });
    upgrades.push({ url, headers: headersOf(req) });
    if (url.startsWith('/refuse')) return void socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nnope');
    if (url.startsWith('/drop')) return void socket.destroy();
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nkeep-alive: timeout=5\r\nx-upstream: ws\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
    socket.on('error', () => socket.destroy());
  });

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    heads,
    upgrades,
    connections: () => connections,
    events,
    release() {
      for (const r of drips.splice(0)) r.end('last');
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
