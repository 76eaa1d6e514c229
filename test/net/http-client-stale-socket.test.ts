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

describe('HttpClient retires idle connections before the server closes them', () => {
  /**
   * Regression: the login callback's token POST went out on a connection the provider was just
   * closing (idle for its 5 s keep-alive) and the user got a 503. Idle connections are now closed
   * by the client first (`idleSocketMs`, and a second before the server's `Keep-Alive` hint), so
   * the next POST opens a new one. The test waits for the client to close the idle connection.
   */
  const perSocket = new WeakMap<Socket, number>();
  const closed: Promise<void>[] = [];
  let answered = 0;
  const server: Server = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n > 1) return void req.socket.destroy(); // a reused connection meets a server closing it
    answered++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: Socket) => closed.push(new Promise<void>((resolve) => socket.on('close', () => resolve()))));
  let base: string;
  const http = new HttpClient({ timeoutMs: 5000, idleSocketMs: 50 });

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

  test('a POST after an idle period goes out on a new connection and is answered', async () => {
    await http.getJson(`${base}/jwks`);
    assert.equal(closed.length, 1);
    await closed[0]; // the client closed its idle connection
    const res = await http.request(`${base}/token`, { method: 'POST', body: 'grant_type=authorization_code' });
    assert.equal(res.status, 200);
    assert.equal(answered, 2);
  });
});
