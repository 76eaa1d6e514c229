/**
 * Verify-then-proxy with a jwtproxy key registry (a registry double on a real socket): keys looked
 * up by (iss, kid) with escaped path segments, kept for the registry's `Cache-Control: max-age`
 * (injected clock), 404/403/409 → 401, other answers or an unreachable registry → 503 without
 * detail, no lookup for tokens without `kid` or from an issuer not accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { cacheSeconds } from '../../../src/forward/engine/key-registry.js';
import { send } from '../../helpers/http-send.js';
import { REGISTRY_SECRET_DETAIL, startKeyRegistry, type KeyRegistryDouble } from '../../helpers/key-registry.js';
import { freePort } from '../../helpers/net.js';
import { AUD, bearer, claimsAt, ISS, rsaPair, sign, startVerify } from './harness.js';

const KEY = rsaPair();

describe('verify forwarder: key registry', () => {
  let registry: KeyRegistryDouble;
  before(async () => {
    registry = await startKeyRegistry();
  });
  after(() => registry.close());

  async function setup(extra: Record<string, unknown> = {}) {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ keys: { source: 'key-registry', url: registry.url }, audience: AUD, ...extra }, { clock });
    const get = async (kid: string | undefined, over = {}) =>
      send(v.port, '/', { headers: bearer(await sign(claimsAt(clock.now(), over), KEY.privateKey, { alg: 'RS256', ...(kid !== undefined ? { kid } : {}) })) });
    return { v, clock, get };
  }

  it('looks the key up by issuer and kid and keeps it for max-age seconds', async () => {
    registry.set(ISS, 'cached', { status: 200, jwk: await KEY.jwk({ kid: 'cached', alg: 'RS256', use: 'sig' }), maxAge: 60 });
    const { get, clock } = await setup();
    assert.equal((await get('cached')).status, 200);
    assert.equal((await get('cached')).status, 200);
    assert.equal(registry.hits(ISS, 'cached'), 1);
    clock.advance(61_000);
    assert.equal((await get('cached')).status, 200);
    assert.equal(registry.hits(ISS, 'cached'), 2);
    assert.ok(registry.paths.includes('/services/https%3A%2F%2Fissuer.example/keys/cached'), 'path segments escaped');
  });

  it('asks again each time when the registry gives no max-age', async () => {
    registry.set(ISS, 'uncached', { status: 200, jwk: await KEY.jwk({ kid: 'uncached' }) });
    const { get } = await setup();
    await get('uncached');
    await get('uncached');
    assert.equal(registry.hits(ISS, 'uncached'), 2);
  });

  it('refuses with 401 a key the registry does not know (404), has expired (403) or has not approved (409)', async () => {
    registry.set(ISS, 'expired', { status: 403 });
    registry.set(ISS, 'pending', { status: 409 });
    const { get } = await setup();
    for (const kid of ['unknown', 'expired', 'pending']) {
      const r = await get(kid);
      assert.equal(r.status, 401, kid);
      assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
  });

  it('answers 503 without detail when the registry fails or cannot be reached', async () => {
    registry.set(ISS, 'broken', { status: 500 });
    const { get } = await setup();
    const r = await get('broken');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'Service unavailable');
    assert.doesNotMatch(JSON.stringify(r), new RegExp(REGISTRY_SECRET_DETAIL));
    const port = await freePort();
    const clock = new ManualClock(Date.now());
    const down = await startVerify({ keys: { source: 'key-registry', url: `http://127.0.0.1:${port}` }, audience: AUD }, { clock });
    const t = await sign(claimsAt(clock.now()), KEY.privateKey, { alg: 'RS256', kid: 'k' });
    const r2 = await send(down.port, '/', { headers: bearer(t) });
    assert.equal(r2.status, 503);
    assert.doesNotMatch(r2.body, /ECONNREFUSED/);
  });

  it('does not look up tokens without kid, or from an issuer outside the accepted ones', async () => {
    const before = registry.paths.length;
    const { get } = await setup({ issuer: ISS });
    assert.equal((await get(undefined)).status, 401);
    assert.equal((await get('k', { iss: 'https://stranger.example' })).status, 401);
    assert.equal(registry.paths.length, before);
  });

  it('refuses a token whose signature does not match the registry key', async () => {
    registry.set(ISS, 'other', { status: 200, jwk: await rsaPair().jwk({ kid: 'other' }), maxAge: 60 });
    const { get } = await setup();
    assert.equal((await get('other')).status, 401);
  });

  it('reads max-age, and keeps nothing for no-store or no-cache', () => {
    assert.equal(cacheSeconds('public, max-age=120'), 120);
    assert.equal(cacheSeconds('max-age=120, no-store'), 0);
    assert.equal(cacheSeconds('no-cache'), 0);
    assert.equal(cacheSeconds(undefined), 0);
    assert.equal(cacheSeconds('max-age=99999999'), 86_400);
  });
});
