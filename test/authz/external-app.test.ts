/**
 * `EXTERNAL_AUTHZ_URL` in the assembled service: a real node:http (and https) authorizer behind
 * the judge's HTTP front door, a real OpenID Provider for the bearer tokens, sessions in the real
 * store for the browser page. What the authorizer receives, and what each of its answers becomes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { accessToken, request, startJudge, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/redis.js';

const API = { accept: 'application/json' };
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

interface Authz {
  readonly url: string;
  readonly bodies: Record<string, unknown>[];
  answer: (res: ServerResponse) => void;
  close(): void;
}

async function startAuthz(tls?: TlsFiles): Promise<Authz> {
  const a: Omit<Authz, 'url' | 'close'> = { bodies: [], answer: (res) => res.writeHead(200).end() };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      a.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      a.answer(res);
    });
  };
  const server = tls ? createHttpsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, handler) : createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = ((server as Server).address() as AddressInfo).port;
  return Object.assign(a, {
    url: `${tls ? 'https' : 'http'}://${tls ? 'localhost' : '127.0.0.1'}:${port}/authorize`,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  });
}

describe('external authorizer in the assembled service', () => {
  let op: TestOp;
  let authz: Authz;
  let judge: Judged;
  let port: number;
  let devs: Record<string, string>;

  before(async () => {
    op = await startOp();
    authz = await startAuthz();
    // Prompt answers must not hit the timeout on a busy machine (300 ms is tight there); the held one must
    // (an error, 403) before the check's own deadline (a 503).
    judge = await startJudge(op.issuer, {
      env: { EXTERNAL_AUTHZ_URL: authz.url, EXTERNAL_AUTHZ_TIMEOUT: '2000', CHECK_TIMEOUT: '20000', GROUPS_ALLOWLIST: 'devs' },
    });
    port = judge.app.ports.http;
    devs = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs'])}`, ...API };
  });
  after(async () => {
    await judge.stop();
    authz.close();
    await op.stop();
  });

  const session = async (): Promise<string> => {
    const now = Date.now();
    const id = await judge.app.sessions.create({
      v: 1,
      user: 'carol@example.com',
      groups: ['devs'],
      claims: {},
      iss: op.issuer,
      sub: 'carol',
      createdAt: now,
      expiresAt: now + 3_600_000,
    });
    return `authservice_session=${id}`;
  };

  it('allow: the authorizer sees the original request (not the verify path), the port from the scheme, the bearer’s claims', async () => {
    authz.answer = (res) => res.writeHead(204).end();
    const r = await request(port, '/authservice/verify/notebooks/lab?token=x', {
      ...devs,
      host: 'kubeflow.example.com',
      'x-forwarded-proto': 'https',
      'x-original-method': 'PUT',
    });
    assert.equal(r.status, 204, r.body);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    const body = authz.bodies.at(-1)!;
    assert.deepEqual(body['request'], { host: 'kubeflow.example.com', port: 443, path: '/notebooks/lab', method: 'PUT' });
    const user = body['user'] as Record<string, unknown>;
    assert.equal(user['name'], 'alice@example.com');
    assert.deepEqual(user['groups'], ['devs']);
    assert.deepEqual(user['extra'], { 'auth-method': ['header'] });
    assert.equal((user['claims'] as Record<string, unknown>)['iss'], op.issuer);
    assert.match(String(body['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('runs after the groups allowlist: a user it refuses never reaches the authorizer', async () => {
    const n = authz.bodies.length;
    const guest = { authorization: `Bearer ${await accessToken(op, 'mallory@example.com', ['guests'])}`, ...API };
    assert.equal((await request(port, '/authservice/verify/x', guest)).status, 403);
    assert.equal(authz.bodies.length, n);
  });

  it('403 from the authorizer: a browser gets the page with its body as the reason, escaped', async () => {
    authz.answer = (res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('<script>alert(1)</script> is not in project "ml"');
    const r = await request(port, '/notebooks/lab', { cookie: await session(), ...NAVIGATION });
    assert.equal(r.status, 403);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.ok(!r.body.includes('<script>alert(1)'), 'the reason is not markup');
    assert.ok(r.body.includes('&lt;script&gt;alert(1)&lt;/script&gt; is not in project &#34;ml&#34;'), r.body);
    assert.ok(r.body.includes('carol@example.com'));
  });

  it('401 from the authorizer: an API client gets 403 JSON with the reason', async () => {
    authz.answer = (res) => res.writeHead(401).end('quota exceeded');
    const r = await request(port, '/authservice/verify/x', devs);
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), { error: 'forbidden', message: 'quota exceeded' });
  });

  it('500 from the authorizer → refused (fail closed), the session kept', async () => {
    authz.answer = (res) => res.writeHead(500).end('boom');
    const cookie = await session();
    const r = await request(port, '/authservice/verify/x', { cookie, ...API });
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), { error: 'forbidden', message: 'Authorization could not be completed' });
    authz.answer = (res) => res.writeHead(200).end();
    assert.equal((await request(port, '/authservice/verify/x', { cookie, ...API })).status, 204, 'an error does not end the session');
  });

  it('no answer within EXTERNAL_AUTHZ_TIMEOUT → refused, well within CHECK_TIMEOUT', async () => {
    const held: ServerResponse[] = [];
    authz.answer = (res) => void held.push(res);
    const r = await request(port, '/authservice/verify/x', devs);
    assert.equal(r.status, 403);
    assert.equal(JSON.parse(r.body).message, 'Authorization could not be completed');
    assert.equal(held.length, 1);
    for (const res of held) res.destroy();
  });
});

describe('external authorizer over https', () => {
  let op: TestOp;
  let tls: TlsFiles;
  let authz: Authz;

  before(async () => {
    op = await startOp();
    tls = await makeTlsFiles();
    authz = await startAuthz(tls);
    authz.answer = (res) => res.writeHead(200).end();
  });
  after(async () => {
    authz.close();
    tls.cleanup();
    await op.stop();
  });

  it('a private CA is trusted through CA_BUNDLE; without it the call fails and the request is refused', async () => {
    const token = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs'])}`, ...API };
    for (const [env, status] of [
      [{ CA_BUNDLE: tls.ca }, 204],
      [{}, 403],
    ] as const) {
      const judge = await startJudge(op.issuer, { env: { EXTERNAL_AUTHZ_URL: authz.url, ...env } });
      try {
        assert.equal((await request(judge.app.ports.http, '/authservice/verify/x', token)).status, status, JSON.stringify(env));
      } finally {
        await judge.stop();
      }
    }
    assert.equal(authz.bodies.length, 1, 'only the trusting judge got through');
  });
});

describe('external authorizer: connections at shutdown', () => {
  it('stopping the service closes its keep-alive connection to the authorizer', async () => {
    const op = await startOp();
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    server.keepAliveTimeout = 0; // the authorizer never closes an idle connection: only the judge can
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
    const judge = await startJudge(op.issuer, { env: { EXTERNAL_AUTHZ_URL: url } });
    let stopped = false;
    try {
      const token = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs'])}`, ...API };
      assert.equal((await request(judge.app.ports.http, '/authservice/verify/x', token)).status, 204);
      assert.equal(sockets.size, 1, 'one kept-alive connection after the check');
      const [socket] = sockets;
      const closed = once(socket!, 'close');
      stopped = true;
      await judge.stop();
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((_, reject) => (bound = setTimeout(() => reject(new Error('still connected 10 s after stop')), 10_000)))]);
      clearTimeout(bound);
      assert.equal(sockets.size, 0);
    } finally {
      if (!stopped) await judge.stop();
      server.close();
      server.closeAllConnections();
      await op.stop();
    }
  });
});
