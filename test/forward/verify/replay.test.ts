/**
 * `jti` replay protection (real sockets; real redis-server for the shared store): a second use is
 * 403; a token without `jti` is 401; a `jti` is recorded only after the signature and claims
 * passed (a forged or refused token cannot burn it); concurrent requests with one token — on one
 * forwarder, or on two replicas sharing Redis — let exactly one through; Redis keeps the record
 * until `exp` plus the skew; Redis down is 503.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { MemoryReplayStore, replayKey } from '../../../src/forward/verify/replay.js';
import { send } from '../../helpers/http-send.js';
import { redisCli, startRedis, type RedisServer } from '../../helpers/redis.js';
import { startUpstream } from '../../helpers/upstream.js';
import { AUD, bearer, claimsAt, ISS, rsaPair, sign, startVerify } from './harness.js';

const secret = 'r'.repeat(40);
const key = new TextEncoder().encode(secret);
const HMAC = { keys: { source: 'hmac', secret, encoding: 'raw' }, audience: AUD, skewSeconds: 30 };
const tokenAt = (clock: ManualClock, over: Record<string, unknown> = {}, k: Uint8Array = key): Promise<string> =>
  sign(claimsAt(clock.now(), { jti: 'j-1', ...over }), k, { alg: 'HS256' });
const statuses = async (port: number, token: string, n: number): Promise<number[]> =>
  (await Promise.all(Array.from({ length: n }, () => send(port, '/', { headers: bearer(token) })))).map((r) => r.status).sort();

describe('replay protection: memory', () => {
  it('refuses a second use with 403 and a token without jti with 401', async () => {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ ...HMAC, replay: 'memory' }, { clock });
    const t = await tokenAt(clock);
    assert.equal((await send(v.port, '/', { headers: bearer(t) })).status, 200);
    const again = await send(v.port, '/', { headers: bearer(t) });
    assert.equal(again.status, 403);
    assert.equal(again.body, 'Forbidden');
    assert.equal((await send(v.port, '/', { headers: bearer(await tokenAt(clock, { jti: undefined })) })).status, 401);
  });

  it('records the jti only after the signature and the claims passed', async () => {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ ...HMAC, replay: 'memory', claims: { role: 'ok' } }, { clock });
    const forged = await tokenAt(clock, { jti: 'j-2', role: 'ok' }, new TextEncoder().encode('x'.repeat(40)));
    assert.equal((await send(v.port, '/', { headers: bearer(forged) })).status, 401);
    const refused = await tokenAt(clock, { jti: 'j-2', role: 'no' });
    assert.equal((await send(v.port, '/', { headers: bearer(refused) })).status, 403);
    assert.equal((await send(v.port, '/', { headers: bearer(await tokenAt(clock, { jti: 'j-2', role: 'ok' })) })).status, 200);
  });

  it('lets exactly one of many concurrent requests with the same token through', async () => {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ ...HMAC, replay: 'memory' }, { clock });
    assert.deepEqual(await statuses(v.port, await tokenAt(clock, { jti: 'race' }), 20), [200, ...Array<number>(19).fill(403)]);
  });

  it('forgets a record once its time has passed and purges it', async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemoryReplayStore({ clock });
    after(() => store.close());
    const k = replayKey(ISS, 'j');
    assert.equal(await store.remember(k, clock.now() + 1000), 'fresh');
    assert.equal(await store.remember(k, clock.now() + 1000), 'replayed');
    clock.advance(1000);
    store.purge();
    assert.equal(store.size, 0);
    assert.equal(await store.remember(k, clock.now() + 1000), 'fresh');
    const full = new MemoryReplayStore({ clock, maxEntries: 1 });
    after(() => full.close());
    await full.remember('a', clock.now() + 1000);
    assert.equal(await full.remember('b', clock.now() + 1000), 'unavailable');
  });
});

describe('replay protection: redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());
  const replay = () => ({ store: 'redis', addresses: [`127.0.0.1:${redis.port}`], keyPrefix: 'test:' });

  it('shares the record between two replicas: of concurrent requests exactly one passes', async () => {
    const clock = new ManualClock(Date.now());
    const upstream = await startUpstream();
    const a = await startVerify({ ...HMAC, replay: replay() }, { clock, upstream });
    const b = await startVerify({ ...HMAC, replay: replay() }, { clock, upstream: await startUpstream() });
    const t = await tokenAt(clock, { jti: 'shared' });
    const all = (await Promise.all([statuses(a.port, t, 10), statuses(b.port, t, 10)])).flat().sort();
    assert.deepEqual(all, [200, ...Array<number>(19).fill(403)]);
  });

  it('keeps the record until exp plus the skew', async () => {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ ...HMAC, replay: replay() }, { clock });
    const exp = Math.floor(clock.now() / 1000) + 600;
    assert.equal((await send(v.port, '/', { headers: bearer(await tokenAt(clock, { jti: 'ttl', exp })) })).status, 200);
    const pttl = Number(await redisCli(redis.port, 'PTTL', `test:jti:${replayKey(ISS, 'ttl')}`));
    const want = (exp + 30) * 1000 - clock.now();
    assert.ok(pttl <= want && pttl > want - 5000, `PTTL ${pttl}, want about ${want}`);
  });

  it('also protects tokens verified by a public key, and answers 503 when Redis is down', async () => {
    const pair = rsaPair();
    const clock = new ManualClock(Date.now());
    const own = await startRedis();
    const v = await startVerify(
      { keys: { source: 'public-key', pem: pair.publicPem }, audience: AUD, replay: { store: 'redis', addresses: [`127.0.0.1:${own.port}`] } },
      { clock },
    );
    assert.deepEqual(await v.forwarders.notReady(), []);
    const t = await sign(claimsAt(clock.now(), { jti: 'pk' }), pair.privateKey, { alg: 'RS256' });
    assert.equal((await send(v.port, '/', { headers: bearer(t) })).status, 200);
    assert.equal((await send(v.port, '/', { headers: bearer(t) })).status, 403);
    await own.stop();
    const down = await send(v.port, '/', { headers: bearer(await sign(claimsAt(clock.now(), { jti: 'pk2' }), pair.privateKey, { alg: 'RS256' })) });
    assert.equal(down.status, 503);
    assert.deepEqual(await v.forwarders.notReady(), ['v']);
  });
});
