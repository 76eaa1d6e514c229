import assert from 'node:assert/strict';
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { systemClock } from '../../../src/clock.js';
import { parseForwarderBlocks } from '../../../src/forward/runtime/blocks.js';
import { egressMode } from '../../../src/forward/egress/mode.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { startForwarders } from '../../../src/forward/runtime/run.js';
import { createLogger } from '../../../src/obs/log.js';
import { freePort } from '../../helpers/net.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';
import { bearerOf, httpsViaProxy, makeCa, send, startEgress, startTarget, type CaFiles, type Target } from './kit.js';

describe('egress mode: reverse-proxy operation', () => {
  let target: Target;
  let ca: CaFiles;
  let tlsTarget: Target;
  let keyFile: string;
  before(async () => {
    target = await startTarget();
    ca = await makeCa('ec', 'upstream CA');
    tlsTarget = await startTarget({ cert: ca.serverCert, key: ca.serverKey });
    keyFile = join(ca.dir, 'signer.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
  });
  after(async () => {
    await target.close();
    await tlsTarget.close();
    ca.cleanup();
  });

  it('is the `egress` mode', () => {
    assert.equal(egressMode.mode, 'egress');
  });

  it('joins the upstream base path and query, sends the upstream Host (or the client one when asked)', async () => {
    for (const [host, expected] of [
      [undefined, `127.0.0.1:${target.port}`],
      ['client', 'front.example'],
    ] as const) {
      const e = await startEgress({ upstream: `${target.origin}/base?u=1`, token: { source: 'static', token: 's' }, ...(host !== undefined ? { host } : {}) });
      try {
        const seen = target.seen.length;
        const a = await send(e.proxy.port, '/p?q=2', { headers: { host: 'front.example' } });
        assert.equal(a.status, 200);
        assert.equal(target.seen[seen]!.url, '/base/p?u=1&q=2');
        assert.equal(target.seen[seen]!.host, expected);
      } finally {
        await e.stop();
      }
    }
  });

  it('refuses absolute-URI (forward proxy) requests with 400', async () => {
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token: 's' } });
    try {
      const seen = target.seen.length;
      assert.equal((await send(e.proxy.port, `${target.origin}/x`)).status, 400);
      assert.equal(target.seen.length, seen);
    } finally {
      await e.stop();
    }
  });

  it('an upstream that is down → 502', async () => {
    const e = await startEgress({ upstream: `http://127.0.0.1:${await freePort()}`, token: { source: 'static', token: 's' } });
    try {
      assert.equal((await send(e.proxy.port, '/')).status, 502);
    } finally {
      await e.stop();
    }
  });

  it('an https upstream is verified against the system roots plus upstreamTls.caFile; insecureSkipVerify skips it', async () => {
    const untrusted = await startEgress({ upstream: `https://localhost:${tlsTarget.port}`, token: { source: 'static', token: 's' } });
    try {
      assert.equal((await send(untrusted.proxy.port, '/')).status, 502);
    } finally {
      await untrusted.stop();
    }
    for (const upstreamTls of [{ caFile: ca.certFile }, { insecureSkipVerify: true }]) {
      const e = await startEgress({ upstream: `https://localhost:${tlsTarget.port}`, token: { source: 'static', token: 's' }, upstreamTls });
      try {
        const seen = tlsTarget.seen.length;
        assert.equal((await send(e.proxy.port, '/tls')).status, 200);
        assert.deepEqual(tlsTarget.seen[seen]!.authorization, ['Bearer s']);
      } finally {
        await e.stop();
      }
    }
  });

  it('websocket upgrades carry the token too', async () => {
    const up: Upstream = await startUpstream();
    const e = await startEgress({ upstream: up.url, token: { source: 'jwtproxy', issuer: 'ws', keys: { preshared: { keyFile, kid: 'w' } } } });
    try {
      const s = connect(e.proxy.port, '127.0.0.1');
      s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer client\r\n\r\n');
      const [head] = (await once(s, 'data')) as [Buffer];
      assert.match(head.toString(), /^HTTP\/1\.1 101 /);
      s.write('ping');
      let echoed = head.toString().includes('\r\n\r\nping') ? 'ping' : '';
      while (echoed !== 'ping') echoed += String(((await once(s, 'data')) as [Buffer])[0]);
      s.destroy();
      const auth = up.upgrades[0]!.headers['authorization']!;
      assert.equal(decodeJwt(bearerOf(auth)).aud, up.url);
    } finally {
      await e.stop();
      await up.close();
    }
  });

  it('publishes the JWKS with ETag, Cache-Control and 304 on If-None-Match', async () => {
    const e = await startEgress({ upstream: target.origin, token: { source: 'jwtproxy', keys: { preshared: { keyFile, kid: 'pub' } } } });
    try {
      const a = await send(e.health.port, '/.well-known/jwks.json');
      assert.equal(a.status, 200);
      assert.equal(a.headers['content-type'], 'application/json');
      assert.equal(a.headers['cache-control'], 'public, max-age=300');
      assert.match(String(a.headers.etag), /^"[0-9a-f]{64}"$/);
      assert.deepEqual(
        (JSON.parse(a.body) as { keys: { kid: string }[] }).keys.map((k) => k.kid),
        ['pub'],
      );
      const b = await send(e.health.port, '/.well-known/jwks.json', { headers: { 'if-none-match': String(a.headers.etag) } });
      assert.equal(b.status, 304);
      assert.equal(b.body, '');
    } finally {
      await e.stop();
    }
  });

  it('publishes at a configured jwksPath', async () => {
    const e = await startEgress({ upstream: target.origin, jwksPath: '/keys', token: { source: 'jwtproxy', keys: { preshared: { keyFile, kid: 'p2' } } } });
    try {
      assert.deepEqual(Object.keys(e.handler.healthRoutes ?? {}), ['/keys']);
      assert.equal((await send(e.health.port, '/keys')).status, 200);
    } finally {
      await e.stop();
    }
  });

  it('runs under the forwarder runtime: signed requests, CONNECT, JWKS and /readyz on the health listener', async () => {
    const modes = new Map([['egress', egressMode as ModeDefinition<unknown>]]);
    const parsed = parseForwarderBlocks(
      [
        {
          name: 'signer',
          mode: 'egress',
          listen: '127.0.0.1:0',
          connectCa: { certFile: ca.certFile, keyFile: ca.keyFile },
          upstreamTls: { caFile: ca.certFile },
          token: { source: 'jwtproxy', issuer: 'rt', keys: { preshared: { keyFile, kid: 'rt' } } },
        },
      ],
      modes,
    );
    assert.deepEqual(parsed.errors, []);
    const fw = await startForwarders(parsed.blocks, modes, {
      log: createLogger('fatal'),
      clock: systemClock,
      readFile: (p) => readFileSync(p, 'utf8'),
      healthListen: '127.0.0.1:0',
    });
    try {
      const port = fw.listeners[0]!.port;
      let seen = target.seen.length;
      assert.equal((await send(port, `${target.origin}/rt`)).status, 200);
      assert.equal(decodeJwt(bearerOf(target.seen[seen]!.authorization)).aud, target.origin);
      seen = tlsTarget.seen.length;
      const a = await httpsViaProxy(port, 'localhost', tlsTarget.port, '/rt-tls', ca.certPem);
      assert.equal(a.status, 200);
      assert.equal(decodeJwt(bearerOf(tlsTarget.seen[seen]!.authorization)).aud, `https://localhost:${tlsTarget.port}`);
      assert.equal((await send(fw.healthPort!, '/readyz')).status, 200);
      const jwks = JSON.parse((await send(fw.healthPort!, '/.well-known/jwks.json')).body) as { keys: { kid: string }[] };
      assert.deepEqual(
        jwks.keys.map((k) => k.kid),
        ['rt'],
      );
    } finally {
      await fw.stop(1000);
    }
  });

  it('create() rejects unreadable or wrong files, naming the option', async () => {
    const deps = { log: createLogger('fatal'), clock: systemClock, readFile: (p: string) => readFileSync(p, 'utf8') };
    const create = (block: Record<string, unknown>): Promise<unknown> => {
      const errs: string[] = [];
      const o = egressMode.parse(block, 'f', errs);
      assert.deepEqual(errs, []);
      return Promise.resolve().then(() => egressMode.create(o, deps));
    };
    const tok = { source: 'static', token: 's' };
    await assert.rejects(
      create({ token: tok, connectCa: { certFile: '/nonexistent/ca.crt', keyFile: ca.keyFile } }),
      /^Error: connectCa\.certFile: cannot read \/nonexistent\/ca\.crt \(ENOENT\)$/,
    );
    await assert.rejects(create({ token: tok, connectCa: { certFile: ca.certFile, keyFile } }), /connectCa: the CA key does not match/);
    await assert.rejects(
      create({ token: tok, connectCa: { certFile: ca.certFile.replace('ca.crt', 'server.crt'), keyFile: ca.keyFile.replace('ca.key', 'server.key') } }),
      /connectCa: the CA certificate is not a CA/,
    );
    await assert.rejects(
      create({ upstream: target.origin, token: { source: 'jwtproxy', keys: { preshared: { keyFile: '/nonexistent.pem', kid: 'k' } } } }),
      /token\.keys\.preshared\.keyFile: cannot read/,
    );
    await assert.rejects(
      create({ upstream: target.origin, token: { source: 'jwtproxy', keys: { preshared: { keyFile: ca.keyFile, kid: 'k' } } } }),
      /token\.keys\.preshared\.keyFile: an RSA private key is needed/,
    );
    await assert.rejects(create({ upstream: target.origin, upstreamTls: { caFile: '/nonexistent.pem' }, token: tok }), /upstreamTls\.caFile: cannot read/);
  });
});
