import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRedisStore } from '../../src/sessions/redis.js';
import { StoreUnavailableError } from '../../src/sessions/store.js';
import { redisCli, startRedis, startRedisSentinel, until, type RedisServer } from '../helpers/redis.js';
import { revocationFeedContract, sessionStoreContract } from './contract.js';

let master: RedisServer;
let sentinel: RedisServer;
before(async () => {
  master = await startRedis({ requirePass: 'master-secret' });
  sentinel = await startRedisSentinel(master.port, { masterName: 'judgemaster', masterPass: 'master-secret', sentinelPass: 'sentinel-secret' });
});
after(async () => {
  await sentinel?.stop();
  await master?.stop();
});

const viaSentinel = (sentinelPassword: string, commandTimeoutMs = 1000) =>
  openRedisStore({
    mode: 'sentinel',
    addresses: [{ host: '127.0.0.1', port: sentinel.port }],
    sentinelMaster: 'judgemaster',
    sentinelPassword,
    password: 'master-secret',
    db: 2,
    keyPrefix: 'via-sentinel:',
    commandTimeoutMs,
  });

sessionStoreContract('redis via sentinel', async () => {
  const store = viaSentinel('sentinel-secret');
  await until(() => store.ping(), 'the store to find the master');
  return { store, cleanup: () => store.close() };
});

revocationFeedContract('redis via sentinel', async () => {
  const [a, b] = [viaSentinel('sentinel-secret'), viaSentinel('sentinel-secret')];
  await until(async () => (await a.ping()) && (await b.ping()), 'both stores to find the master');
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('redis sentinel', () => {
  it('writes to the master the sentinel names', async () => {
    const store = viaSentinel('sentinel-secret');
    try {
      await until(() => store.ping(), 'the store to find the master');
      await store.put('k', new Uint8Array([1, 2, 3]), Date.now() + 60_000);
      assert.equal(await redisCli(master.port, '-a', 'master-secret', '--no-auth-warning', '-n', '2', 'exists', 'via-sentinel:s:k'), '1');
    } finally {
      await store.close();
    }
  });

  it('a wrong sentinel password makes calls fail with StoreUnavailableError', async () => {
    const store = viaSentinel('wrong', 300);
    try {
      await assert.rejects(store.get('k', Date.now()), StoreUnavailableError);
      assert.equal(await store.ping(), false);
    } finally {
      await store.close();
    }
  });
});
