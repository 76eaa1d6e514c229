import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { externalAuthorizer, externalAuthzBody, MAX_REASON_LENGTH, MAX_RESPONSE_BYTES, portOf, rfc3339, unverifiedClaims } from '../../src/authz/external.js';
import type { Authorizer, AuthzOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import type { Identity } from '../../src/judge/decision.js';
import { targetOf } from '../../src/judge/target.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { HttpClient } from '../../src/net/http-client.js';
import { capturingLogger } from '../helpers/bearer.js';
import { judgeRequest } from '../helpers/request.js';

interface Received {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

const alice: Identity = { user: 'alice@example.com', groups: ['admins', 'staff'], claims: {}, method: 'cookie', authenticator: 'session' };
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('external authorizer (EXTERNAL_AUTHZ_URL) against a real HTTP server', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  /** What the authorizer server does with the next request. */
  let answer: (res: ServerResponse, body: unknown) => void = (res) => res.writeHead(200).end();
  const clock = new ManualClock();
  // Every answer here is prompt; the bound only catches a hang (a busy machine can take 200 ms).
  const http = new HttpClient({ timeoutMs: 10_000, maxBytes: MAX_RESPONSE_BYTES, maxRedirects: 0 });
  const { log, lines } = capturingLogger();
  let authz: Authorizer;

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        received.push({ method: req.method ?? '', contentType: req.headers['content-type'], body });
        answer(res, body);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
    authz = externalAuthorizer({ url, http, clock, log });
  });
  after(() => {
    server.close();
    server.closeAllConnections();
    http.close();
  });

  const ask = (req: JudgeRequest = judgeRequest('/notebooks/x?tab=1'), identity: Identity = alice): Promise<AuthzOutcome> =>
    Promise.resolve(authz.authorize(identity, targetOf(req), req));

  test('the body is oidc-authservice’s, with the original path and a derived port', async () => {
    const jwtPayload = { iss: 'https://idp', sub: 'alice', role: 'x' };
    const req = judgeRequest('/app/./notebooks//x%41?q=secret', {
      method: 'POST',
      host: 'Kubeflow.Example.com:8443',
      headers: { authorization: `Bearer ${b64({ alg: 'RS256' })}.${b64(jwtPayload)}.sig` },
    });
    answer = (res) => res.writeHead(204).end();
    const before = received.length;
    assert.deepEqual(await ask(req, { ...alice, method: 'header', uid: 'u-1' }), { kind: 'allow' });
    // The normalized reading first; this ambiguous path's other readings follow (see the test below).
    const last = received[before]!;
    assert.equal(last.method, 'POST');
    assert.equal(last.contentType, 'application/json');
    assert.deepEqual(last.body, {
      timestamp: '2026-01-01T00:00:00Z',
      user: { name: 'alice@example.com', id: 'u-1', groups: ['admins', 'staff'], extra: { 'auth-method': ['header'] }, claims: jwtPayload },
      request: { host: 'kubeflow.example.com', port: 8443, path: '/app/notebooks/xA', method: 'POST' },
    });
    assert.deepEqual(Object.keys(last.body as object), ['timestamp', 'user', 'request']);
  });

  test('no JWT bearer → claims null; no port in Host → the scheme’s port; no uid → ""', async () => {
    answer = (res) => res.writeHead(200).end('ok');
    await ask(judgeRequest('/', { host: 'app.example.com', scheme: 'https', headers: { authorization: 'Bearer opaque-token' } }));
    const body = received.at(-1)!.body as { user: { claims: unknown; id: string }; request: { port: number } };
    assert.equal(body.user.claims, null);
    assert.equal(body.user.id, '');
    assert.equal(body.request.port, 443);
  });

  test('an ambiguous path is asked about once per reading, and every one must be allowed', async () => {
    // An authorizer that refuses anything under /admin, as a prefix router reads the path.
    answer = (res, body) => {
      const path = (body as { request: { path: string } }).request.path;
      res.writeHead(path === '/admin' || path.startsWith('/admin/') ? 403 : 200).end('admins only');
    };
    const before = received.length;
    assert.deepEqual(await ask(judgeRequest('/admin/../x')), { kind: 'deny', reason: 'admins only', message: 'admins only' });
    assert.deepEqual(
      received.slice(before).map((r) => (r.body as { request: { path: string } }).request.path),
      ['/x', '/admin/../x'],
    );
    assert.deepEqual(await ask(judgeRequest('/public/../public/x')), { kind: 'allow' });
    const plain = received.length;
    assert.deepEqual(await ask(judgeRequest('/x/y')), { kind: 'allow' });
    assert.equal(received.length, plain + 1, 'a plain path is asked about once');
  });

  test('2xx allows', async () => {
    for (const status of [200, 201, 204, 299]) {
      answer = (res) => res.writeHead(status).end();
      assert.deepEqual(await ask(), { kind: 'allow' }, String(status));
    }
  });

  test('401 and 403 deny with the response body as the reason (bounded text)', async () => {
    answer = (res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('<script>alert(1)</script> not in project');
    assert.deepEqual(await ask(), { kind: 'deny', reason: '<script>alert(1)</script> not in project', message: '<script>alert(1)</script> not in project' });
    answer = (res) => res.writeHead(401).end('x'.repeat(5000));
    const long = await ask();
    assert.equal(long.kind, 'deny');
    assert.equal(long.kind === 'deny' && Array.from(long.reason).length, MAX_REASON_LENGTH + 1);
    answer = (res) => res.writeHead(403).end();
    assert.deepEqual(await ask(), { kind: 'deny', reason: 'denied by the external authorizer', message: 'denied by the external authorizer' });
  });

  test('any other status, a redirect or an oversized body → error (fail closed), logged without the body', async () => {
    for (const status of [500, 503, 404, 400, 302]) {
      answer = (res) => res.writeHead(status, { location: '/elsewhere' }).end('internal detail');
      assert.deepEqual(await ask(), { kind: 'error', reason: `external authorizer answered ${status}` });
    }
    answer = (res) => res.writeHead(403).end('y'.repeat(MAX_RESPONSE_BYTES + 1));
    assert.deepEqual(await ask(), { kind: 'error', reason: 'external authorizer: too-large' });
    assert.ok(!lines.join('').includes('internal detail'));
  });

  test('no answer within EXTERNAL_AUTHZ_TIMEOUT → error (the response is held open)', async () => {
    const quick = new HttpClient({ timeoutMs: 1000, maxBytes: MAX_RESPONSE_BYTES, maxRedirects: 0 });
    const held = new Promise<ServerResponse>((resolve) => (answer = resolve));
    try {
      const req = judgeRequest('/notebooks/x?tab=1');
      const outcome = await externalAuthorizer({ url, http: quick, clock, log }).authorize(alice, targetOf(req), req);
      assert.deepEqual(outcome, { kind: 'error', reason: 'external authorizer: timeout' });
      (await held).destroy(); // the server had the request and held it: a timeout, not a network error
    } finally {
      quick.close();
    }
  });

  test('nobody listening → error', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = externalAuthorizer({ url: `http://127.0.0.1:${port}/`, http, clock, log });
    const req = judgeRequest('/');
    assert.deepEqual(await down.authorize(alice, targetOf(req), req), { kind: 'error', reason: 'external authorizer: network' });
  });
});

