/**
 * A refused request's answer reaches the client, closed with a FIN and not a reset: Node's own
 * handling destroys the socket with the rest of the head unread, and the kernel then resets the
 * connection (Node 24's HTTP client reports the reset instead of the 431).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { answerClientErrors } from '../../src/net/client-errors.js';
import { send } from '../helpers/http-send.js';

/** Writes `head` on a raw connection; resolves at its close with what came back and any socket error. */
async function raw(port: number, head: string, keepSending = false): Promise<{ data: string; error?: string }> {
  // allowHalfOpen: a client that keeps its side open after the server's FIN.
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: keepSending });
  await once(socket, 'connect');
  let data = '';
  let error: string | undefined;
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
  socket.write(head);
  // A client that never stops: one more header line each turn of the event loop.
  const more = (): void => {
    if (!keepSending || socket.destroyed || !socket.writable) return;
    socket.write('X-More: 1\r\n');
    setImmediate(more);
  };
  // Not events.once: it would reject on the 'error' that a cut connection reports first.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  more();
  await closed;
  return error === undefined ? { data } : { data, error };
}

describe('answerClientErrors', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((_req, res) => res.end('ok'));
    answerClientErrors(server, 300);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('a head over the limit: the 431 arrives, then a clean close — no reset, though most of the head was never read', async () => {
    const r = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(70 * 1024)}\r\n\r\n`);
    assert.equal(r.error, undefined);
    assert.equal(r.data, 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
    const viaNode = await send(port, '/', { headers: { 'x-big': 'x'.repeat(70 * 1024) } });
    assert.equal(viaNode.status, 431);
  });

  it('a malformed head: 400, closed cleanly', async () => {
    const r = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.equal(r.error, undefined);
    assert.equal(r.data, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  it('a client that goes on sending after the answer is cut off once the linger time passes', async () => {
    const r = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20 * 1024)}\r\n`, true);
    assert.match(r.data, /^HTTP\/1\.1 431 /);
    assert.ok(r.error !== undefined, 'cut (a reset), not closed by the client');
  });

  it('the server still serves', async () => {
    assert.equal((await send(port, '/')).status, 200);
  });
});
