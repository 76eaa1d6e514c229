import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../../src/clock.js';
import { audienceOf, nonce } from '../../../../src/forward/egress/tokens/jwtproxy-claims.js';
import { TokenCache, TokenError, type Expiring } from '../../../../src/forward/egress/tokens/source.js';
import { createLogger } from '../../../../src/obs/log.js';

/** A fetcher the test settles by hand, counting calls per audience. */
function manualFetcher() {
  const calls: { audience: string; resolve: (t: Expiring) => void; reject: (e: unknown) => void }[] = [];
  const fetch = (audience: string): Promise<Expiring> => new Promise((resolve, reject) => calls.push({ audience, resolve, reject }));
  return { calls, fetch };
}

describe('egress token cache', () => {
  const log = createLogger('fatal');

  it('one fetch in flight per audience; separate audiences fetch separately', async () => {
    const clock = new ManualClock();
    const f = manualFetcher();
    const cache = new TokenCache({ fetch: f.fetch, clock, log });
    const a = [cache.get('A'), cache.get('A'), cache.get('A')];
    const b = cache.get('B');
    assert.deepEqual(
      f.calls.map((c) => c.audience),
      ['A', 'B'],
    );
    f.calls[0]!.resolve({ value: 'ta', expiresAt: clock.now() + 3600_000 });
    f.calls[1]!.resolve({ value: 'tb', expiresAt: clock.now() + 3600_000 });
    assert.deepEqual(await Promise.all(a), ['ta', 'ta', 'ta']);
    assert.equal(await b, 'tb');
  });

  it('renews a margin before exp; short-lived tokens at half their lifetime', async () => {
    const clock = new ManualClock();
    const f = manualFetcher();
    const cache = new TokenCache({ fetch: f.fetch, clock, log, marginMs: 60_000 });
    const first = cache.get('A');
    f.calls[0]!.resolve({ value: 't1', expiresAt: clock.now() + 100_000 });
    assert.equal(await first, 't1');
    clock.advance(49_999);
    assert.equal(await cache.get('A'), 't1');
    clock.advance(1);
    const second = cache.get('A');
    assert.equal(f.calls.length, 2, 'renewed at half of a 100 s lifetime (below the 60 s margin)');
    f.calls[1]!.resolve({ value: 't2', expiresAt: clock.now() + 3600_000 });
    assert.equal(await second, 't2');
    clock.advance(3600_000 - 60_001);
    assert.equal(await cache.get('A'), 't2');
    clock.advance(1);
    void cache.get('A');
    assert.equal(f.calls.length, 3);
  });

  it('a failed fetch is not cached; the error reaches every waiter', async () => {
    const clock = new ManualClock();
    const f = manualFetcher();
    const cache = new TokenCache({ fetch: f.fetch, clock, log });
    const waiting = [cache.get('A'), cache.get('A')];
    f.calls[0]!.reject(new TokenError('failed', 'down'));
    for (const w of waiting) await assert.rejects(w, /down/);
    void cache.get('A');
    assert.equal(f.calls.length, 2);
  });

  it('forgets the least recently used audience beyond maxAudiences', async () => {
    const clock = new ManualClock();
    let n = 0;
    const cache = new TokenCache({ fetch: async (a) => ({ value: `${a}${++n}`, expiresAt: undefined }), clock, log, maxAudiences: 2 });
    assert.equal(await cache.get('A'), 'A1');
    assert.equal(await cache.get('B'), 'B2');
    assert.equal(await cache.get('A'), 'A1');
    assert.equal(await cache.get('C'), 'C3');
    assert.equal(await cache.get('A'), 'A1', 'A was used recently');
    assert.equal(await cache.get('B'), 'B4', 'B was forgotten');
  });
});

describe('jwtproxy claim helpers', () => {
  it('nonce: the requested length from a 64-character alphabet, never repeating', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const n = nonce(32);
      assert.match(n, /^[A-Za-z0-9_-]{32}$/);
      seen.add(n);
    }
    assert.equal(seen.size, 1000);
    const all = new Set(Array.from({ length: 200 }, () => nonce(64)).join(''));
    assert.equal(all.size, 64, 'every character of the alphabet is used');
  });

  it('audienceOf: scheme://host[:port], no path, default ports left out', () => {
    assert.equal(audienceOf('HTTPS://API.Example.com:443/v1/x?y'), 'https://api.example.com');
    assert.equal(audienceOf('http://10.0.0.1:8080/'), 'http://10.0.0.1:8080');
  });
});
