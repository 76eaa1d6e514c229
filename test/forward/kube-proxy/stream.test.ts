import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { headEnded, rawExchange, readUntil } from '../ingress/harness.js';
import type { RecordedRequest } from '../../helpers/kube-api.js';
import { startKubeStack, CLIENT_ID, type KubeStack } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';

let op: TestOp;
const stacks: KubeStack[] = [];
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
});
after(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await op.stop();
});

interface SeenUpgrade {
  readonly path: string;
  readonly headers: Record<string, string[]>;
  readonly bearer: string | undefined;
}

/** The API double answers upgrades like kubelet's exec/port-forward: 101 with the protocol asked, a greeting, then an echo. */
function upgradeEcho(seen: SeenUpgrade[]) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer, rec: RecordedRequest): void => {
    const headers: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined) headers[k] = v;
    seen.push({ path: req.url ?? '', headers, bearer: rec.bearer });
    const protocol = req.headers.upgrade ?? '';
    const extra =
      protocol.toLowerCase() === 'websocket' ? 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' : 'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n${extra}\r\n`);
    socket.write(Buffer.from([0x80, 0x03, 0x00, 0x01, 0xff, 0x00]));
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  };
}

async function upgradeStack(): Promise<{ s: KubeStack; seen: SeenUpgrade[]; token: string }> {
  const seen: SeenUpgrade[] = [];
  const s = await startKubeStack({ op, api: { upgrade: upgradeEcho(seen) } });
  stacks.push(s);
  return { s, seen, token: await s.token() };
}

function handshake(path: string, protocol: string, headers: Record<string, string>): string {
  const extra =
    protocol === 'websocket'
      ? 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
      : 'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n';
  const lines = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `GET ${path} HTTP/1.1\r\nHost: proxy.example\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n${extra}${lines}\r\n`;
}

/** Opens an upgrade; resolves with the socket, the head, and the bytes after it. */
async function open(port: number, text: string): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  const got = await readUntil(socket, headEnded);
  const end = got.indexOf('\r\n\r\n') + 4;
  return { socket, head: got.subarray(0, end).toString('latin1'), rest: got.subarray(end) };
}

/** Reads until `want` has arrived (after `before`). */
async function readBytes(socket: Socket, want: Buffer, before: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  if (before.includes(want)) return before;
  return Buffer.concat([before, await readUntil(socket, (b) => Buffer.concat([before, b]).includes(want))]);
}

describe('kube proxy: upgrades (kubectl exec, attach, port-forward)', () => {
  for (const protocol of ['SPDY/3.1', 'websocket']) {
    it(`tunnels an ${protocol} upgrade both ways with the impersonation headers and the proxy's token`, { timeout: 60_000 }, async () => {
      const { s, seen, token } = await upgradeStack();
      const { socket, head, rest } = await open(
        s.port,
        handshake('/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true', protocol, { Authorization: `Bearer ${token}` }),
      );
      assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(head, new RegExp(`\\r\\nupgrade: ${protocol.replace('/', '\\/')}\\r\\n`, 'i'));
      // Server-first bytes (binary) reach the client …
      const greeting = Buffer.from([0x80, 0x03, 0x00, 0x01, 0xff, 0x00]);
      const first = await readBytes(socket, greeting, rest);
      assert.deepEqual(first.subarray(0, 6), greeting);
      // … and client bytes go up and come back.
      const payload = Buffer.from([0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
      const echoed = readBytes(socket, payload);
      socket.write(payload);
      assert.ok((await echoed).includes(payload));
      const up = seen[0]!;
      assert.equal(up.path, '/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true');
      assert.equal(up.bearer, s.api.token);
      assert.deepEqual(up.headers['impersonate-user'], ['alice@example.com']);
      assert.deepEqual(up.headers['impersonate-group'], ['dev', 'ops', 'system:authenticated']);
      assert.deepEqual(up.headers['upgrade'], [protocol]);
      assert.ok(!JSON.stringify(up.headers).includes(token));
      socket.destroy();
    });
  }

  it('refuses an unauthenticated upgrade with 401 and an inbound Impersonate-User with 403, without reaching the API', async () => {
    const { s, seen, token } = await upgradeStack();
    assert.match(
      await rawExchange(s.port, handshake('/api/v1/namespaces/default/pods/web/exec', 'SPDY/3.1', {})),
      /^HTTP\/1\.1 401 Unauthorized\r\n[^]*\r\n\r\nUnauthorized$/,
    );
    const forbidden = await rawExchange(
      s.port,
      handshake('/api/v1/namespaces/default/pods/web/exec', 'SPDY/3.1', { Authorization: `Bearer ${token}`, 'Impersonate-User': 'root' }),
    );
    assert.match(forbidden, /^HTTP\/1\.1 403 Forbidden\r\n[^]*Impersonation requests are disabled when using kube-oidc-proxy$/);
    assert.match(await rawExchange(s.port, handshake('/api/v1/pods', 'h2c', { Authorization: `Bearer ${token}` })), /^HTTP\/1\.1 400 /);
    assert.equal(seen.length, 0);
    assert.deepEqual(
      s.accessLines().map((l) => l.replace(/^\[[^\]]+\] /, '')),
      [
        'AuFail src:[127.0.0.1 / ] URI:/api/v1/namespaces/default/pods/web/exec',
        'AuFail src:[127.0.0.1 / ] URI:/api/v1/namespaces/default/pods/web/exec',
        'AuFail src:[127.0.0.1 / ] URI:/api/v1/pods',
      ],
    );
  });
});

describe('kube proxy: watch and log streams', () => {
  it('sends the head at once and every chunk as the API server writes it, before the stream ends', { timeout: 60_000 }, async () => {
    let held: ServerResponse | undefined;
    const arrived = new EventEmitter();
    const fallback = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      held = res;
      arrived.emit('held');
    };
    const s = await startKubeStack({ op, api: { fallback } });
    stacks.push(s);
    const req = request({
      host: '127.0.0.1',
      port: s.port,
      path: '/api/v1/namespaces/default/pods?watch=true',
      headers: { authorization: `Bearer ${await s.token()}` },
    });
    req.end();
    // The head arrives while the API server has sent no event yet.
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.statusCode, 200);
    if (held === undefined) await once(arrived, 'held');
    const event = (type: string): string => `${JSON.stringify({ type, object: { kind: 'Pod', metadata: { name: 'web' } } })}\n`;
    held!.write(event('ADDED'));
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.equal(first.toString(), event('ADDED'));
    held!.write(event('MODIFIED'));
    const [second] = (await once(res, 'data')) as [Buffer];
    assert.equal(second.toString(), event('MODIFIED'));
    held!.end();
    await once(res, 'end');
  });
});
