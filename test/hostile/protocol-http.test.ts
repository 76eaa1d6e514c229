/**
 * Hostile HTTP at the service's listeners: huge header maps, a head over the 64 KiB limit, a 60 KiB
 * cookie, thousands of repeated headers (answered, or 431 — never a 500 or a dropped connection);
 * and slow clients (slowloris: a head or a body dripped a few bytes at a time). Slow clients do not
 * starve the judge, web, health and forwarder listeners of the assembled service; and the judge's
 * and the forwarder's own servers cut them off once their head / request timeouts pass (set small
 * here on the real front-door servers; the defaults are asserted finite).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createIngress } from '../../src/forward/ingress/server.js';
import { createHttpJudge } from '../../src/judge/http/server.js';
import { silentLogger } from '../../src/obs/log.js';
import { request } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { API } from './kit.js';
import { startGuarded, type Guarded } from './stack.js';

const OPTIONS = { verifyPath: '/authservice/verify', forwardAuthPath: '/authservice/forward-auth', checkPathPrefix: '', trustedProxies: ['127.0.0.1/8'] };

/**
 * Upper bound for "cut by the configured limit": far below Node's defaults (60 s for a head, 300 s
 * for a request), so only the limit under test can explain a cut, yet loose enough for timers that
 * fire late on a busy machine (a 3 s bound for a 1 s limit is not).
 */
const CUT_BY_LIMIT_MS = 20_000;

/** Resolves when `socket` closes, however (an 'error' before it is expected here). */
const closeOf = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('close', () => resolve()));

/** Node's server timeouts, set before `listen` (the connection check interval is read then). */
function tighten(server: { headersTimeout: number; requestTimeout: number }, headersMs: number, requestMs: number): void {
  server.headersTimeout = headersMs;
  server.requestTimeout = requestMs;
  (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50;
}

/** Opens a connection and sends a request head that never ends (one more header line every `everyMs` while `drip`). */
async function slowHead(port: number, drip = false, everyMs = 100): Promise<{ socket: Socket; closed: Promise<{ at: number; data: string }> }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.write('GET /public/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const timer = drip ? setInterval(() => socket.write('X-Slow: 1\r\n'), everyMs) : undefined;
  const closed = closeOf(socket).then(() => {
    clearInterval(timer);
    return { at: Date.now(), data };
  });
  return { socket, closed };
}

/** Sends `head` (promising a body) then drips the body a chunk every 100 ms; resolves when the server closes, with how long that took and what it answered. */
async function slowBody(port: number, head: string, chunk: string): Promise<{ ms: number; data: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  const start = Date.now();
  socket.write(head);
  const drip = setInterval(() => socket.write(chunk), 100);
  await closeOf(socket);
  clearInterval(drip);
  return { ms: Date.now() - start, data };
}

describe('hostile HTTP: huge heads, slow clients', () => {
  let g: Guarded;
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' });
  });
  after(() => g.stop());

  it('huge header maps and cookies are answered (or 431), never a 500 or a reset, on every listener', async () => {
    const many: Record<string, string> = { ...API };
    for (let i = 0; i < 1500; i++) many[`x-h-${i}`] = `value-${i}`;
    const cookie = Array.from({ length: 2000 }, (_, i) => `c${i}=${'v'.repeat(20)}`).join('; ');
    const listeners = {
      judge: [g.http, '/api'],
      forwarder: [g.ingress, '/api'],
      web: [g.judge.app.ports.web, '/authservice/site/homepage'],
      health: [g.judge.app.ports.health, '/healthz'],
    } as const;
    for (const [name, [port, path]] of Object.entries(listeners)) {
      const normal = name === 'web' || name === 'health' ? 200 : 401;
      for (const [what, headers] of [
        ['1500 headers', many],
        ['a 60 KiB cookie', { cookie, ...API }],
        ['3000 repeated headers', { 'x-dup': Array.from({ length: 3000 }, () => 'a'), ...API }],
        ['a 70 KiB head', { 'x-big': 'x'.repeat(70 * 1024), ...API }],
      ] as const) {
        const r = await request(port, path, headers);
        assert.ok(r.status === normal || r.status === 431, `${name}, ${what}: ${r.status}`);
        // The judge takes what Envoy's http_service can pass on (HTTP_MAX_HEADER_BYTES); the others stop at 64 KiB.
        if (what === 'a 70 KiB head') assert.equal(r.status, name === 'judge' ? normal : 431, `${name}, ${what}`);
      }
    }
  });

  it('the judge decides on any head Envoy http_service can send (up to 96 KiB in 200 headers); beyond HTTP_MAX_HEADER_BYTES it is 431, never a reset', async () => {
    // Envoy's max_request_headers_kb: 60 by default, 96 the classic maximum; max_headers_count 100 by default, raised to 200 here.
    for (const kib of [60, 96]) {
      const headers: Record<string, string> = { ...API };
      for (let i = 0; i < 199; i++) headers[`x-envoy-h-${i}`] = 'v'.repeat(Math.floor((kib * 1024) / 200) - 20);
      const bytes = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
      assert.ok(bytes > (kib - 2) * 1024, `${bytes} bytes`);
      const r = await request(g.http, '/api', headers);
      assert.equal(r.status, 401, `${kib} KiB of headers: ${r.status}`);
      const allowed = await request(g.http, '/api', { ...headers, authorization: `Bearer ${await g.aliceToken()}` });
      assert.equal(allowed.status, 200, `${kib} KiB of headers with a token: ${allowed.status}`);
    }
    const over = await request(g.http, '/api', { 'x-big': 'x'.repeat(130 * 1024), ...API });
    assert.equal(over.status, 431);
    assert.equal((await request(g.http, '/api', API)).status, 401, 'still judging');
  });

  it('slow clients on the judge, web, health and forwarder ports do not starve the others', async () => {
    const ports = [g.http, g.ingress, g.judge.app.ports.web, g.judge.app.ports.health];
    const slow = await Promise.all(ports.flatMap((p) => Array.from({ length: 100 }, () => slowHead(p))));
    try {
      assert.equal((await request(g.http, '/api', API)).status, 401);
      assert.equal((await send(g.ingress, '/public/x')).status, 200);
      assert.equal((await request(g.judge.app.ports.web, '/authservice/site/homepage')).status, 200);
      assert.equal((await request(g.judge.app.ports.health, '/healthz', { host: '127.0.0.1' })).status, 200);
    } finally {
      for (const s of slow) s.socket.destroy();
    }
  });

  it('the judge’s HTTP server cuts off a dripped head once its headers timeout passes, serving others meanwhile', async (t) => {
    const server = createHttpJudge({ judge: g.judge.app.judge, options: OPTIONS, log: silentLogger });
    assert.ok(server.server.headersTimeout > 0 && server.server.headersTimeout <= 60_000, 'a finite default headers timeout');
    tighten(server.server, 400, 800);
    const port = await server.listen('127.0.0.1', 0);
    try {
      const start = Date.now();
      const slow = await slowHead(port, true);
      assert.equal((await request(port, '/api', API)).status, 401);
      const { at, data } = await slow.closed;
      assert.match(data, /^HTTP\/1\.1 408 /);
      assert.ok(at - start < CUT_BY_LIMIT_MS, `cut after ${at - start} ms`);
      t.diagnostic(`judge HTTP: dripping client cut after ${at - start} ms (headers timeout 400 ms)`);
    } finally {
      await server.close(100);
    }
  });

  it('the forwarder’s server cuts off a dripped head and a dripped body once its timeouts pass', async (t) => {
    const ingress = createIngress({
      judge: g.judge.app.judge,
      upstream: g.upstream.url,
      prefixPath: '/authservice/',
      stripCookies: ['authservice_session'],
      trustedProxies: [],
      log: silentLogger,
    });
    assert.equal(ingress.server.headersTimeout, 60_000);
    assert.equal(ingress.server.requestTimeout, 300_000);
    tighten(ingress.server, 400, 800);
    const port = await ingress.listen('127.0.0.1', 0);
    try {
      const start = Date.now();
      const slow = await slowHead(port, true);
      assert.equal((await send(port, '/public/x')).status, 200);
      const head = await slow.closed;
      assert.match(head.data, /^HTTP\/1\.1 408 /);
      // A body promised (10 000 bytes) and dripped: cut at the request timeout, never completed upstream.
      const { ms: cut } = await slowBody(port, 'POST /public/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000\r\n\r\n', '0123456789');
      assert.ok(cut < CUT_BY_LIMIT_MS, `body cut after ${cut} ms`);
      assert.ok(head.at - start < CUT_BY_LIMIT_MS, `head cut after ${head.at - start} ms`);
      t.diagnostic(`forwarder: dripped head cut after ${head.at - start} ms, dripped body after ${cut} ms (timeouts 400/800 ms)`);
    } finally {
      await ingress.close(100);
    }
  });
});

