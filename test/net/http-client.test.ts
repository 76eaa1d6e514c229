import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpClient, HttpClientError, loggableUrl } from '../../src/net/http-client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof HttpClientError, String(e));
    return e.code;
  }
};

describe('HttpClient', () => {
  const routes = new Map<string, Handler>();
  const server = createServer((req, res) => (routes.get(req.url ?? '') ?? ((_q, r) => r.writeHead(404).end()))(req, res));
  let base: string;
  const http = new HttpClient({ timeoutMs: 2000, maxBytes: 1024 });

  before(async () => {
    base = `http://${await listen(server)}`;
    routes.set('/doc', (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accept: req.headers.accept })));
    routes.set('/big', (_req, res) => res.writeHead(200).end(JSON.stringify({ pad: 'x'.repeat(2000) })));
    routes.set('/big-chunked', (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write('x'.repeat(200));
      res.end();
    });
    routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    routes.set('/500', (_req, res) => res.writeHead(500).end('{}'));
    routes.set('/hop', (_req, res) => res.writeHead(302, { location: '/doc' }).end());
    routes.set('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
    routes.set('/to-https', (_req, res) => res.writeHead(301, { location: `https://${base.slice(7)}/doc` }).end());
    routes.set('/hang', () => undefined);
  });
  after(async () => {
    http.close();
    await close(server);
  });

  test('GET JSON with accept: application/json', async () => {
    const r = await http.getJson(`${base}/doc`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { accept: 'application/json' });
  });

  test('typed errors: status, bad JSON, too large (declared and streamed), bad URL', async () => {
    assert.equal(await code(http.getJson(`${base}/500`)), 'status');
    assert.equal(await code(http.getJson(`${base}/html`)), 'bad-json');
    assert.equal(await code(http.getJson(`${base}/big`)), 'too-large');
    assert.equal(await code(http.getJson(`${base}/big-chunked`)), 'too-large');
    assert.equal(await code(http.getJson('file:///etc/passwd')), 'bad-url');
    assert.equal(await code(http.getJson('not a url')), 'bad-url');
    const closed = createServer();
    const addr = await listen(closed);
    await close(closed);
    assert.equal(await code(http.getJson(`http://${addr}/`)), 'network');
  });

  test('redirects: same scheme followed, bounded; another scheme refused', async () => {
    assert.deepEqual((await http.getJson(`${base}/hop`)).json, { accept: 'application/json' });
    assert.equal(await code(http.getJson(`${base}/loop`)), 'redirect');
    assert.equal(await code(http.getJson(`${base}/to-https`)), 'redirect');
  });

  test('a server that never answers → timeout', async () => {
    const quick = new HttpClient({ timeoutMs: 25 });
    try {
      assert.equal(await code(quick.getJson(`${base}/hang`)), 'timeout');
    } finally {
      quick.close();
    }
  });

  test('loggable URLs drop credentials and query', () => {
    assert.equal(loggableUrl('https://user:pw@idp.example/keys?secret=1#x'), 'https://idp.example/keys');
    assert.equal(loggableUrl('::'), '(invalid URL)');
  });

  test('CA_BUNDLE content is trusted in addition to the default roots', { skip: !existsSync('/usr/bin/openssl') && 'needs openssl' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'judge-ca-'));
    try {
      const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      run(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '1',
        '-subj',
        '/CN=judge test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      );
      run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
      writeFileSync(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
      run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1', '-extfile', 'ext');
      const tls = createHttpsServer({ key: readFileSync(join(dir, 'leaf.key')), cert: readFileSync(join(dir, 'leaf.pem')) }, (_req, res) =>
        res.writeHead(200).end('{"tls":true}'),
      );
      const url = `https://${await listen(tls)}/`;
      const plain = new HttpClient();
      const trusting = new HttpClient({ caPem: readFileSync(join(dir, 'ca.pem'), 'utf8') });
      try {
        assert.equal(await code(plain.getJson(url)), 'network');
        assert.deepEqual((await trusting.getJson(url)).json, { tls: true });
      } finally {
        plain.close();
        trusting.close();
        await close(tls);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
