import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Decision } from '../../../src/judge/decision.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';
import type { Echo } from '../../helpers/upstream.js';
import { rawExchange, startIngress } from '../ingress/harness.js';

const allow: Decision = { kind: 'allow', upstreamHeaders: [['kubeflow-userid', 'alice']], removeHeaders: [], responseHeaders: [], reason: 'authenticated' };
const judge = async (): Promise<Decision> => allow;
const echoOf = (body: string): Echo => JSON.parse(body) as Echo;

/** Starts a request to the ingress and resolves with the response (body not read). */
function respond(req: ReturnType<typeof request>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

describe('forwarding engine: bodies', () => {
  it('delivers a 5 MB POST body intact', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge });
    const body = randomBytes(5 * 1024 * 1024);
    const req = request({
      host: '127.0.0.1',
      port: h.port,
      method: 'POST',
      path: '/upload',
      headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
    });
    const res = respond(req);
    req.end(body);
    const e = echoOf(await readAll(await res));
    assert.equal(e.bodyBytes, body.length);
    assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.deepEqual(e.headers['content-length'], [String(body.length)]);
  });

  it('streams a request body: the upstream reads the first chunk before the client has sent the rest', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge });
    const req = request({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/stream' });
    const res = respond(req);
    const first = once(h.upstream.events, 'body-data');
    req.write('part one;');
    await first;
    req.end('part two');
    const e = echoOf(await readAll(await res));
    assert.equal(e.body, 'part one;part two');
    assert.deepEqual(e.headers['transfer-encoding'], ['chunked']);
  });

  it('streams a response body: the client reads the first chunk before the upstream has finished', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge });
    const res = await respond(request({ host: '127.0.0.1', port: h.port, path: '/drip' }).end());
    const [chunk] = (await once(res, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'first');
    const rest = readAll(res);
    h.upstream.release();
    assert.equal(await rest, 'last');
  });

  it('re-frames a chunked GET body so nothing in it can pass for a second request', async () => {
    const h = await startIngress({ judge });
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: u\r\n\r\n';
    const chunk = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
    const out = await rawExchange(h.port, `GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk}`);
    assert.match(out, /^HTTP\/1\.1 200 /);
    assert.equal(echoOf(out.slice(out.indexOf('{'))).body, smuggled);
    assert.deepEqual(h.upstream.heads, [{ url: '/a', method: 'GET' }]);
  });
});

describe('forwarding engine: upstream failures', () => {
  it('answers 502 at once when the upstream refuses connections', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge, upstream: `http://127.0.0.1:${await freePort()}` });
    const r = await send(h.port, '/app');
    assert.equal(r.status, 502);
    assert.equal(r.body, 'Bad gateway');
    assert.ok(h.logs.some((l) => l.includes('ECONNREFUSED')));
  });

  it('answers 502 when the upstream does not answer in time, and aborts the upstream request', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge, timeouts: { responseMs: 100 } });
    const closed = once(h.upstream.events, 'held-closed');
    const r = await send(h.port, '/hold');
    assert.equal(r.status, 502);
    await closed;
    assert.ok(h.logs.some((l) => l.includes('response-timeout')));
  });

  it('aborts the upstream request when the client goes away', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge });
    const held = once(h.upstream.events, 'held');
    const req = request({ host: '127.0.0.1', port: h.port, path: '/hold' });
    req.on('error', () => {});
    req.end();
    await held;
    const closed = once(h.upstream.events, 'held-closed');
    req.destroy();
    assert.deepEqual(await closed, ['/hold']);
  });
});

describe('forwarding engine: target and Host', () => {
  it('prefixes the upstream base path and query', async () => {
    const h = await startIngress({ judge, upstreamSuffix: '/base?k=v' });
    assert.equal(echoOf((await send(h.port, '/app?x=1')).body).url, '/base/app?k=v&x=1');
  });

  it("keeps the client's Host when told to", async () => {
    const h = await startIngress({ judge, host: 'client' });
    const e = echoOf((await send(h.port, '/app', { headers: { host: 'app.example.com' } })).body);
    assert.deepEqual(e.headers['host'], ['app.example.com']);
    assert.deepEqual(e.headers['x-forwarded-host'], ['app.example.com']);
  });
});

describe('forwarding engine: a kept-alive upstream connection closed under it', () => {
  /** Answers the first request of each connection; drops the connection on the second without a word. */
  const perSocket = new WeakMap<Socket, number>();
  let connections = 0;
  let answered = 0;
  const stale = createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (n > 1) return void req.socket.destroy();
    answered++;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  stale.on('connection', () => connections++);
  after(() => new Promise<void>((resolve) => (stale.close(() => resolve()), stale.closeAllConnections())));

  it('sends a GET once more on a new connection, never a POST', async () => {
    stale.listen(0, '127.0.0.1');
    await once(stale, 'listening');
    const h = await startIngress({ judge, upstream: `http://127.0.0.1:${(stale.address() as AddressInfo).port}` });
    assert.equal((await send(h.port, '/a')).body, 'ok');
    assert.equal((await send(h.port, '/b')).body, 'ok');
    assert.deepEqual([answered, connections], [2, 2]);
    assert.equal((await send(h.port, '/c', { method: 'POST', body: 'x=1' })).status, 502);
    assert.equal(answered, 2);
  });
});

describe('graceful close', () => {
  it('lets an in-flight response finish, refuses new connections, then resolves', { timeout: 60_000 }, async () => {
    const h = await startIngress({ judge });
    const res = await respond(request({ host: '127.0.0.1', port: h.port, path: '/drip' }).end());
    const body = readAll(res);
    let closed = false;
    const closing = h.ingress.close(10_000).then(() => (closed = true));
    await assert.rejects(send(h.port, '/app'), { code: 'ECONNREFUSED' });
    assert.equal(closed, false);
    h.upstream.release();
    assert.equal(await body, 'firstlast');
    await closing;
    assert.equal(closed, true);
  });
});
