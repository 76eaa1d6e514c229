import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { connectAuthority } from '../../../src/forward/egress/connect.js';
import { bearerOf, connectVia, httpsViaProxy, makeCa, publishedJwks, send, startEgress, startTarget, type CaFiles, type Started, type Target } from './kit.js';

const run = promisify(execFile);

describe('egress forward proxy: HTTPS through CONNECT', () => {
  let mitm: CaFiles;
  let targetCa: CaFiles;
  let target: Target;
  let e: Started;
  let keyFile: string;
  before(async () => {
    mitm = await makeCa('ec', 'egress interception CA');
    targetCa = await makeCa('rsa', 'target CA');
    target = await startTarget({ cert: targetCa.serverCert, key: targetCa.serverKey });
    keyFile = join(mitm.dir, 'signer.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    e = await startEgress({
      token: { source: 'jwtproxy', issuer: 'mitm', keys: { preshared: { keyFile, kid: 'm1' } } },
      connectCa: { certFile: mitm.certFile, keyFile: mitm.keyFile },
      upstreamTls: { caFile: targetCa.certFile },
    });
  });
  after(async () => {
    await e.stop();
    await target.close();
    mitm.cleanup();
    targetCa.cleanup();
  });

  it('terminates TLS with a leaf minted by the CA, signs the inner request for https://host:port, forwards it over verified TLS', async () => {
    const seen = target.seen.length;
    const a = await httpsViaProxy(e.proxy.port, 'localhost', target.port, '/secure?x=1', mitm.certPem, { authorization: 'Bearer client' });
    assert.equal(a.status, 200);
    assert.equal(a.body, 'ok /secure?x=1');
    const leaf = new X509Certificate(a.peerCert);
    assert.equal(leaf.checkIssued(new X509Certificate(mitm.certPem)), true);
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    const got = target.seen[seen]!;
    assert.equal(got.host, `localhost:${target.port}`);
    const { payload } = await jwtVerify(bearerOf(got.authorization), createLocalJWKSet(await publishedJwks(e)), {
      issuer: 'mitm',
      audience: `https://localhost:${target.port}`,
    });
    assert.match(payload.jti!, /^[A-Za-z0-9_-]{32}$/);
  });

  it('caches the leaf per host, and mints IP-address leaves', async () => {
    const one = await httpsViaProxy(e.proxy.port, 'localhost', target.port, '/1', mitm.certPem);
    const two = await httpsViaProxy(e.proxy.port, 'localhost', target.port, '/2', mitm.certPem);
    assert.equal(new X509Certificate(one.peerCert).serialNumber, new X509Certificate(two.peerCert).serialNumber);
    const seen = target.seen.length;
    const ip = await httpsViaProxy(e.proxy.port, '127.0.0.1', target.port, '/ip', mitm.certPem);
    assert.equal(ip.status, 200);
    assert.equal(new X509Certificate(ip.peerCert).checkIP('127.0.0.1'), '127.0.0.1');
    const { payload } = await jwtVerify(bearerOf(target.seen[seen]!.authorization), createLocalJWKSet(await publishedJwks(e)), {
      audience: `https://127.0.0.1:${target.port}`,
    });
    assert.equal(payload.iss, 'mitm');
  });

  it('the target is the CONNECT authority, whatever Host the inner request names', async () => {
    const seen = target.seen.length;
    const a = await httpsViaProxy(e.proxy.port, 'localhost', target.port, '/h', mitm.certPem, { host: 'elsewhere.example' });
    assert.equal(a.status, 200);
    assert.equal(target.seen[seen]!.host, `localhost:${target.port}`);
  });

  it('works for curl as the client (--proxy, trusting only the interception CA)', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--noproxy',
      '',
      '--proxy',
      `http://127.0.0.1:${e.proxy.port}`,
      '--cacert',
      mitm.certFile,
      `https://localhost:${target.port}/curl`,
    ]);
    assert.equal(stdout, '/curl'.replace(/^/, 'ok '));
  });

  it('absolute https:// URIs are proxied over TLS too, verified against the bundle', async () => {
    const seen = target.seen.length;
    const a = await send(e.proxy.port, `https://localhost:${target.port}/abs`);
    assert.equal(a.status, 200);
    assert.equal(bearerOf(target.seen[seen]!.authorization).split('.').length, 3);
  });

  it('a malformed CONNECT target → 400', async () => {
    for (const authority of ['localhost', 'user@host:443', 'host:0', 'host:99999']) {
      const r = await connectVia(e.proxy.port, authority);
      assert.equal(r.status, 400, authority);
      r.socket.destroy();
    }
  });

  it('a target whose certificate the proxy does not trust → 502, nothing sent', async () => {
    const strict = await startEgress({ token: { source: 'static', token: 't' }, connectCa: { certFile: mitm.certFile, keyFile: mitm.keyFile } });
    try {
      const seen = target.seen.length;
      const a = await httpsViaProxy(strict.proxy.port, 'localhost', target.port, '/untrusted', mitm.certPem);
      assert.equal(a.status, 502);
      assert.equal(target.seen.length, seen);
    } finally {
      await strict.stop();
    }
  });

  it('without a CA, CONNECT is refused with 405 and a short reason', async () => {
    const plain = await startEgress({ token: { source: 'static', token: 't' } });
    try {
      assert.ok(plain.logs.some((l) => String(l['msg']).includes('CONNECT (HTTPS) requests will be refused')));
      const r = await connectVia(plain.proxy.port, `localhost:${target.port}`);
      assert.equal(r.status, 405);
      assert.match(r.body, /no CA to intercept TLS/);
    } finally {
      await plain.stop();
    }
  });

  it('with allowHosts, a CONNECT to a host not listed gets 403 and no tunnel; a listed one works', async () => {
    const listed = await startEgress({
      token: { source: 'static', token: 't' },
      connectCa: { certFile: mitm.certFile, keyFile: mitm.keyFile },
      upstreamTls: { caFile: targetCa.certFile },
      allowHosts: [`localhost:${target.port}`],
    });
    try {
      const seen = target.seen.length;
      for (const authority of [`127.0.0.1:${target.port}`, `localhost:${target.port + 1}`, `[::1]:${target.port}`]) {
        const r = await connectVia(listed.proxy.port, authority);
        assert.equal(r.status, 403, authority);
        assert.match(r.body, /allowHosts/);
        r.socket.destroy();
      }
      assert.equal(target.seen.length, seen);
      const a = await httpsViaProxy(listed.proxy.port, 'localhost', target.port, '/listed', mitm.certPem);
      assert.equal(a.status, 200);
      assert.equal(target.seen.length, seen + 1);
    } finally {
      await listed.stop();
    }
  });

  it('connectAuthority parses host:port, IPv6 in brackets, and refuses the rest', () => {
    assert.deepEqual(connectAuthority('Example.com:443'), { hostname: 'example.com', port: 443, origin: 'https://example.com' });
    assert.deepEqual(connectAuthority('[::1]:8443'), { hostname: '::1', port: 8443, origin: 'https://[::1]:8443' });
    assert.equal(connectAuthority('example.com'), undefined);
    assert.equal(connectAuthority('/path:1'), undefined);
  });
});
