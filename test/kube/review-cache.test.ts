import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { RateLimiter, ReviewCache } from '../../src/kube/review-cache.js';

describe('kube review cache and client rate limit', () => {
  it('keeps positive answers for the TTL, keyed by a hash (never the token)', () => {
    const clock = new ManualClock();
    const cache = new ReviewCache<string>(clock, 10_000);
    const key = ReviewCache.keyOf('secret-token');
    assert.ok(!key.includes('secret'));
    cache.set(key, 'alice');
    assert.equal(cache.get(key), 'alice');
    clock.advance(9_999);
    assert.equal(cache.get(key), 'alice');
    clock.advance(1);
    assert.equal(cache.get(key), undefined);
    const off = new ReviewCache<string>(clock, 0);
    off.set(key, 'alice');
    assert.equal(off.get(key), undefined);
  });

  it('lets a burst through, then one call per 1/qps seconds, in order (client-go QPS and burst)', async () => {
    const clock = new ManualClock();
    const waits: number[] = [];
    const limiter = new RateLimiter(clock, 2, 3, async (ms) => {
      waits.push(ms);
      clock.advance(ms);
    });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire().then(() => order.push(i))));
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.deepEqual(waits, [500, 500]);
    clock.advance(10_000);
    waits.length = 0;
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    assert.deepEqual(waits, []);
  });

  it('does not limit with qps 0', async () => {
    const limiter = new RateLimiter(new ManualClock(), 0, 1, () => Promise.reject(new Error('must not wait')));
    const done = await Promise.all(Array.from({ length: 50 }, () => limiter.acquire().then(() => true)));
    assert.equal(done.length, 50);
  });
});
