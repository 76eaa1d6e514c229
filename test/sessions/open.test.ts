import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openSessionStore, parseRedisAddresses, type SessionStoreConfig } from '../../src/sessions/open.js';

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base: SessionStoreConfig = {
  sessionStoreType: 'sqlite',
  sessionStorePath: join(dir, 'data.db'),
  sessionStoreRedisAddr: '127.0.0.1:6379',
  sessionStoreRedisPwd: '',
  sessionStoreRedisDb: 0,
  sessionStoreRedisMode: 'standalone',
  sessionStoreRedisUsername: '',
  sessionStoreRedisSentinelMaster: 'mymaster',
  sessionStoreRedisSentinelPwd: '',
  sessionStoreRedisTls: false,
  sessionStoreRedisCa: '',
  sessionStoreRedisKeyPrefix: 'oidc-judge:',
};
const readFile = (p: string): string => readFileSync(p, 'utf8');

describe('parseRedisAddresses', () => {
  it('reads host:port lists, IPv6 in brackets, and default ports', () => {
    assert.deepEqual(parseRedisAddresses(' a:1, b ,[::1]:7000,[fe80::1]', 6379), [
      { host: 'a', port: 1 },
      { host: 'b', port: 6379 },
      { host: '::1', port: 7000 },
      { host: 'fe80::1', port: 6379 },
    ]);
  });

  it('names the bad item', () => {
    assert.throws(() => parseRedisAddresses('a:1,::1:80', 6379), /bad address "::1:80"/);
    assert.throws(() => parseRedisAddresses('a:99999', 6379), /bad port in "a:99999"/);
    assert.throws(() => parseRedisAddresses(' , ', 6379), /no address/);
  });
});

describe('openSessionStore', () => {
  it('opens the sqlite file by default', async () => {
    const store = openSessionStore(base, readFile);
    assert.equal(store.kind, 'sqlite');
    assert.equal(await store.ping(), true);
    await store.close();
  });

  it('names SESSION_STORE_PATH when the file cannot be opened', () => {
    const path = join(dir, 'nope', 'data.db');
    assert.throws(() => openSessionStore({ ...base, sessionStorePath: path }, readFile), {
      message: `SESSION_STORE_PATH: cannot open ${path} (directory ${join(dir, 'nope')} does not exist)`,
    });
  });

  it('opens redis without waiting for it', async () => {
    const store = openSessionStore({ ...base, sessionStoreType: 'redis', sessionStoreRedisAddr: '127.0.0.1:1' }, readFile);
    assert.equal(store.kind, 'redis');
    await store.close();
  });

  it('names the Redis variable at fault', () => {
    const redis = { ...base, sessionStoreType: 'redis' } as const;
    assert.throws(() => openSessionStore({ ...redis, sessionStoreRedisMode: 'cluster', sessionStoreRedisDb: 1 }, readFile), {
      message: 'SESSION_STORE_REDIS_DB: must be 0 in cluster mode',
    });
    assert.throws(
      () => openSessionStore({ ...redis, sessionStoreRedisAddr: 'a:1,b:2' }, readFile),
      /^Error: SESSION_STORE_REDIS_ADDR: standalone mode takes one address/,
    );
    assert.throws(() => openSessionStore({ ...redis, sessionStoreRedisAddr: 'a:x' }, readFile), /^Error: SESSION_STORE_REDIS_ADDR: bad address "a:x"/);
    const ca = join(dir, 'missing-ca.pem');
    assert.throws(() => openSessionStore({ ...redis, sessionStoreRedisTls: true, sessionStoreRedisCa: ca }, readFile), {
      message: `SESSION_STORE_REDIS_CA: cannot read ${ca} (ENOENT)`,
    });
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'hello');
    assert.throws(() => openSessionStore({ ...redis, sessionStoreRedisTls: true, sessionStoreRedisCa: notPem }, readFile), {
      message: `SESSION_STORE_REDIS_CA: ${notPem} holds no PEM certificate`,
    });
    assert.throws(() => openSessionStore({ ...redis, sessionStoreRedisCa: ca }, readFile), /SESSION_STORE_REDIS_CA: set, but SESSION_STORE_REDIS_TLS is off/);
  });
});
