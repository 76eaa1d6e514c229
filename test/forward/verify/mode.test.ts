/**
 * Verify-then-proxy, the proxy half (real sockets): path prefix and query merge, the Host policy,
 * X-Forwarded-For, hop-by-hop headers, Authorization stripped or kept, identity headers set and
 * forged ones removed, 502 without detail, absolute-form refused, a unix-socket upstream, an https
 * upstream with a CA (added or replacing the roots) or verification off, websocket upgrades.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTlsFiles, type TlsFiles } from '../../helpers/redis.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';
import type { Echo } from '../../helpers/upstream.js';
import { headEnded, rawExchange, readUntil } from '../ingress/harness.js';
import { bearer, claimsAt, sign, startVerify } from './harness.js';

const SECRET = 'k'.repeat(40);
const HMAC = { keys: { source: 'hmac', secret: SECRET, encoding: 'raw' }, audience: 'https://api.example' };
const token = (over = {}): Promise<string> => sign(claimsAt(Date.now(), over), new TextEncoder().encode(SECRET), { alg: 'HS256' });
const echo = (body: string): Echo => JSON.parse(body) as Echo;

describe('verify forwarder: proxying', () => {
  it('joins the upstream base path with one slash and puts the upstream query first', async () => {
    const v = await startVerify({ ...HMAC, upstream: '' }).catch(() => undefined);
    assert.equal(v, undefined, 'an empty upstream is refused');
    const base = await startVerify(HMAC);
    const { upstream } = base;
    const withBase = await startVerify({ ...HMAC, upstream: `${upstream.url}/base/?fixed=1` }, { upstream });
    const r = await send(withBase.port, '/x/y?q=2', { headers: bearer(await token()) });
    assert.equal(r.status, 200);
    assert.equal(echo(r.body).url, '/base/x/y?fixed=1&q=2');
  });

  it('sends the upstream host by default and the client host with host: client', async () => {
    const a = await startVerify(HMAC);
    const r1 = echo((await send(a.port, '/', { headers: { ...bearer(await token()), host: 'public.example' } })).body);
    assert.equal(r1.headers['host']?.[0], `127.0.0.1:${a.upstream.port}`);
    assert.equal(r1.headers['x-forwarded-host']?.[0], 'public.example');
    const b = await startVerify({ ...HMAC, host: 'client' });
    const r2 = echo((await send(b.port, '/', { headers: { ...bearer(await token()), host: 'public.example' } })).body);
    assert.equal(r2.headers['host']?.[0], 'public.example');
  });

  it('appends the peer to X-Forwarded-For from a trusted proxy and replaces it from anyone else; drops hop-by-hop headers', async () => {
    const untrusted = await startVerify(HMAC);
    const headers = { ...bearer(await token()), 'x-forwarded-for': '10.1.1.1', connection: 'x-secret', 'x-secret': 'hop', 'keep-alive': 'timeout=5' };
    const r1 = echo((await send(untrusted.port, '/', { headers })).body);
    assert.deepEqual(r1.headers['x-forwarded-for'], ['127.0.0.1']);
    assert.equal(r1.headers['x-secret'], undefined);
    assert.equal(r1.headers['keep-alive'], undefined);
    const trusted = await startVerify({ ...HMAC, trustedProxies: ['127.0.0.1/32'] });
    const r2 = echo((await send(trusted.port, '/', { headers })).body);
    assert.deepEqual(r2.headers['x-forwarded-for'], ['10.1.1.1, 127.0.0.1']);
  });

  it('strips Authorization upstream by default and keeps it with passThroughToken', async () => {
    const t = await token();
    const strip = await startVerify(HMAC);
    assert.equal(echo((await send(strip.port, '/', { headers: bearer(t) })).body).headers['authorization'], undefined);
    const keep = await startVerify({ ...HMAC, passThroughToken: true });
    assert.deepEqual(echo((await send(keep.port, '/', { headers: bearer(t) })).body).headers['authorization'], [`Bearer ${t}`]);
  });

  it('removes forged identity headers always and sets them from sub and iss with identityHeaders', async () => {
    const forged = { 'x-auth-subject': 'root', 'X-Auth-Issuer': 'evil' };
    const off = await startVerify(HMAC);
    const r1 = echo((await send(off.port, '/', { headers: { ...bearer(await token()), ...forged } })).body);
    assert.equal(r1.headers['x-auth-subject'], undefined);
    assert.equal(r1.headers['x-auth-issuer'], undefined);
    const on = await startVerify({ ...HMAC, identityHeaders: true });
    const r2 = echo((await send(on.port, '/', { headers: { ...bearer(await token()), ...forged } })).body);
    assert.deepEqual(r2.headers['x-auth-subject'], ['alice']);
    assert.deepEqual(r2.headers['x-auth-issuer'], ['https://issuer.example']);
  });

  it('answers 502 with a short body and no detail when the upstream is down', async () => {
    const port = await freePort();
    const v = await startVerify({ ...HMAC, upstream: `http://127.0.0.1:${port}` });
    const r = await send(v.port, '/', { headers: bearer(await token()) });
    assert.equal(r.status, 502);
    assert.equal(r.body, 'Bad gateway');
    assert.doesNotMatch(r.body + JSON.stringify(r.headers), /ECONNREFUSED|127\.0\.0\.1/);
  });

  it('refuses absolute-form (forward proxy) requests with 400', async () => {
    const v = await startVerify(HMAC);
    const t = await token();
    const out = await rawExchange(
      v.port,
      `GET http://elsewhere.example/ HTTP/1.1\r\nHost: elsewhere.example\r\nAuthorization: Bearer ${t}\r\nConnection: close\r\n\r\n`,
    );
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.equal(v.upstream.heads.length, 0);
  });

  it('proxies to a unix-socket upstream, with a base path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-unix-'));
    const path = join(dir, 'up.sock');
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.end('via unix');
    });
    server.listen(path);
    await once(server, 'listening');
    after(() => server.close());
    const v = await startVerify({ ...HMAC, upstream: `unix:${path}:/api?x=1` });
    const r = await send(v.port, '/items?y=2', { headers: bearer(await token()) });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'via unix');
    assert.deepEqual(seen, ['localhost /api/items?x=1&y=2']);
  });

  describe('https upstream', () => {
    let tls: TlsFiles;
    let port: number;
    let server: ReturnType<typeof createHttpsServer>;
    before(async () => {
      tls = await makeTlsFiles();
      server = createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (_req, res) => res.end('secure'));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    after(() => {
      server.close();
      tls.cleanup();
    });

    it('fails closed (502) on an unknown CA, trusts a CA file (added or replacing the roots), or skips verification when asked', async () => {
      const t = await token();
      const upstream = `https://127.0.0.1:${port}`;
      assert.equal((await send((await startVerify({ ...HMAC, upstream })).port, '/', { headers: bearer(t) })).status, 502);
      for (const caMode of ['add', 'replace']) {
        const v = await startVerify({ ...HMAC, upstream, upstreamTls: { caFile: tls.ca, caMode } });
        const r = await send(v.port, '/', { headers: bearer(t) });
        assert.equal(r.body, 'secure', caMode);
      }
      const insecure = await startVerify({ ...HMAC, upstream, upstreamTls: { insecureSkipVerify: true } });
      assert.equal((await send(insecure.port, '/', { headers: bearer(t) })).body, 'secure');
    });
  });

  it('verifies a websocket upgrade, then tunnels it; an upgrade without a token gets 401 and no tunnel', async () => {
    const v = await startVerify(HMAC);
    const refused = await rawExchange(v.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 401 /);
    assert.match(refused, /www-authenticate: Bearer\r\n/i);
    assert.equal(v.upstream.upgrades.length, 0);
    const socket = connect(v.port, '127.0.0.1');
    after(() => socket.destroy());
    socket.write(`GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer ${await token()}\r\n\r\n`);
    const head = await readUntil(socket, headEnded);
    assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
    assert.equal(v.upstream.upgrades[0]?.headers['authorization'], undefined, 'the token is stripped on upgrades too');
    socket.write('ping');
    const echoed = await readUntil(socket, (b) => b.toString().endsWith('ping'));
    assert.ok(echoed.toString().endsWith('ping'));
  });
});
