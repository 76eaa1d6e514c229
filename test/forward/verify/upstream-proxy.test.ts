/**
 * The verify forwarder reaching its upstream through an HTTP forward proxy (a real proxy double on
 * a socket): HTTP_PROXY from the environment for a named host, an explicit proxy with credentials,
 * https upstreams through a CONNECT tunnel (TLS inside, the proxy sees no request), `none`; and
 * which proxy the environment names (NO_PROXY, loopback never proxied).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { noProxy, proxyFromEnv } from '../../../src/forward/engine/proxy-via.js';
import { send } from '../../helpers/http-send.js';
import { makeTlsFiles, type TlsFiles } from '../../helpers/redis.js';
import type { Echo } from '../../helpers/upstream.js';
import { AUD, bearer, claimsAt, sign, startVerify } from './harness.js';

interface ProxyDouble {
  readonly url: string;
  readonly seen: { method: string; target: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A forward proxy: absolute-form requests relayed (any host name resolves to 127.0.0.1), CONNECT tunnelled. */
async function startProxy(): Promise<ProxyDouble> {
  const seen: ProxyDouble['seen'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', target: req.url ?? '', headers: req.headers });
    const u = new URL(req.url ?? '');
    const { 'proxy-authorization': _pa, ...headers } = req.headers;
    const up = request({ host: '127.0.0.1', port: u.port, path: u.pathname + u.search, method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push({ method: 'CONNECT', target: req.url ?? '', headers: req.headers });
    const port = Number((req.url ?? '').split(':').pop());
    const up = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

const secret = 'p'.repeat(40);
const HMAC = { keys: { source: 'hmac', secret, encoding: 'raw' }, audience: AUD };
const token = (): Promise<string> => sign(claimsAt(Date.now()), new TextEncoder().encode(secret), { alg: 'HS256' });

describe('verify forwarder: upstream through a forward proxy', () => {
  let proxy: ProxyDouble;
  let tls: TlsFiles;
  let httpsPort: number;
  let httpsServer: ReturnType<typeof createHttpsServer>;
  before(async () => {
    proxy = await startProxy();
    tls = await makeTlsFiles();
    httpsServer = createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => res.end(`secure ${req.url}`));
    httpsServer.listen(0, '127.0.0.1');
    await once(httpsServer, 'listening');
    httpsPort = (httpsServer.address() as AddressInfo).port;
  });
  after(async () => {
    httpsServer.close();
    tls.cleanup();
    await proxy.close();
  });

  it('honours HTTP_PROXY for a named upstream host: the request goes to the proxy in absolute form', async () => {
    const direct = await startVerify(HMAC);
    const named = `http://upstream.test:${direct.upstream.port}/base`;
    const v = await startVerify({ ...HMAC, upstream: named }, { upstream: direct.upstream, env: { HTTP_PROXY: proxy.url, NO_PROXY: 'other.test' } });
    const r = await send(v.port, '/x?y=1', { headers: bearer(await token()) });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as Echo).url, '/base/x?y=1');
    assert.equal(proxy.seen.at(-1)?.target, `http://upstream.test:${direct.upstream.port}/base/x?y=1`);
  });

  it('uses an explicit proxy with credentials, and none when told', async () => {
    const before = proxy.seen.length;
    const v = await startVerify({ ...HMAC, upstreamProxy: proxy.url.replace('http://', 'http://us%40er:pw@') });
    assert.equal((await send(v.port, '/', { headers: bearer(await token()) })).status, 200);
    assert.equal(proxy.seen.at(-1)?.headers['proxy-authorization'], `Basic ${Buffer.from('us@er:pw').toString('base64')}`);
    const none = await startVerify({ ...HMAC, upstreamProxy: 'none' }, { env: { HTTP_PROXY: proxy.url } });
    assert.equal((await send(none.port, '/', { headers: bearer(await token()) })).status, 200);
    assert.equal(proxy.seen.length, before + 1);
  });

  it('reaches an https upstream through a CONNECT tunnel, verifying its certificate', async () => {
    const upstream = `https://localhost:${httpsPort}/api`;
    const v = await startVerify({ ...HMAC, upstream, upstreamProxy: proxy.url, upstreamTls: { caFile: tls.ca } });
    const r = await send(v.port, '/items', { headers: bearer(await token()) });
    assert.equal(r.body, 'secure /api/items');
    assert.deepEqual(proxy.seen.at(-1) && [proxy.seen.at(-1)!.method, proxy.seen.at(-1)!.target], ['CONNECT', `localhost:${httpsPort}`]);
    const untrusted = await startVerify({ ...HMAC, upstream, upstreamProxy: proxy.url });
    assert.equal((await send(untrusted.port, '/', { headers: bearer(await token()) })).status, 502);
  });

  it('picks the proxy from the environment by scheme, never for loopback, and honours NO_PROXY', () => {
    const env = { HTTP_PROXY: 'http://p:1', https_proxy: 'http://s:2', NO_PROXY: 'internal.example, .corp, api.example:8443' };
    assert.equal(proxyFromEnv(new URL('http://a.example'), env), 'http://p:1');
    assert.equal(proxyFromEnv(new URL('https://a.example'), env), 'http://s:2');
    assert.equal(proxyFromEnv(new URL('http://127.0.0.1:8080'), env), undefined);
    assert.equal(proxyFromEnv(new URL('http://localhost'), env), undefined);
    assert.equal(proxyFromEnv(new URL('http://x.internal.example'), env), undefined);
    assert.equal(proxyFromEnv(new URL('http://svc.corp'), env), undefined);
    assert.equal(noProxy('api.example:8443', new URL('https://api.example:8443')), true);
    assert.equal(noProxy('api.example:8443', new URL('https://api.example')), false);
    assert.equal(noProxy('*', new URL('https://any.example')), true);
  });
});
