import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openRedisStore, type RedisStoreOptions } from '../../src/sessions/redis.js';
import { StoreUnavailableError, type SessionStore } from '../../src/sessions/store.js';
import { freePort } from '../helpers/net.js';
import { makeTlsFiles, redisCli, startRedis, until, type RedisServer, type TlsFiles } from '../helpers/redis.js';
import { revocationFeedContract, sessionStoreContract } from './contract.js';

const HOUR = 3_600_000;
/**
 * "Fails fast" for a few calls with a 500 ms command timeout: each waits at most one timeout while
 * a connection attempt is under way, so 10 s leaves a busy machine room (3 s was tight) and still
 * fails calls that hang on retries or an offline queue.
 */
const FAIL_FAST_MS = 10_000;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => b && Buffer.from(b).toString();

let plain: RedisServer;
let acl: RedisServer;
let tlsServer: RedisServer;
let tls: TlsFiles;
const opened: SessionStore[] = [];

before(async () => {
  tls = await makeTlsFiles();
  plain = await startRedis();
  acl = await startRedis({ requirePass: 'default-secret', aclUser: { name: 'judge', pass: 'judge-secret' } });
  tlsServer = await startRedis({ tls });
});
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await Promise.all([plain?.stop(), acl?.stop(), tlsServer?.stop()]);
  tls?.cleanup();
});

/** Opens a store and waits (bounded) until it answers. */
async function open(opts: Partial<RedisStoreOptions> & Pick<RedisStoreOptions, 'addresses'>): Promise<SessionStore> {
  const store = openRedisStore({ mode: 'standalone', ...opts });
  opened.push(store);
  await until(() => store.ping(), 'the store to answer');
  return store;
}

sessionStoreContract('redis standalone', async () => {
  const store = await open({ addresses: [{ host: '127.0.0.1', port: plain.port }] });
  return { store, cleanup: () => store.close() };
});

