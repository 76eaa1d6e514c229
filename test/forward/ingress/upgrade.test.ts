import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { Decision } from '../../../src/judge/decision.js';
import { freePort } from '../../helpers/net.js';
import { headEnded, rawExchange, readUntil, SESSION_COOKIE, startIngress } from './harness.js';

interface Opened {
  readonly socket: Socket;
  /** The response head, through the blank line. */
  readonly head: string;
  /** Bytes read after the head. */
  readonly extra: Buffer;
}

function handshakeText(path: string, headers: Record<string, string>, protocol = 'websocket'): string {
  const lines = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `GET ${path} HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${lines}\r\n`;
}

async function handshake(port: number, path: string, headers: Record<string, string> = {}, early = ''): Promise<Opened> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(handshakeText(path, headers) + early);
  const got = await readUntil(socket, headEnded);
  const end = got.indexOf('\r\n\r\n') + 4;
  return { socket, head: got.subarray(0, end).toString('latin1'), extra: got.subarray(end) };
}

/** Writes `text` and resolves once it has come back (with whatever came before it). */
async function echo(socket: Socket, text: string, before: Buffer = Buffer.alloc(0)): Promise<string> {
  const read = readUntil(socket, (b) => Buffer.concat([before, b]).toString().includes(text));
  socket.write(text);
  return Buffer.concat([before, await read]).toString();
}

describe('ingress: websocket upgrades', () => {
  it('tunnels to the path that was judged (dot segments resolved), and refuses an ambiguous one with 400', { timeout: 60_000 }, async () => {
    const h = await startIngress();
    const { socket, head } = await handshake(h.port, '/admin/../ws/./x/..', { 'x-test-user': 'alice' });
    assert.match(head, /^HTTP\/1\.1 101 /);
    socket.destroy();
    assert.equal(h.upstream.upgrades[0]?.url, '/ws/');
    assert.equal(h.seen[0]?.path, '/ws/');
    const refused = await rawExchange(h.port, handshakeText('/ws%2f..%2fadmin', { 'x-test-user': 'alice' }));
    assert.match(refused, /^HTTP\/1\.1 400 /);
    assert.equal(h.upstream.upgrades.length, 1);
  });

  it('tunnels an allowed upgrade with the identity headers, and echoes bytes both ways', { timeout: 60_000 }, async () => {
    const h = await startIngress();
    const { socket, head } = await handshake(h.port, '/ws', {
      'x-test-user': 'alice',
      'kubeflow-userid': 'root',
      cookie: `${SESSION_COOKIE}=secret; theme=dark`,
    });
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, /\r\nupgrade: websocket\r\n/i);
    assert.match(head, /\r\nconnection: upgrade\r\n/i);
    assert.match(head, /\r\nx-upstream: ws\r\n/);
    assert.doesNotMatch(head, /keep-alive/i);
    assert.equal(await echo(socket, 'ping-1'), 'ping-1');
    assert.equal(await echo(socket, 'ping-2 ✓'), 'ping-2 ✓');
    const seen = h.upstream.upgrades[0]!;
    assert.deepEqual(seen.headers['kubeflow-userid'], ['alice']);
    assert.deepEqual(seen.headers['cookie'], ['theme=dark']);
    assert.deepEqual(seen.headers['upgrade'], ['websocket']);
    assert.deepEqual(seen.headers['connection'], ['upgrade']);
    assert.deepEqual(seen.headers['sec-websocket-key'], ['dGhlIHNhbXBsZSBub25jZQ==']);
    assert.deepEqual(seen.headers['x-forwarded-for'], ['127.0.0.1']);
    socket.destroy();
  });

  it("relays early bytes sent with the handshake, and adds the allow's response headers to the 101", { timeout: 60_000 }, async () => {
    const allow: Decision = {
      kind: 'allow',
      upstreamHeaders: [],
      removeHeaders: [],
      responseHeaders: [['set-cookie', 's=refreshed']],
      reason: 'authenticated',
    };
    const h = await startIngress({ judge: async () => allow });
    const { socket, head, extra } = await handshake(h.port, '/ws', {}, 'early-bytes');
    assert.match(head, /\r\nset-cookie: s=refreshed\r\n/);
    const got = extra.toString().includes('early-bytes')
      ? extra.toString()
      : Buffer.concat([extra, await readUntil(socket, (b) => Buffer.concat([extra, b]).toString().includes('early-bytes'))]).toString();
    assert.equal(got, 'early-bytes');
    socket.destroy();
  });

  it('writes a denied upgrade as an HTTP response, closes the socket, and never contacts the upstream', async () => {
    const h = await startIngress();
    const out = await rawExchange(h.port, handshakeText('/ws', {}));
    assert.match(out, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(out, /\r\nwww-authenticate: Bearer realm="oidc-judge"\r\n/);
    assert.match(out, /\r\nconnection: close\r\n/);
    assert.ok(out.endsWith('{"error":"unauthenticated","message":"Authentication required"}'));
    assert.equal(h.upstream.connections(), 0);
  });

  it('refuses protocols it does not tunnel (h2c) before judging', async () => {
    const h = await startIngress();
    const out = await rawExchange(h.port, handshakeText('/ws', { 'x-test-user': 'alice', 'HTTP2-Settings': 'AAMAAABkAAQAoAAAAAIAAAAA' }, 'h2c'));
    assert.match(out, /^HTTP\/1\.1 400 /);
    assert.equal(h.seen.length, 0);
    assert.equal(h.upstream.connections(), 0);
  });

  it("relays the upstream's refusal of an upgrade, then closes", async () => {
    const h = await startIngress();
    const out = await rawExchange(h.port, handshakeText('/refuse', { 'x-test-user': 'alice' }));
    assert.match(out, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(out, /\r\nconnection: close\r\n/);
    assert.ok(out.endsWith('\r\n\r\nnope'));
  });

  it('answers 502 on the socket when the upstream is down or drops the handshake', async () => {
    const down = await startIngress({ upstream: `http://127.0.0.1:${await freePort()}` });
    assert.match(await rawExchange(down.port, handshakeText('/ws', { 'x-test-user': 'alice' })), /^HTTP\/1\.1 502 Bad Gateway\r\n[^]*Bad gateway$/);
    const dropped = await startIngress();
    assert.match(await rawExchange(dropped.port, handshakeText('/drop', { 'x-test-user': 'alice' })), /^HTTP\/1\.1 502 /);
  });

  it('closes open tunnels when a graceful close runs out of time', { timeout: 60_000 }, async () => {
    const h = await startIngress();
    const { socket } = await handshake(h.port, '/ws', { 'x-test-user': 'alice' });
    assert.equal(await echo(socket, 'still here'), 'still here');
    const gone = once(socket, 'close');
    socket.resume();
    await h.ingress.close(20);
    await gone;
    assert.equal(socket.destroyed, true);
  });
});
