import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ManualClock } from '../../../src/clock.js';
import { absoluteTarget } from '../../../src/forward/egress/forward-proxy.js';
import { freePort } from '../../helpers/net.js';
import { startGcpMetadata } from '../../helpers/gcp-metadata.js';
import { bearerOf, publishedJwks, send, startEgress, startTarget, type Started, type Target } from './kit.js';

describe('egress forward proxy (absolute-URI requests)', () => {
  let t1: Target;
  let t2: Target;
  let dir: string;
  let e: Started;
  before(async () => {
    t1 = await startTarget();
    t2 = await startTarget();
    dir = mkdtempSync(join(tmpdir(), 'oidc-judge-fwd-'));
    writeFileSync(join(dir, 'k.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    e = await startEgress({ token: { source: 'jwtproxy', issuer: 'fwd', keys: { preshared: { keyFile: join(dir, 'k.pem'), kid: 'fk' } } } });
  });
  after(async () => {
    await e.stop();
    await t1.close();
    await t2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs each request for its own target origin and proxies it there', async () => {
    const jwks = createLocalJWKSet(await publishedJwks(e));
    for (const t of [t1, t2]) {
      const seen = t.seen.length;
      const a = await send(e.proxy.port, `${t.origin}/a/b?c=1&d=2`, { headers: { authorization: 'Bearer client', 'proxy-authorization': 'Basic eDp5' } });
      assert.equal(a.status, 200);
      assert.equal(a.body, 'ok /a/b?c=1&d=2');
      const got = t.seen[seen]!;
      assert.equal(got.url, '/a/b?c=1&d=2');
      assert.equal(got.host, `127.0.0.1:${t.port}`);
      const { payload } = await jwtVerify(bearerOf(got.authorization), jwks, { issuer: 'fwd', audience: t.origin });
      assert.equal(payload.aud, t.origin);
    }
  });

  it('refuses origin-form requests: this is a forward proxy', async () => {
    const seen = t1.seen.length;
    const a = await send(e.proxy.port, '/not-absolute');
    assert.equal(a.status, 400);
    assert.match(a.body, /forward proxy/);
    assert.equal(t1.seen.length, seen);
  });

  it('refuses absolute URIs it cannot use (credentials, other schemes)', async () => {
    for (const target of [`http://u:p@127.0.0.1:${t1.port}/`, 'ftp://127.0.0.1/x']) {
      const s = connect(e.proxy.port, '127.0.0.1');
      s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      let got = '';
      for await (const c of s) got += String(c);
      assert.match(got, /^HTTP\/1\.1 400 /, target);
    }
  });

  it('a target that is down → 502 without detail', async () => {
    const port = await freePort();
    const a = await send(e.proxy.port, `http://127.0.0.1:${port}/x`);
    assert.equal(a.status, 502);
    assert.equal(a.body, 'Bad gateway');
  });

  it('absoluteTarget keeps the raw path and query, drops the fragment, lower-cases the origin', () => {
    assert.deepEqual(absoluteTarget('HTTP://Example.COM:80/a/../%2e?q=%20#frag'), {
      origin: 'http://example.com',
      path: '/a/../%2e?q=%20',
      hostname: 'example.com',
      port: 80,
    });
    assert.deepEqual(absoluteTarget('http://example.com?x'), { origin: 'http://example.com', path: '/?x', hostname: 'example.com', port: 80 });
    assert.deepEqual(absoluteTarget('https://[::1]:8443'), { origin: 'https://[::1]:8443', path: '/', hostname: '[::1]', port: 8443 });
    assert.equal(absoluteTarget('/origin-form'), undefined);
  });

  it('with the GCP source and no configured audience, one identity token per target origin, cached', async () => {
    const clock = new ManualClock();
    const md = await startGcpMetadata(clock);
    const g = await startEgress({ token: { source: 'gcp', metadataUrl: md.url } }, { clock });
    try {
      for (const t of [t1, t2, t1, t2]) {
        const seen = t.seen.length;
        assert.equal((await send(g.proxy.port, `${t.origin}/g`)).status, 200);
        assert.equal(decodeJwt(bearerOf(t.seen[seen]!.authorization)).aud, t.origin);
      }
      assert.deepEqual(
        md.requests.map((r) => r.audience),
        [t1.origin, t2.origin],
      );
    } finally {
      await g.stop();
      await md.close();
    }
  });
});

describe('egress forward proxy with allowHosts', () => {
  let allowed: Target;
  let other: Target;
  let e: Started;
  before(async () => {
    allowed = await startTarget();
    other = await startTarget();
    e = await startEgress({ token: { source: 'static', token: 'egress-token' }, allowHosts: [`localhost:${allowed.port}`, '*.allowed.test'] });
  });
  after(async () => {
    await e.stop();
    await allowed.close();
    await other.close();
  });

  it('forwards to a listed host and port', async () => {
    const seen = allowed.seen.length;
    const a = await send(e.proxy.port, `http://LOCALHOST:${allowed.port}/in`);
    assert.equal(a.status, 200);
    assert.deepEqual(allowed.seen[seen]?.authorization, ['Bearer egress-token']);
  });

  it('refuses any other host or port with 403 before a token goes anywhere, however the host is spelled', async () => {
    const before = allowed.seen.length + other.seen.length;
    for (const target of [
      `http://127.0.0.1:${allowed.port}/ip`,
      `http://0x7f.1:${allowed.port}/hex`,
      `http://localhost:${other.port}/other-port`,
      `http://allowed.test:${allowed.port}/apex`,
      `http://localhost.allowed.test.evil:${allowed.port}/suffix`,
    ]) {
      const a = await send(e.proxy.port, target);
      assert.equal(a.status, 403, target);
      assert.match(a.body, /allowHosts/);
    }
    assert.equal(allowed.seen.length + other.seen.length, before, 'nothing reached a target');
  });

  it('without allowHosts it forwards anywhere the pod reaches, and says so at start-up', async () => {
    const open = await startEgress({ token: { source: 'static', token: 't' } });
    try {
      assert.ok(open.logs.some((l) => String(l['msg']).includes('without allowHosts')));
      assert.equal((await send(open.proxy.port, `http://127.0.0.1:${other.port}/any`)).status, 200);
    } finally {
      await open.stop();
    }
  });
});