revocationFeedContract('redis standalone', async () => {
  const [a, b] = [await open({ addresses: [{ host: '127.0.0.1', port: plain.port }] }), await open({ addresses: [{ host: '127.0.0.1', port: plain.port }] })];
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

sessionStoreContract('redis over TLS, db 3', async () => {
  const store = await open({ addresses: [{ host: '127.0.0.1', port: tlsServer.port }], tls: true, ca: readFileSync(tls.ca, 'utf8'), db: 3 });
  return { store, cleanup: () => store.close() };
});

describe('redis store options', () => {
  const t = Date.now();

  it('writes into the chosen database, under the key prefix, and never the raw value name', async () => {
    const s = await open({ addresses: [{ host: '127.0.0.1', port: plain.port }], db: 5, keyPrefix: 'pfx5:' });
    await s.put('k1', bytes('v'), t + HOUR, { subject: 'sub1' });
    assert.deepEqual((await redisCli(plain.port, '-n', '5', '--scan', '--pattern', 'pfx5:*')).split('\n').sort(), ['pfx5:s:k1', 'pfx5:x:subject:sub1']);
    assert.equal(await redisCli(plain.port, '-n', '0', 'exists', 'pfx5:s:k1'), '0');
    const ttl = Number(await redisCli(plain.port, '-n', '5', 'pttl', 'pfx5:s:k1'));
    assert.ok(ttl > 0 && ttl <= HOUR, `Redis expires the record too (pttl ${ttl})`);
  });

  it('isolates stores with different key prefixes', async () => {
    const a = await open({ addresses: [{ host: '127.0.0.1', port: plain.port }], keyPrefix: 'a:' });
    const b = await open({ addresses: [{ host: '127.0.0.1', port: plain.port }], keyPrefix: 'b:' });
    await a.put('same', bytes('from a'), t + HOUR, { sid: 'sid' });
    assert.ok(Buffer.from(await a.sharedSecret('same', bytes('key a'))).equals(Buffer.from('key a')));
    assert.equal(await b.get('same', t), undefined);
    assert.ok(Buffer.from(await b.sharedSecret('same', bytes('key b'))).equals(Buffer.from('key b')));
    assert.deepEqual(await b.deleteByIndex('sid', 'sid'), []);
    assert.ok(await b.lock('same', HOUR, t));
    assert.ok(await a.lock('same', HOUR, t));
    assert.equal(text((await a.get('same', t))?.value), 'from a');
  });

  it('authenticates as an ACL user or with the default user’s password', async () => {
    const addresses = [{ host: '127.0.0.1', port: acl.port }];
    const user = await open({ addresses, username: 'judge', password: 'judge-secret' });
    await user.put('k', bytes('acl'), t + HOUR);
    const def = await open({ addresses, password: 'default-secret' });
    assert.equal(text((await def.get('k', t))?.value), 'acl');
  });

  it('a wrong password fails with StoreUnavailableError that does not echo it', async () => {
    const s = openRedisStore({
      mode: 'standalone',
      addresses: [{ host: '127.0.0.1', port: acl.port }],
      username: 'judge',
      password: 'wrong-secret',
      commandTimeoutMs: 300,
    });
    opened.push(s);
    const err = await s.get('k', t).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreUnavailableError);
    assert.doesNotMatch(err.message, /wrong-secret/);
    assert.equal(await s.ping(), false);
  });

  it('TLS with an unknown CA is refused', async () => {
    const s = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: tlsServer.port }], tls: true, commandTimeoutMs: 300 });
    opened.push(s);
    await assert.rejects(s.get('k', t), StoreUnavailableError);
  });

  it('calls made while the first connection is under way wait for it', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const s = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: plain.port }] });
      opened.push(s);
      const got = await Promise.all(Array.from({ length: 50 }, () => s.get('absent', t)));
      assert.deepEqual(got, Array(50).fill(undefined));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('opening does not wait for Redis, and calls fail fast while nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const s = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port }], commandTimeoutMs: 500 });
    opened.push(s);
    await assert.rejects(s.get('k', t), StoreUnavailableError);
    await assert.rejects(s.lock('l', 1000, t), StoreUnavailableError);
    assert.equal(await s.ping(), false);
    assert.ok(Date.now() - started < FAIL_FAST_MS, `took ${Date.now() - started} ms`);
  });

  it('rejects quickly while Redis is down and works again once it is back, without reopening', async () => {
    const server = await startRedis();
    try {
      const s = await open({ addresses: [{ host: '127.0.0.1', port: server.port }], commandTimeoutMs: 500, reconnectMaxDelayMs: 100 });
      await s.put('k', bytes('before'), t + HOUR);
      await server.kill();
      const started = Date.now();
      for (const call of [
        () => s.get('k', t),
        () => s.put('k2', bytes('x'), t + HOUR),
        () => s.sharedSecret('k', bytes('x')),
        () => s.deleteByIndex('sid', 'x'),
      ]) {
        await assert.rejects(call(), StoreUnavailableError);
      }
      assert.ok(Date.now() - started < FAIL_FAST_MS, `failing took ${Date.now() - started} ms`);
      assert.equal(await s.ping(), false);
      await server.restart();
      await until(() => s.ping(), 'the store to reconnect');
      await s.put('k', bytes('after'), t + HOUR);
      assert.equal(text((await s.get('k', t))?.value), 'after');
    } finally {
      await server.stop();
    }
  });

  it('a Redis that stops answering costs one call the timeout; meanwhile the others fail at once, and the first answer ends it', async () => {
    const server = await startRedis();
    try {
      const s = await open({ addresses: [{ host: '127.0.0.1', port: server.port }], commandTimeoutMs: 400 });
      await s.put('k', bytes('v'), t + HOUR);
      server.pause();
      await assert.rejects(s.get('k', t), /timed out/);
      // One call probes (and waits its timeout); the 20 others meanwhile are refused without being sent.
      let probeDone = false;
      const probe = s
        .get('k', t)
        .then(
          () => 'answered',
          (e: Error) => `probe: ${e.message}`,
        )
        .finally(() => (probeDone = true));
      const others = await Promise.allSettled(Array.from({ length: 20 }, () => s.get('k', t)));
      assert.equal(probeDone, false, 'the others were refused while the probe was still waiting');
      assert.ok(
        others.every((o) => o.status === 'rejected' && o.reason instanceof StoreUnavailableError && /one call is probing/.test((o.reason as Error).message)),
        JSON.stringify(others.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'fulfilled'))),
      );
      assert.match(await probe, /^probe: .*timed out/);
      server.resume();
      // The next call probes again, gets its answer, and the store is back to normal for everyone.
      assert.equal(text((await s.get('k', t))?.value), 'v');
      const after = await Promise.all(Array.from({ length: 5 }, () => s.get('k', t)));
      assert.deepEqual(
        after.map((r) => text(r?.value)),
        Array(5).fill('v'),
      );
    } finally {
      server.resume();
      await server.stop();
    }
  });

  it('refuses a database number in cluster mode', () => {
    assert.throws(() => openRedisStore({ mode: 'cluster', addresses: [{ host: '127.0.0.1', port: 1 }], db: 2 }), /must be 0 in cluster mode/);
  });
});
