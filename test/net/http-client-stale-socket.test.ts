/**
 * Regression: a kept-alive connection the provider closed just as the client reused it failed the
 * JWKS refetch ("socket hang up"), so a token signed with a freshly rotated key got a 401 until the
 * next refetch was allowed. GET/HEAD are now sent once more on a new connection; other methods are not.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HttpClient, HttpClientError } from '../../src/net/http-client.js';

describe('HttpClient on a reused connection the server has closed', () => {
  /** Answers the first request of each connection; drops the connection on the second without a word. */
  const perSocket = new WeakMap<Socket, number>();
  let connections = 0;
  let answered = 0;
  const server: Server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n > 1) return void req.socket.destroy();
    answered++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.on('connection', () => connections++);
  let base: string;
  const http = new HttpClient({ timeoutMs: 2000 });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    http.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  test('a GET is retried once on a new connection', async () => {
    assert.deepEqual((await http.getJson(`${base}/a`)).json, { ok: true });
    assert.deepEqual((await http.getJson(`${base}/b`)).json, { ok: true });
    assert.equal(answered, 2);
    assert.equal(connections, 2);
  });

  test('a POST is not retried', async () => {
    await http.getJson(`${base}/c`);
    const before = answered;
    await assert.rejects(http.request(`${base}/token`, { method: 'POST', body: 'x=1' }), (e) => e instanceof HttpClientError && e.code === 'network');
    assert.equal(answered, before);
  });
});
