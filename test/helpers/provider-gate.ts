/**
 * A gate in front of a real OpenID Provider (test/helpers/op.ts), for tests that need checks to
 * wait at the provider: it proxies every request to the provider, rewriting the provider's own
 * origin to the gate's in the answers (so the gate's URL is the issuer the service discovers), and
 * — while `hold()` is on — keeps userinfo requests (`/me`, called on every check with
 * STRICT_SESSION_VALIDATION) waiting, each announced by a `held` event. `release()` answers them
 * with `{"sub": …}` for the session's subject (see test/helpers/seed.ts: access token
 * `opaque-access-token-of-<user>`, subject `sub-<user>`).
 */
import { EventEmitter, once } from 'node:events';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestOp } from './op.js';

export interface ProviderGate {
  /** The issuer to configure: `http://127.0.0.1:<gate port>`. */
  readonly issuer: string;
  /** Emits `held` (count) for each userinfo request kept waiting. */
  readonly events: EventEmitter;
  held(): number;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startProviderGate(op: TestOp): Promise<ProviderGate> {
  const events = new EventEmitter();
  const waiting: { res: ServerResponse; sub: string }[] = [];
  let holding = false;
  let issuer = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/me' && holding) {
      const token = (req.headers['authorization'] ?? '').replace(/^Bearer /i, '');
      waiting.push({ res, sub: `sub-${token.replace(/^opaque-access-token-of-/, '')}` });
      events.emit('held', waiting.length);
      return;
    }
    const up = request(
      { host: '127.0.0.1', port: op.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${op.port}` } },
      (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.from(Buffer.concat(chunks).toString('latin1').replaceAll(op.issuer, issuer), 'latin1');
          const headers = { ...upRes.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(upRes.statusCode ?? 502, headers).end(body);
        });
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    events,
    held: () => waiting.length,
    hold: () => void (holding = true),
    release() {
      holding = false;
      for (const w of waiting.splice(0)) {
        const body = JSON.stringify({ sub: w.sub });
        w.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
