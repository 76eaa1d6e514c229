import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { before, describe, it } from 'node:test';
import { deny, type Decision } from '../../src/judge/decision.js';
import { send } from '../helpers/http-send.js';
import { allowAlice, allowSkip, forbiddenHtml, login302, start, unauthorized, type Harness } from '../helpers/http-judge.js';

describe('Envoy http_service (no path prefix)', () => {
  let h: Harness;
  before(async () => {
    h = await start();
  });

  it('judges the request itself and answers 200 with identity headers and x-envoy-auth-headers-to-remove', async () => {
    h.decide = () => allowAlice;
    const r = await send(h.port, '/app/x?y=1', {
      method: 'POST',
      headers: {
        host: 'App.Example:8443',
        'x-request-id': 'rid-1',
        'x-forwarded-proto': 'https',
        cookie: ['a=1', 'b=2'],
        'x-multi': ['one', 'two'],
        'content-length': '0',
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(r.headers['kubeflow-groups'], 'admins,users');
    assert.equal(r.headers['auth-method'], 'header');
    assert.equal(r.headers['x-envoy-auth-headers-to-remove'], 'authorization, x-auth-token');
    assert.equal(r.headers['content-length'], '0');
    assert.equal(r.body, '');
    const j = h.seen.at(-1)!;
    assert.equal(j.method, 'POST');
    assert.equal(j.path, '/app/x?y=1');
    assert.equal(j.host, 'app.example:8443');
    assert.equal(j.scheme, 'https');
    assert.equal(j.via, 'http');
    assert.equal(j.denyStyle, 'redirect');
    assert.equal(j.requestId, 'rid-1');
    assert.equal(j.peer, '127.0.0.1');
    assert.equal(j.headers['cookie'], 'a=1; b=2');
    assert.equal(j.headers['x-multi'], 'one, two');
  });

  it('omits x-envoy-auth-headers-to-remove when there is nothing to remove, and makes up a request id', async () => {
    h.decide = () => allowSkip;
    const r = await send(h.port, '/public');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-envoy-auth-headers-to-remove'], undefined);
    assert.equal(r.headers['kubeflow-userid'], undefined);
    assert.match(h.seen.at(-1)!.requestId, /^[0-9a-f-]{36}$/);
  });

  it('passes a login redirect through: 302, Location and every Set-Cookie', async () => {
    h.decide = () => login302;
    const r = await send(h.port, '/app');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://idp.example/auth?client_id=c&state=s');
    assert.deepEqual(r.headers['set-cookie'], ['oidc_state_s=1; Path=/authservice; HttpOnly; Secure', 'other=2; Path=/']);
    assert.equal(r.body, '');
  });

  it('passes 401 with WWW-Authenticate (text/plain body) and 403 with its own content type', async () => {
    h.decide = () => unauthorized;
    const r401 = await send(h.port, '/api');
    assert.equal(r401.status, 401);
    assert.equal(r401.headers['www-authenticate'], 'Bearer realm="oidc-judge", error="invalid_token"');
    assert.equal(r401.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r401.body, 'Unauthorized');
    h.decide = () => forbiddenHtml;
    const r403 = await send(h.port, '/api');
    assert.equal(r403.status, 403);
    assert.equal(r403.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r403.body, '<p>Forbidden</p>');
  });

  it('never lets a deny out as 200 (which Envoy reads as allow)', async () => {
    h.decide = () => ({ ...deny(403, 'forbidden', 'oops'), status: 200 });
    assert.equal((await send(h.port, '/x')).status, 403);
  });

  it('ignores X-Forwarded-Proto from an untrusted peer', async () => {
    const u = await start({ trustedProxies: ['10.9.9.9/32'] });
    await send(u.port, '/x', { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(u.seen.at(-1)!.scheme, 'http');
    assert.equal(u.seen.at(-1)!.via, 'http');
  });

  it('joins repeated Authorization headers instead of keeping only the first', async () => {
    await send(h.port, '/x', { headers: { authorization: ['Bearer a', 'Bearer b'] } });
    assert.equal(h.seen.at(-1)!.headers['authorization'], 'Bearer a, Bearer b');
  });

  it('answers 400 to two Host headers without judging', async () => {
    const before = h.seen.length;
    const r = await send(h.port, '/x', { headers: { host: ['a.example', 'b.example'] } });
    assert.equal(r.status, 400);
    assert.equal(h.seen.length, before);
  });

  it('never reads the body and keeps the connection alive', async () => {
    h.decide = () => allowAlice;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let connections = 0;
    const count = (): void => void connections++;
    h.judge.server.on('connection', count);
    try {
      const a = await send(h.port, '/upload', { method: 'POST', body: 'x'.repeat(200_000), agent });
      const b = await send(h.port, '/next', { agent });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.equal(connections, 1);
    } finally {
      h.judge.server.off('connection', count);
      agent.destroy();
    }
  });
});

describe('Ambassador AuthService / Envoy path_prefix', () => {
  let h: Harness;
  before(async () => {
    h = await start({ checkPathPrefix: '/extauth' });
  });

  it('strips the prefix and believes X-Forwarded-Proto from a trusted peer', async () => {
    h.decide = () => allowAlice;
    const r = await send(h.port, '/extauth/app/x?y=1', { method: 'DELETE', headers: { host: 'app.example', 'x-forwarded-proto': 'https' } });
    assert.equal(r.status, 200);
    const j = h.seen.at(-1)!;
    assert.deepEqual([j.method, j.scheme, j.host, j.path, j.via], ['DELETE', 'https', 'app.example', '/app/x?y=1', 'http']);
  });

  it('judges the prefix alone as "/"', async () => {
    await send(h.port, '/extauth?q=1');
    assert.equal(h.seen.at(-1)!.path, '/?q=1');
  });

  it('answers 400 outside the prefix, without judging', async () => {
    const before = h.seen.length;
    assert.equal((await send(h.port, '/other/app')).status, 400);
    assert.equal((await send(h.port, '/extauthx/app')).status, 400);
    assert.equal(h.seen.length, before);
  });
});

describe('failures and hooks', () => {
  let h: Harness;
  before(async () => {
    h = await start({}, (req, res) => {
      if (req.url !== '/authservice/oidc/callback') return false;
      res.writeHead(302, { location: '/home' }).end();
      return true;
    });
  });

  it('answers 503 when the judge throws or rejects, and logs without tokens or the query', async () => {
    for (const fail of [
      () => {
        throw new Error('store down');
      },
      () => Promise.reject(new Error('store down')),
    ]) {
      h.decide = fail;
      h.logs.length = 0;
      const r = await send(h.port, '/app?access_token=q-secret', { headers: { authorization: 'Bearer s3cr3t', cookie: 'authservice_session=c-secret' } });
      assert.equal(r.status, 503);
      assert.equal(r.body, 'Service unavailable');
      const all = h.logs.join('\n');
      assert.match(all, /judge failed/);
      assert.match(all, /store down/);
      for (const secret of ['s3cr3t', 'c-secret', 'q-secret']) assert.ok(!all.includes(secret), secret);
    }
  });

  it('answers 503 when a decision carries an invalid header value', async () => {
    h.decide = () => ({ ...allowAlice, upstreamHeaders: [['kubeflow-userid', 'alice\r\nx-admin: 1']] });
    const r = await send(h.port, '/app');
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-admin'], undefined);
  });

  it('lets the routes hook answer first', async () => {
    const before = h.seen.length;
    const r = await send(h.port, '/authservice/oidc/callback');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/home');
    assert.equal(h.seen.length, before);
  });
});

describe('close(drainMs)', () => {
  it('lets an in-flight check finish, closes idle keep-alive connections, then refuses new ones', async () => {
    const h = await start();
    let release!: (d: Decision) => void;
    let called!: () => void;
    const judged = new Promise<void>((r) => (called = r));
    const idleAgent = new Agent({ keepAlive: true });
    try {
      h.decide = () => allowSkip;
      assert.equal((await send(h.port, '/warm', { agent: idleAgent })).status, 200); // leaves an idle socket
      h.decide = () => {
        called();
        return new Promise<Decision>((r) => (release = r));
      };
      const inflight = send(h.port, '/slow');
      await Promise.race([judged, inflight.then(() => assert.fail('answered without judging'))]);
      const closed = h.judge.close(60_000);
      release(allowAlice);
      const r = await inflight;
      assert.equal(r.status, 200);
      assert.equal(r.headers.connection, 'close');
      await closed; // resolves well before 60 s: the idle socket was closed, not waited for
      await assert.rejects(send(h.port, '/after'), /ECONNREFUSED/);
    } finally {
      idleAgent.destroy();
    }
  });

  it('force-closes a check that outlives drainMs', async () => {
    const h = await start();
    let called!: () => void;
    const judged = new Promise<void>((r) => (called = r));
    h.decide = () => {
      called();
      return new Promise<Decision>(() => {});
    };
    const stuck = send(h.port, '/stuck');
    await Promise.race([judged, stuck.then(() => assert.fail('answered without judging'))]);
    await h.judge.close(20);
    await assert.rejects(stuck, /socket hang up|ECONNRESET/);
  });
});
