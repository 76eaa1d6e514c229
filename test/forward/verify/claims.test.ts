/**
 * Claim checks of the verify-then-proxy forwarder: the standard claims (presence, issuer, `aud`
 * as string or list, exact or jwtproxy origin compare with default ports normalised, one skew on
 * `exp`/`nbf`/`iat`, `maxTtlSeconds`), the required-claims matrix (anchored RE2, numbers compared
 * numerically, booleans and null exactly, lists = contains all, `aud` refused), and the statuses a
 * client sees over a real socket (401 for token problems, 403 for unmet required claims).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { audienceOrigin, OIDC_REQUIRED, standardCheck, type StandardPolicy } from '../../../src/forward/verify/claims.js';
import { compileClaimRequirements, unmetClaim } from '../../../src/forward/verify/required-claims.js';
import { send } from '../../helpers/http-send.js';
import { AUD, bearer, claimsAt, ISS, sign, startVerify } from './harness.js';

const NOW = Date.UTC(2026, 0, 1);
const S = NOW / 1000;
const base: StandardPolicy = { issuers: [ISS], audiences: [AUD], audienceMatch: 'exact', required: OIDC_REQUIRED, skewSeconds: 30 };
const check = (p: Record<string, unknown>, policy: Partial<StandardPolicy> = {}): string | undefined => standardCheck({ ...base, ...policy })(p, NOW);
const good = { iss: ISS, sub: 'alice', aud: AUD, iat: S, exp: S + 300 };

describe('standard claims', () => {
  it('requires iss, sub, aud, exp and iat, and accepts only the configured issuers', () => {
    assert.equal(check(good), undefined);
    for (const k of ['iss', 'sub', 'aud', 'exp', 'iat']) {
      const { [k]: _drop, ...rest } = good as Record<string, unknown>;
      assert.match(check(rest) ?? '', new RegExp(k), k);
    }
    assert.equal(check({ ...good, iss: 'https://other' }), 'issuer not accepted');
    assert.equal(check({ ...good, iss: 'https://other' }, { issuers: [] }), undefined, 'no issuer configured: any');
    assert.equal(check({ ...good, exp: '9999999999' }), 'missing or invalid "exp"');
  });

  it('accepts aud as a string or a list, matching any configured audience', () => {
    assert.equal(check({ ...good, aud: ['x', AUD] }), undefined);
    assert.equal(check({ ...good, aud: ['x', 'y'] }), 'audience not accepted');
    assert.equal(check({ ...good, aud: 'other' }, { audiences: ['a', 'other'] }), undefined);
    assert.equal(check({ ...good, aud: [1] }), 'missing or invalid "aud"');
  });

  it('compares origins in origin mode: case-insensitive, path ignored, default ports normalised', () => {
    const origin = { audiences: ['https://API.example.com/some/path'], audienceMatch: 'origin' as const };
    assert.equal(check({ ...good, aud: 'https://api.example.com' }, origin), undefined);
    assert.equal(check({ ...good, aud: 'HTTPS://api.EXAMPLE.com:443/other' }, origin), undefined);
    assert.equal(check({ ...good, aud: 'https://api.example.com:8443' }, origin), 'audience not accepted');
    assert.equal(check({ ...good, aud: 'http://api.example.com' }, origin), 'audience not accepted');
    assert.equal(check({ ...good, aud: 'api.example.com' }, origin), 'audience not accepted');
    assert.equal(audienceOrigin('http://h.example'), 'http://h.example:80');
    assert.equal(audienceOrigin('http://h.example:8080/x'), 'http://h.example:8080');
  });

  it('applies one skew to exp, nbf and iat', () => {
    assert.equal(check({ ...good, exp: S - 29 }), undefined, 'exp within skew');
    assert.equal(check({ ...good, exp: S - 30 }), 'token expired');
    assert.equal(check({ ...good, nbf: S + 30 }), undefined);
    assert.equal(check({ ...good, nbf: S + 31 }), 'token not yet valid');
    assert.equal(check({ ...good, iat: S + 30 }), undefined);
    assert.equal(check({ ...good, iat: S + 31 }), 'token issued in the future');
    assert.equal(check({ ...good, exp: S - 1 }, { skewSeconds: 0 }), 'token expired');
  });

  it('limits the lifetime with maxTtlSeconds', () => {
    assert.equal(check({ ...good, exp: S + 300 }, { maxTtlSeconds: 300 }), undefined);
    assert.equal(check({ ...good, exp: S + 301 }, { maxTtlSeconds: 300 }), 'token lifetime too long');
  });
});

describe('required claims', () => {
  const compile = (raw: unknown): { reqs: ReturnType<typeof compileClaimRequirements>; errs: string[] } => {
    const errs: string[] = [];
    return { reqs: compileClaimRequirements(raw, 'claims', errs), errs };
  };

  it('anchors string patterns (RE2): my_app does not accept not_my_app_x', () => {
    const { reqs } = compile({ sub: 'my_app' });
    assert.equal(unmetClaim({ sub: 'my_app' }, reqs), undefined);
    assert.equal(unmetClaim({ sub: 'not_my_app_x' }, reqs), 'sub');
    assert.equal(unmetClaim({ sub: 7 }, reqs), 'sub');
    assert.equal(unmetClaim({ sub: 'svc-42' }, compile({ sub: 'svc-[0-9]+' }).reqs), undefined);
  });

  it('compares numbers numerically and booleans and null exactly; missing claims fail', () => {
    const { reqs } = compile('level: 2\nadmin: false\nteam: null\n');
    assert.equal(unmetClaim({ level: 2.0, admin: false, team: null }, reqs), undefined);
    assert.equal(unmetClaim({ level: '2', admin: false, team: null }, reqs), 'level');
    assert.equal(unmetClaim({ level: 2, admin: 0, team: null }, reqs), 'admin');
    assert.equal(unmetClaim({ level: 2, admin: false }, reqs), 'team');
  });

  it('reads a list as "contains all" (a scalar claim is a one-element list)', () => {
    const { reqs } = compile('{"groups": ["dev", "ops"]}');
    assert.equal(unmetClaim({ groups: ['ops', 'x', 'dev'] }, reqs), undefined);
    assert.equal(unmetClaim({ groups: ['dev'] }, reqs), 'groups');
    assert.equal(unmetClaim({ groups: ['dev'] }, compile({ groups: ['dev'] }).reqs), undefined);
    assert.equal(unmetClaim({ groups: 'dev' }, compile({ groups: ['dev'] }).reqs), undefined);
  });

  it('refuses aud, invalid patterns, nested maps and non-mappings, naming each', () => {
    assert.deepEqual(compile({ aud: 'x' }).errs, ['claims.aud: audiences belong to the audience option, not to the required claims']);
    assert.match(compile({ sub: '(' }).errs[0] ?? '', /^claims\.sub: not a valid RE2 pattern/);
    assert.match(compile({ a: { b: 1 } }).errs[0] ?? '', /^claims\.a: must be/);
    assert.match(compile('[1, 2]').errs[0] ?? '', /^claims: must be a mapping/);
    assert.match(compile('{').errs[0] ?? '', /^claims: not valid JSON or YAML/);
  });
});

describe('required claims where providers put them', () => {
  it('takes dot paths (Keycloak roles), the exact name first (Auth0), never a prototype name', () => {
    const errs: string[] = [];
    const reqs = compileClaimRequirements(
      { 'resource_access.kubeflow.roles': ['admin'], 'https://example.com/tier': 'gold', 'tenant.id': 'blue' },
      'claims',
      errs,
    );
    assert.deepEqual(errs, []);
    const token = { resource_access: { kubeflow: { roles: ['admin', 'kf-user'] } }, 'https://example.com/tier': 'gold', tenant: { id: 'blue' } };
    assert.equal(unmetClaim(token, reqs), undefined);
    assert.equal(unmetClaim({ ...token, resource_access: { other: { roles: ['admin'] } } }, reqs), 'resource_access.kubeflow.roles');
    assert.equal(unmetClaim({ ...token, 'tenant.id': 'red' }, reqs), 'tenant.id', 'the exact name wins over the path');
    const bad: string[] = [];
    compileClaimRequirements({ 'a..b': 'x', 'realm_access.constructor': null }, 'claims', bad);
    assert.equal(bad.length, 2, bad.join(' | '));
    assert.match(bad[0]!, /"a\.\.b" has an empty path segment/);
    assert.match(bad[1]!, /prototype/);
  });
});

describe('claims over a real socket', () => {
  const secret = 'c'.repeat(40);
  const key = new TextEncoder().encode(secret);
  const HMAC = { keys: { source: 'hmac', secret, encoding: 'raw' } };

  it('answers 403 for an unmet required claim and 401 for an invalid standard claim', async () => {
    const clock = new ManualClock(Date.now());
    const v = await startVerify({ ...HMAC, audience: AUD, claims: { role: 'admin', tier: 3 } }, { clock });
    const get = async (over: Record<string, unknown>) => send(v.port, '/', { headers: bearer(await sign(claimsAt(clock.now(), over), key, { alg: 'HS256' })) });
    assert.equal((await get({ role: 'admin', tier: 3 })).status, 200);
    const forbidden = await get({ role: 'administrator', tier: 3 });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body, 'Forbidden');
    assert.equal(forbidden.headers['www-authenticate'], undefined);
    assert.equal((await get({ role: 'admin', tier: 3, aud: 'https://elsewhere' })).status, 401);
  });

  it('enforces maxTtlSeconds, the skew and the origin audience mode end to end', async () => {
    const clock = new ManualClock(Date.now());
    const s = Math.floor(clock.now() / 1000);
    const v = await startVerify({ ...HMAC, audience: 'https://api.example:443', audienceMatch: 'origin', maxTtlSeconds: 300, skewSeconds: 5 }, { clock });
    const get = async (over: Record<string, unknown>) =>
      (await send(v.port, '/', { headers: bearer(await sign(claimsAt(clock.now(), over), key, { alg: 'HS256' })) })).status;
    assert.equal(await get({ aud: 'https://API.example/path', exp: s + 300 }), 200);
    assert.equal(await get({ aud: 'https://api.example', exp: s + 301 }), 401, 'lifetime too long');
    assert.equal(await get({ aud: 'https://api.example', iat: s - 200, exp: s - 4 }), 200, 'expired within the skew');
    assert.equal(await get({ aud: 'https://api.example', iat: s - 200, exp: s - 5 }), 401);
  });

  it('lets jwtproxy-style tokens without sub through with requireSub: false', async () => {
    const clock = new ManualClock(Date.now());
    const { sub: _sub, ...noSub } = claimsAt(clock.now());
    const t = await sign(noSub, key, { alg: 'HS256' });
    const strict = await startVerify({ ...HMAC, audience: AUD }, { clock });
    assert.equal((await send(strict.port, '/', { headers: bearer(t) })).status, 401);
    const v = await startVerify({ ...HMAC, audience: AUD, requireSub: false }, { clock });
    assert.equal((await send(v.port, '/', { headers: bearer(t) })).status, 200);
  });
});