describe('external authorizer body pieces', () => {
  test('port: from Host (name, IPv4, [IPv6]), else 443 for https and 80 for http', () => {
    assert.equal(portOf('a.example.com:8080', 'https'), 8080);
    assert.equal(portOf('10.0.0.1:81', 'http'), 81);
    assert.equal(portOf('[::1]:9443', 'https'), 9443);
    assert.equal(portOf('[::1]', 'https'), 443);
    assert.equal(portOf('a.example.com', 'https'), 443);
    assert.equal(portOf('a.example.com', 'HTTP'), 80);
    assert.equal(portOf('a.example.com:0', 'http'), 80);
    assert.equal(portOf('a.example.com:99999', 'https'), 443);
    assert.equal(portOf('a.example.com:x', 'https'), 443);
  });

  test('claims: the unverified payload of a JWT-shaped value, else null', () => {
    assert.deepEqual(unverifiedClaims(`${b64({ alg: 'none' })}.${b64({ a: 1 })}.`), { a: 1 });
    assert.deepEqual(unverifiedClaims(`x.${b64({ a: 1 })}.y.z`), { a: 1 }, 'like Go: at least three parts, the header unread');
    assert.equal(unverifiedClaims(undefined), null);
    assert.equal(unverifiedClaims('opaque'), null);
    assert.equal(unverifiedClaims(`a.${b64([1, 2])}.c`), null, 'not an object');
    assert.equal(unverifiedClaims('a.!!!.c'), null);
    assert.equal(unverifiedClaims(`a.${Buffer.from('not json').toString('base64url')}.c`), null);
  });

  test('timestamp: RFC 3339 in UTC, whole seconds', () => {
    assert.equal(rfc3339(Date.UTC(2026, 4, 17, 8, 9, 10, 999)), '2026-05-17T08:09:10Z');
  });

  test('groups is always a list, the verify path never appears, the method is the original one', () => {
    const req = judgeRequest('/data', { method: 'DELETE', host: 'h', scheme: 'http', via: 'verify' });
    const body = externalAuthzBody({ ...alice, groups: [] }, targetOf(req), req, 0);
    assert.deepEqual(body.user.groups, []);
    assert.deepEqual(body.request, { host: 'h', port: 80, path: '/data', method: 'DELETE' });
  });
});
