import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Decision } from '../../../src/judge/decision.js';
import { send } from '../../helpers/http-send.js';
import { utf8, type Echo } from '../../helpers/upstream.js';
import { LOGIN_URL, rawExchange, SESSION_COOKIE, startIngress, STATE_COOKIE } from './harness.js';

const echoOf = (body: string): Echo => JSON.parse(body) as Echo;

describe('ingress: allowed requests', () => {
  it('sends the allow’s rewritten Cookie once instead of the client’s, keeps the judge’s removals, and strips the foreign list itself', async () => {
    const allow: Decision = {
      kind: 'allow',
      upstreamHeaders: [
        ['kubeflow-userid', 'alice'],
        ['cookie', 'theme=dark'],
      ],
      removeHeaders: ['x-corp-role'],
      responseHeaders: [],
      reason: 'authenticated',
    };
    const h = await startIngress({ judge: () => Promise.resolve(allow), stripCookies: [], stripCookiePrefixes: [] });
    const e = echoOf(
      (
        await send(h.port, '/app', {
          headers: {
            cookie: [`theme=dark; ${SESSION_COOKIE}=secret`, 'oidc_state_csrf_k1=z'],
            'x-corp-role': 'admin',
            'X-Auth-Request-User': 'root',
            remote_user: 'root',
          },
        })
      ).body,
    );
    assert.deepEqual(e.headers['cookie'], ['theme=dark']);
    assert.deepEqual(e.headers['kubeflow-userid'], ['alice']);
    for (const n of ['x-corp-role', 'x-auth-request-user', 'remote_user']) assert.equal(e.headers[n], undefined, n);
  });

  it('sends the identity upstream, never the forged headers, the session cookies or hop-by-hop headers', async () => {
    const h = await startIngress();
    const r = await send(h.port, '/app/page?x=1', {
      headers: {
        'x-test-user': 'alice',
        'x-test-groups': 'admins,users',
        'kubeflow-userid': 'root',
        kubeflow_userid: 'root',
        'KUBEFLOW-GROUPS': 'admins',
        cookie: [`a=1; ${SESSION_COOKIE}=secret`, `${STATE_COOKIE}=st; b=2`],
        connection: 'keep-alive, x-hop',
        'x-hop': 'listed in Connection',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic eDp5',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-request-id': 'req-1',
      },
    });
    assert.equal(r.status, 200);
    const e = echoOf(r.body);
    assert.equal(e.url, '/app/page?x=1');
    assert.deepEqual(e.headers['kubeflow-userid'], ['alice']);
    assert.deepEqual(e.headers['kubeflow-groups'], ['admins,users']);
    assert.deepEqual(e.headers['auth-method'], ['header']);
    assert.equal(e.headers['kubeflow_userid'], undefined);
    assert.deepEqual(e.headers['cookie'], ['a=1; b=2']);
    for (const hop of ['x-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade', 'transfer-encoding']) assert.equal(e.headers[hop], undefined, hop);
    // the peer (127.0.0.1) is not a trusted proxy: its X-Forwarded-* claims are replaced
    assert.deepEqual(e.headers['x-forwarded-for'], ['127.0.0.1']);
    assert.deepEqual(e.headers['x-forwarded-proto'], ['http']);
    assert.deepEqual(e.headers['x-forwarded-host'], [`127.0.0.1:${h.port}`]);
    assert.deepEqual(e.headers['host'], [`127.0.0.1:${h.upstream.port}`]);
    assert.deepEqual(e.headers['x-request-id'], ['req-1']);
    assert.equal(h.seen[0]?.via, 'forwarder');
    assert.equal(h.seen[0]?.scheme, 'http');
    assert.equal(h.seen[0]?.path, '/app/page?x=1');
  });

  it('believes X-Forwarded-Proto and appends to X-Forwarded-For from a trusted proxy', async () => {
    const h = await startIngress({ trustedProxies: ['127.0.0.1/8'] });
    const r = await send(h.port, '/app', { headers: { 'x-test-user': 'alice', 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' } });
    const e = echoOf(r.body);
    assert.deepEqual(e.headers['x-forwarded-for'], ['203.0.113.9, 127.0.0.1']);
    assert.deepEqual(e.headers['x-forwarded-proto'], ['https']);
    assert.equal(h.seen[0]?.scheme, 'https');
    assert.match(e.headers['x-request-id']?.[0] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('lets skipped paths through without identity, removing forged identity headers', async () => {
    const h = await startIngress();
    const e = echoOf((await send(h.port, '/public/logo.png', { headers: { 'kubeflow-userid': 'root', kubeflow_groups: 'admins' } })).body);
    assert.equal(e.url, '/public/logo.png');
    assert.equal(e.headers['kubeflow-userid'], undefined);
    assert.equal(e.headers['kubeflow_groups'], undefined);
  });

  it('sends Unicode identity values as UTF-8 bytes', async () => {
    const h = await startIngress();
    const user = Buffer.from('José 李', 'utf8').toString('latin1');
    const groups = Buffer.from('équipe,团队', 'utf8').toString('latin1');
    const e = echoOf((await send(h.port, '/app', { headers: { 'x-test-user': user, 'x-test-groups': groups } })).body);
    assert.equal(utf8(e.headers['kubeflow-userid']?.[0]), 'José 李');
    assert.equal(utf8(e.headers['kubeflow-groups']?.[0]), 'équipe,团队');
  });

  it("adds the allow's response headers to the client response", async () => {
    const allow: Decision = {
      kind: 'allow',
      upstreamHeaders: [['kubeflow-userid', 'alice']],
      removeHeaders: [],
      responseHeaders: [
        ['set-cookie', `${SESSION_COOKIE}=refreshed; Path=/; HttpOnly`],
        ['x-judge', 'née'],
      ],
      reason: 'authenticated',
    };
    const h = await startIngress({ judge: async () => allow });
    const r = await send(h.port, '/hop');
    assert.equal(r.body, 'hop');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/', `${SESSION_COOKIE}=refreshed; Path=/; HttpOnly`]);
    assert.equal(utf8(r.headers['x-judge'] as string), 'née');
    assert.equal(r.headers['x-kept'], 'yes');
    // the upstream's hop-by-hop headers stay on the upstream hop
    for (const hop of ['x-listed', 'proxy-authenticate', 'trailer']) assert.equal(r.headers[hop], undefined, hop);
    assert.notEqual(r.headers['keep-alive'], 'timeout=5');
  });

  it('reuses upstream connections (keep-alive agent)', async () => {
    const h = await startIngress();
    const agent = new Agent({ keepAlive: true });
    for (let i = 0; i < 3; i++) assert.equal((await send(h.port, `/app/${i}`, { headers: { 'x-test-user': 'alice' }, agent })).status, 200);
    agent.destroy();
    assert.equal(h.upstream.connections(), 1);
  });
});

describe('ingress: denied requests', () => {
  it('answers a browser navigation without credentials with the login redirect and its cookie', async () => {
    const h = await startIngress();
    const r = await send(h.port, '/app', { headers: { accept: 'text/html' } });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, LOGIN_URL);
    assert.deepEqual(r.headers['set-cookie'], [`${STATE_COOKIE}=abc; Path=/; HttpOnly; Secure`]);
    assert.equal(r.body, '');
    assert.equal(h.upstream.heads.length, 0);
  });

  it('answers 401 with WWW-Authenticate to API calls and invalid credentials, 403 with a body when authorization fails', async () => {
    const h = await startIngress();
    const api = await send(h.port, '/api/x', { headers: { accept: 'application/json' } });
    assert.equal(api.status, 401);
    assert.match(String(api.headers['www-authenticate']), /^Bearer realm="oidc-judge"/);
    assert.deepEqual(JSON.parse(api.body), { error: 'unauthenticated', message: 'Authentication required' });
    const bad = await send(h.port, '/api/x', { headers: { 'x-test-user': 'bad' } });
    assert.equal(bad.status, 401);
    assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
    const forbidden = await send(h.port, '/api/x', { headers: { 'x-test-user': 'mallory' } });
    assert.equal(forbidden.status, 403);
    assert.deepEqual(JSON.parse(forbidden.body), { error: 'forbidden', message: 'not on the list' });
    assert.equal(h.upstream.heads.length, 0);
  });

  it('answers 503 when the judge fails, and never proxies', async () => {
    const h = await startIngress({ judge: () => Promise.reject(new Error('store down')) });
    const r = await send(h.port, '/app', { headers: { 'x-test-user': 'alice' } });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'Service unavailable');
    assert.equal(h.upstream.heads.length, 0);
    assert.ok(h.logs.some((l) => l.includes('judge failed')));
  });

  it('refuses both framings at once, and absolute-form targets, without asking the judge', async () => {
    const h = await startIngress();
    const both = await rawExchange(h.port, 'POST /app HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assert.match(both, /^HTTP\/1\.1 400 /);
    const absolute = await rawExchange(
      h.port,
      `GET http://127.0.0.1:${h.upstream.port}/app HTTP/1.1\r\nHost: a\r\nx-test-user: alice\r\nConnection: close\r\n\r\n`,
    );
    assert.match(absolute, /^HTTP\/1\.1 400 /);
    assert.equal(h.seen.length, 0);
    assert.equal(h.upstream.heads.length, 0);
  });

  it('answers a denied Expect: 100-continue request without inviting the body', async () => {
    const h = await startIngress();
    const out = await rawExchange(h.port, 'POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 401 /);
    assert.doesNotMatch(out, /100 Continue/);
  });

  it('invites the body of an allowed Expect: 100-continue request and forwards it without Expect', async () => {
    const h = await startIngress();
    const out = await rawExchange(
      h.port,
      'POST /api HTTP/1.1\r\nHost: a\r\nx-test-user: alice\r\nContent-Length: 3\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nabc',
    );
    assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    const e = echoOf(out.slice(out.indexOf('{')));
    assert.equal(e.body, 'abc');
    assert.equal(e.headers['expect'], undefined);
  });
});

describe('ingress: the service prefix', () => {
  const web = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`web ${req.url}`);
  };

  it('sends its pages to the web handler, and the callback and logout to the judge', async () => {
    const h = await startIngress({ web });
    assert.equal((await send(h.port, '/authservice/site/homepage')).body, 'web /authservice/site/homepage');
    assert.equal((await send(h.port, '/authservice')).body, 'web /authservice');
    const callback = await send(h.port, '/authservice/oidc/callback?code=c&state=s');
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.location, '/app');
    assert.deepEqual(callback.headers['set-cookie'], [`${SESSION_COOKIE}=new; Path=/; HttpOnly`]);
    const logout = await send(h.port, '/authservice/logout', { method: 'POST' });
    assert.equal(logout.status, 201);
    assert.deepEqual(JSON.parse(logout.body), { afterLogoutURL: '/bye' });
    assert.deepEqual(
      h.seen.map((r) => r.path),
      ['/authservice/oidc/callback?code=c&state=s', '/authservice/logout'],
    );
    assert.equal(h.upstream.heads.length, 0);
  });

  it('judges look-alikes and ambiguous paths instead of serving them as pages', async () => {
    const h = await startIngress({ web });
    assert.equal((await send(h.port, '/authservicex', { headers: { accept: 'application/json' } })).status, 401);
    assert.equal((await send(h.port, '/authservice/%2e%2e/app', { headers: { accept: 'application/json' } })).status, 401);
    assert.equal(h.seen.length, 2);
  });

  it('answers 404 under the prefix when there is no web handler', async () => {
    const h = await startIngress();
    const r = await send(h.port, '/authservice/site/homepage');
    assert.equal(r.status, 404);
    assert.equal(h.seen.length, 0);
  });
});

describe('ingress over TLS', () => {
  it('judges and forwards as https', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingress-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const h = await startIngress({ tls: { key, cert } });
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: h.port,
            path: '/app',
            ca: cert,
            servername: 'localhost',
            headers: { 'x-test-user': 'alice', 'x-forwarded-proto': 'http' },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(h.seen[0]?.scheme, 'https');
      assert.deepEqual(echoOf(body).headers['x-forwarded-proto'], ['https']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
