import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { createMetrics, type Metrics } from '../../src/obs/metrics.js';
import { Discovery } from '../../src/oidc/discovery.js';
import { JwksCache } from '../../src/oidc/keys.js';
import { capturingLogger, counter, secs } from '../helpers/bearer.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const MIN_REFETCH_S = 30;

/** Resolves the key for a bare header, as jwtVerify would. */
async function lookup(jwks: JwksCache, alg: string, kid: string): Promise<unknown> {
  return jwks.getKey({ alg, kid }, { payload: '', signature: '' });
}

describe('JwksCache', () => {
  let op: TestOp;
  let jwksUri: string;
  const http = new HttpClient({ timeoutMs: 3000 });

  before(async () => {
    op = await startOp();
    const d = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log });
    assert.equal(await d.attempt(), true);
    jwksUri = d.metadata!.jwks_uri;
  });
  after(async () => {
    await op.stop();
    http.close();
  });

  function cache(): { jwks: JwksCache; clock: ManualClock; metrics: Metrics; lines: string[] } {
    const clock = new ManualClock(Date.now());
    const metrics = createMetrics(false);
    const { log, lines } = capturingLogger();
    const jwks = new JwksCache({ uri: jwksUri, http, clock, log, metrics, refreshIntervalSeconds: 300, minRefetchIntervalSeconds: MIN_REFETCH_S });
    return { jwks, clock, metrics, lines };
  }

  test('imports the provider keys; tokens signed by them verify through getKey', async () => {
    const { jwks, clock, metrics } = cache();
    assert.equal(jwks.hasKeys, false);
    assert.equal(await jwks.refresh('startup'), true);
    assert.equal(jwks.hasKeys, true);
    assert.deepEqual(
      jwks.jwks()?.keys.map((k) => k.kid),
      op.keys.map((k) => k.kid),
    );
    for (const alg of ['RS256', 'ES256'] as const) {
      const token = await op.sign({ sub: 'u', exp: secs(clock.now()) + 60 }, { alg });
      const { payload } = await jwtVerify(token, jwks.getKey, { currentDate: new Date(clock.now()) });
      assert.equal(payload.sub, 'u');
    }
    assert.equal(await counter(metrics.jwksRefresh, { result: 'ok', cause: 'startup' }), 1);
  });

  test('unknown kid → one refetch; another unknown kid within the minimum interval → none; later → refetch', async () => {
    const { jwks, clock, metrics } = cache();
    await jwks.refresh('startup');
    const k3 = await newKey('RS256');
    const k4 = await newKey('RS256');
    op.rotate([...op.keys, k3]);

    clock.advance(MIN_REFETCH_S * 1000);
    const before = op.jwksRequests;
    await lookup(jwks, 'RS256', k3.kid);
    assert.equal(op.jwksRequests - before, 1, 'one refetch found the new key');
    assert.equal(await counter(metrics.jwksRefresh, { result: 'ok', cause: 'unknown-kid' }), 1);

    op.rotate([...op.keys, k4]);
    clock.advance(MIN_REFETCH_S * 1000 - 1);
    await assert.rejects(lookup(jwks, 'RS256', k4.kid), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(op.jwksRequests - before, 1, 'no refetch within the minimum interval');

    clock.advance(1);
    await lookup(jwks, 'RS256', k4.kid);
    assert.equal(op.jwksRequests - before, 2, 'refetched once the interval has passed');

    const stranger = await newKey('RS256');
    clock.advance(MIN_REFETCH_S * 1000);
    await assert.rejects(lookup(jwks, 'RS256', stranger.kid), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(op.jwksRequests - before, 3, 'a kid the provider does not have: one refetch, then no match');
    await assert.rejects(lookup(jwks, 'RS256', stranger.kid), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal(op.jwksRequests - before, 3, 'and no second refetch');
  });

  test('concurrent unknown-kid lookups share one fetch', async () => {
    const { jwks, clock } = cache();
    await jwks.refresh('startup');
    const k = await newKey('ES256');
    op.rotate([...op.keys, k]);
    clock.advance(MIN_REFETCH_S * 1000);
    const before = op.jwksRequests;
    const token = await op.sign({ sub: 'c', exp: secs(clock.now()) + 60 }, { key: k });
    const results = await Promise.all(Array.from({ length: 8 }, () => jwtVerify(token, jwks.getKey, { currentDate: new Date(clock.now()) })));
    assert.equal(results.length, 8);
    assert.equal(op.jwksRequests - before, 1);
  });

  test('provider down after warm-up: last good keys kept, tokens still verify, failures counted', async () => {
    const { jwks, clock, metrics, lines } = cache();
    await jwks.refresh('startup');
    const token = await op.sign({ sub: 'kept', exp: secs(clock.now()) + 600 });
    await op.stop();
    try {
      assert.equal(await jwks.refresh('background'), false);
      assert.equal(jwks.hasKeys, true);
      assert.equal(await counter(metrics.jwksRefresh, { result: 'error', cause: 'background' }), 1);
      assert.ok(lines.some((l) => l.includes('JWKS fetch failed') && l.includes('"keptLastGoodKeys":true')));
      const { payload } = await jwtVerify(token, jwks.getKey, { currentDate: new Date(clock.now()) });
      assert.equal(payload.sub, 'kept');

      // an unknown kid while the provider is down: the refetch fails, the answer is "no such key"
      clock.advance(MIN_REFETCH_S * 1000);
      const stranger = await newKey('RS256');
      await assert.rejects(lookup(jwks, 'RS256', stranger.kid), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
      assert.equal(await counter(metrics.jwksRefresh, { result: 'error', cause: 'unknown-kid' }), 1);
    } finally {
      await op.restart();
    }
  });

  test('no keys ever fetched and the provider down → KeysUnavailableError, retried at the bounded rate', async () => {
    const { jwks, clock } = cache();
    await op.stop();
    try {
      const header = { alg: 'RS256', kid: op.keys[0]!.kid };
      await assert.rejects(lookup(jwks, header.alg, header.kid), { name: 'KeysUnavailableError', code: 'keys-unavailable' });
      assert.equal(jwks.fetchCount, 1);
      await assert.rejects(lookup(jwks, header.alg, header.kid), { name: 'KeysUnavailableError', code: 'keys-unavailable' });
      assert.equal(jwks.fetchCount, 1, 'no new fetch within the minimum interval');
    } finally {
      await op.restart();
    }
    clock.advance(MIN_REFETCH_S * 1000);
    await lookup(jwks, 'RS256', op.keys[0]!.kid);
    assert.equal(jwks.fetchCount, 2);
    assert.equal(jwks.hasKeys, true);
  });

  test('several keys match a token without kid: each is tried', async () => {
    const { jwks, clock } = cache();
    const extra = await newKey('RS256');
    op.rotate([extra, ...op.keys]);
    await jwks.refresh('startup');
    const signer = op.keys.find((k) => k.alg === 'RS256' && k !== extra)!;
    const token = await op.sign({ sub: 'nokid', exp: secs(clock.now()) + 60 }, { key: signer, kid: null });
    await assert.rejects(jwtVerify(token, jwks.getKey), { code: 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' }, 'jose leaves this to the caller (handled in jwt-verify)');
  });

  test('start() fetches and schedules background refreshes; stop() clears the timer', async () => {
    const { jwks } = cache();
    jwks.start();
    assert.equal(await jwks.refresh(), true, 'joins the fetch start() began');
    assert.equal(jwks.fetchCount, 1);
    jwks.stop();
  });

  test('a key set that is not a JWKS, or has no keys, keeps the previous keys', async () => {
    const clock = new ManualClock(Date.now());
    const metrics = createMetrics(false);
    const { log } = capturingLogger();
    const bad = new JwksCache({
      uri: `${op.issuer}/.well-known/openid-configuration`,
      http,
      clock,
      log,
      metrics,
      refreshIntervalSeconds: 300,
      minRefetchIntervalSeconds: 1,
    });
    assert.equal(await bad.refresh(), false);
    assert.equal(bad.hasKeys, false);
    assert.equal(await counter(metrics.jwksRefresh, { result: 'error', cause: 'background' }), 1);
  });
});
