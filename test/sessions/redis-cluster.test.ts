import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openRedisStore } from '../../src/sessions/redis.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { redisCli, startRedisCluster, until, type RedisCluster } from '../helpers/redis.js';
import { revocationFeedContract, sessionStoreContract } from './contract.js';

let cluster: RedisCluster;
before(async () => {
  cluster = await startRedisCluster(3);
});
after(async () => {
  await cluster?.stop();
});

async function openCluster(keyPrefix?: string): Promise<SessionStore> {
  // One seed node is enough: the client discovers the others.
  const store = openRedisStore({ mode: 'cluster', addresses: [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], ...(keyPrefix ? { keyPrefix } : {}) });
  await until(() => store.ping(), 'the cluster store to answer');
  return store;
}

sessionStoreContract('redis cluster (3 masters)', async () => {
  const store = await openCluster();
  return { store, cleanup: () => store.close() };
});

revocationFeedContract('redis cluster (subscribers on any node)', async () => {
  const [a, b] = [await openCluster(), await openCluster()];
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('redis cluster layout', () => {
  it('spreads sessions over the masters and still finds them all by index', async () => {
    const store = await openCluster('spread:');
    try {
      const t = Date.now();
      const subject = randomBytes(16).toString('hex');
      const keys = Array.from({ length: 30 }, () => randomBytes(32).toString('base64url'));
      await Promise.all(keys.map((k) => store.put(k, Buffer.from(k), t + 60_000, { subject })));
      const perNode = await Promise.all(
        cluster.nodes.map(async (n) => Number(await redisCli(n.port, 'eval', "return #redis.call('keys', 'spread:s:*')", '0'))),
      );
      assert.equal(
        perNode.reduce((a, b) => a + b, 0),
        keys.length,
      );
      assert.ok(perNode.filter((c) => c > 0).length >= 2, `keys on more than one master: ${perNode.join(', ')}`);
      assert.deepEqual((await store.deleteByIndex('subject', subject)).sort(), [...keys].sort());
    } finally {
      await store.close();
    }
  });
});
