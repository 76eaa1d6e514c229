import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Revocation } from '../../src/sessions/feed.js';
import { openRedisStore } from '../../src/sessions/redis.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { startRedis, until, type RedisServer } from '../helpers/redis.js';
import { Recorder } from './contract.js';

const rnd = (): string => randomBytes(32).toString('base64url');

let server: RedisServer;
before(async () => {
  server = await startRedis();
});
after(async () => {
  await server?.stop();
});

function open(): SessionStore {
  return openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: server.port }], commandTimeoutMs: 500, reconnectMaxDelayMs: 200 });
}

/** Resolves with the next problem report that matches. */
function reported(problems: { on: (what: string) => void }, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const previous = problems.on;
    problems.on = (what) => {
      previous(what);
      if (pattern.test(what)) resolve(what);
    };
  });
}

describe('redis revocation feed', () => {
  it('subscribes again after Redis restarts, tells the listener to reset, and delivers again', async () => {
    const [a, b] = [open(), open()];
    const problems = { on: (_what: string): void => undefined };
    const feed = b.revocationFeed({ onProblem: (what) => problems.on(what) });
    const rec = new Recorder();
    try {
      await until(() => a.ping(), 'the publisher to connect');
      feed.subscribe(rec);
      await feed.subscribed();
      assert.equal(rec.resets, 1, 'a first subscription resets too (anything cached before it is unknown)');
      const before: Revocation = { field: 'sid', value: rnd() };
      let next = rec.next();
      await a.revocationFeed().publish(before);
      assert.deepEqual(await next, before);

      const lost = reported(problems, /lost/);
      await server.kill();
      await lost;
      const again = reported(problems, /subscribed to revocations again/);
      await server.restart();
      await again;
      assert.equal(rec.resets, 2, 'revocations published meanwhile are unknown: reset');

      await until(() => a.ping(), 'the publisher to reconnect');
      const after: Revocation = { field: 'subject', value: rnd() };
      next = rec.next();
      await a.revocationFeed().publish(after);
      assert.deepEqual(await next, after);
    } finally {
      await feed.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('publishing fails fast with StoreUnavailableError while Redis is down', async () => {
    const s = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: 1 }], commandTimeoutMs: 200 });
    const feed = s.revocationFeed();
    try {
      await assert.rejects(feed.publish({ field: 'key', value: rnd() }), { name: 'StoreUnavailableError' });
    } finally {
      await feed.close();
      await s.close();
    }
  });
});
