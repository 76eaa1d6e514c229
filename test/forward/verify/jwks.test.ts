/**
 * Verify-then-proxy with a JWKS URL (a real JWKS served by node:http): valid, expired and
 * wrong-key tokens; tokens without `kid` tried only against `use: sig` (or use-less) keys whose
 * type and `alg` fit (GHSA-29f5-h73v-w8j9); unknown `kid` refetched at a bounded rate; starting
 * while the JWKS is down (not ready, 503) and recovering; the algorithm allow-list; HMAC refused.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { verifyMode } from '../../../src/forward/verify/mode.js';
import { send } from '../../helpers/http-send.js';
import { bearer, claimsAt, ecPair, rsaPair, sign, startJwks, startVerify, type JwksServer } from './harness.js';

const A = rsaPair();
const B = rsaPair();
const jwks: JwksServer[] = [];
after(() => Promise.all(jwks.map((j) => j.close())));

async function setup(keys: Awaited<ReturnType<typeof A.jwk>>[], extra: Record<string, unknown> = {}) {
  const j = await startJwks(keys);
  jwks.push(j);
  const clock = new ManualClock(Date.now());
  const v = await startVerify({ keys: { source: 'jwks', url: j.url, minRefetchSeconds: 30 }, audience: 'https://api.example', ...extra }, { clock });
  return { j, v, clock, get: async (t: string) => send(v.port, '/', { headers: bearer(t) }) };
}

describe('verify forwarder: JWKS key source', () => {
  it('accepts a valid token, refuses an expired one and one signed by another key (401 invalid_token)', async () => {
    const { get, clock } = await setup([await A.jwk({ kid: 'a', use: 'sig' })]);
    const ok = await get(await sign(claimsAt(clock.now()), A.privateKey, { alg: 'RS256', kid: 'a' }));
    assert.equal(ok.status, 200);
    const expired = await get(
      await sign(claimsAt(clock.now(), { exp: Math.floor(clock.now() / 1000) - 3600, iat: Math.floor(clock.now() / 1000) - 7200 }), A.privateKey, {
        alg: 'RS256',
        kid: 'a',
      }),
    );
    assert.equal(expired.status, 401);
    assert.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.equal(expired.body, 'Unauthorized');
    const forged = await get(await sign(claimsAt(clock.now()), B.privateKey, { alg: 'RS256', kid: 'a' }));
    assert.equal(forged.status, 401);
  });

  it('tries a kid-less token against every fitting signing key, never a use:enc key nor one whose alg differs', async () => {
    const both = await setup([await B.jwk({ kid: 'b' }), await A.jwk({ kid: 'a', use: 'sig' })]);
    assert.equal((await both.get(await sign(claimsAt(both.clock.now()), A.privateKey, { alg: 'RS256' }))).status, 200, 'second key matched');
    const enc = await setup([await A.jwk({ kid: 'a', use: 'enc' })]);
    assert.equal((await enc.get(await sign(claimsAt(enc.clock.now()), A.privateKey, { alg: 'RS256' }))).status, 401, 'use:enc key not used');
    const otherAlg = await setup([await A.jwk({ kid: 'a', alg: 'RS512' })]);
    assert.equal((await otherAlg.get(await sign(claimsAt(otherAlg.clock.now()), A.privateKey, { alg: 'RS256' }))).status, 401, 'alg must fit');
    const ec = ecPair();
    const mixed = await setup([await A.jwk({ kid: 'a' }), await ec.jwk({ kid: 'e' })]);
    assert.equal((await mixed.get(await sign(claimsAt(mixed.clock.now()), ec.privateKey, { alg: 'ES256' }))).status, 200, 'kty fits');
  });

  it('refetches on an unknown kid, at most once per minRefetchSeconds', async () => {
    const { j, get, clock } = await setup([await A.jwk({ kid: 'a' })]);
    assert.equal(j.fetches(), 1);
    j.keys = [await A.jwk({ kid: 'a' }), await B.jwk({ kid: 'b' })];
    clock.advance(31_000);
    assert.equal((await get(await sign(claimsAt(clock.now()), B.privateKey, { alg: 'RS256', kid: 'b' }))).status, 200);
    assert.equal(j.fetches(), 2);
    const unknown = await sign(claimsAt(clock.now()), B.privateKey, { alg: 'RS256', kid: 'c' });
    assert.equal((await get(unknown)).status, 401);
    assert.equal((await get(unknown)).status, 401);
    assert.equal(j.fetches(), 2, 'no refetch within the interval');
    clock.advance(31_000);
    assert.equal((await get(unknown)).status, 401);
    assert.equal(j.fetches(), 3);
  });

  it('starts while the JWKS is down: not ready and 503, then ready once keys load', async () => {
    const j = await startJwks([await A.jwk({ kid: 'a' })]);
    jwks.push(j);
    j.failWith = 500;
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ keys: { source: 'jwks', url: j.url, minRefetchSeconds: 30 }, audience: 'https://api.example' }, { clock });
    assert.deepEqual(await v.forwarders.notReady(), ['v']);
    const t = await sign(claimsAt(clock.now()), A.privateKey, { alg: 'RS256', kid: 'a' });
    const down = await send(v.port, '/', { headers: bearer(t) });
    assert.equal(down.status, 503);
    assert.equal(down.body, 'Service unavailable');
    assert.equal(v.upstream.heads.length, 0);
    j.failWith = undefined;
    clock.advance(31_000);
    assert.equal((await send(v.port, '/', { headers: bearer(t) })).status, 200);
    assert.deepEqual(await v.forwarders.notReady(), []);
  });

  it('applies the algorithm allow-list and never accepts HMAC or none', async () => {
    const { get, clock } = await setup([await A.jwk({ kid: 'a' })], { algorithms: ['PS256'] });
    assert.equal((await get(await sign(claimsAt(clock.now()), A.privateKey, { alg: 'RS256', kid: 'a' }))).status, 401);
    assert.equal((await get(await sign(claimsAt(clock.now()), A.privateKey, { alg: 'PS256', kid: 'a' }))).status, 200);
    const hs = await sign(claimsAt(clock.now()), new TextEncoder().encode(A.publicPem), { alg: 'HS256', kid: 'a' });
    assert.equal((await get(hs)).status, 401);
  });

  it('refreshes every 10 minutes by default and refuses an HMAC-only allow-list at startup', async () => {
    const errs: string[] = [];
    const o = verifyMode.parse({ upstream: 'http://127.0.0.1:1', keys: { source: 'jwks', url: 'https://idp.example/jwks' }, audience: 'x' }, 'f', errs);
    assert.deepEqual(errs, []);
    assert.equal(o.keys.source === 'jwks' && o.keys.refreshSeconds, 600);
    const j = await startJwks([await A.jwk({ kid: 'a' })]);
    jwks.push(j);
    await assert.rejects(
      startVerify({ keys: { source: 'jwks', url: j.url }, audience: 'x', algorithms: ['HS256'] }),
      /algorithms: none of the allowed algorithms fits/,
    );
  });
});