describe('hostile HTTP: the service’s own slow-client limits (HTTP_HEADERS_TIMEOUT, HTTP_REQUEST_TIMEOUT)', () => {
  let g: Guarded;
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public', HTTP_HEADERS_TIMEOUT: '1', HTTP_REQUEST_TIMEOUT: '2' });
  });
  after(() => g.stop());

  it('a dripped head is cut with 408 on the judge, web, health and ingress ports, within the limit plus the check interval', async (t) => {
    const ports = { judge: g.http, web: g.judge.app.ports.web, health: g.judge.app.ports.health, ingress: g.ingress };
    const start = Date.now();
    const slow = await Promise.all(Object.values(ports).map((p) => slowHead(p, true)));
    const cut = await Promise.all(slow.map((s) => s.closed));
    Object.keys(ports).forEach((name, i) => {
      const { at, data } = cut[i]!;
      assert.match(data, /^HTTP\/1\.1 408 /, name);
      // 1 s limit, checked every 100 ms: not before it, and well before Node's default 60 s (or its 30 s check interval).
      assert.ok(at - start >= 900 && at - start < CUT_BY_LIMIT_MS, `${name}: cut after ${at - start} ms`);
      t.diagnostic(`${name}: dripped head cut after ${at - start} ms`);
    });
  });

  it('a dripped body to the web server is cut at the request limit', async () => {
    const head = 'POST /authservice/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n';
    const { ms: cut, data } = await slowBody(g.judge.app.ports.web, head, 'a');
    assert.ok(cut >= 1900 && cut < CUT_BY_LIMIT_MS, `cut after ${cut} ms`);
    assert.doesNotMatch(data, /^HTTP\/1\.1 [23]/, 'never answered as if the form had arrived');
  });
});
