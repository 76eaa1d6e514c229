/**
 * The identity assertion signer and its keys, with jose as the verifier: the claims it carries,
 * the per-identity cache (a fresh assertion comes back at once, without a promise), refusal after
 * `exp`, keys from files (ES256, RS256, EdDSA; published-only keys), and a burst of new identities
 * signed off the event loop, a bounded number at a time.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWK } from 'jose';
import { ManualClock } from '../../src/clock.js';
import type { Identity } from '../../src/judge/decision.js';
import type { Target } from '../../src/judge/ports.js';
import { audienceRoutes, createAssertionSigner } from '../../src/signing/assertions.js';
import { assertionDocuments, DISCOVERY_PATH, JWKS_PATH } from '../../src/signing/documents.js';
import { fileKeys, type AssertionKeys } from '../../src/signing/key-files.js';
import { SIGNING_ALGS } from '../../src/signing/key.js';
import { Limiter } from '../../src/signing/limiter.js';

const ISSUER = 'https://judge.example.com/authservice';
const target = (hostname: string): Target => ({ hostname }) as Target;
const alice: Identity = {
  user: 'alice@example.com',
  groups: ['devs', 'admins'],
  claims: { sub: 'alice-sub', email: 'alice@example.com', name: 'Alice', org: { team: 'ml' } },
  method: 'cookie',
  authenticator: 'session',
  strength: { acr: 'urn:mfa', amr: ['pwd', 'otp'] },
};

function pemFiles(): { files: Record<string, string>; read: (p: string) => string } {
  const pem = (k: { privateKey: { export(o: object): string | Buffer } }): string => String(k.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const files: Record<string, string> = {
    '/keys/ec.pem': pem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' })),
    '/keys/rsa.pem': pem(generateKeyPairSync('rsa', { modulusLength: 2048 })),
    '/keys/ed.pem': pem(generateKeyPairSync('ed25519')),
    '/keys/small-rsa.pem': pem(generateKeyPairSync('rsa', { modulusLength: 1024 })),
  };
  return {
    files,
    read: (p) => {
      const f = files[p];
      if (f === undefined) throw Object.assign(new Error('no file'), { code: 'ENOENT' });
      return f;
    },
  };
}

function jwksOf(keys: AssertionKeys): ReturnType<typeof createLocalJWKSet> {
  return createLocalJWKSet({ keys: [...keys.published()] as JWK[] });
}

describe('identity assertions', () => {
  const { read } = pemFiles();

  it('carry iss, aud (the host, or its configured audience), sub, email, groups, how the caller authenticated and the selected claims', async () => {
    const clock = new ManualClock();
    const keys = await fileKeys('/keys/ec.pem', [], { read });
    const signer = createAssertionSigner({
      header: 'x-identity-assertion',
      issuer: ISSUER,
      ttlSeconds: 60,
      claims: ['name', 'org.team', 'iss'],
      audiences: { 'api.example.com': 'urn:api' },
      keys,
      clock,
    });
    const token = (await signer.assert(alice, target('app.example.com')))!;
    const { payload, protectedHeader } = await jwtVerify(token, jwksOf(keys), {
      issuer: ISSUER,
      audience: 'app.example.com',
      currentDate: new Date(clock.now()),
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.kid, keys.signing()!.kid);
    assert.equal(payload.sub, 'alice-sub');
    assert.equal(payload['email'], 'alice@example.com');
    assert.deepEqual(payload['groups'], ['devs', 'admins']);
    assert.equal(payload['authn'], 'session');
    assert.equal(payload['auth_method'], 'cookie');
    assert.equal(payload['acr'], 'urn:mfa');
    assert.deepEqual(payload['amr'], ['pwd', 'otp']);
    assert.equal(payload['name'], 'Alice');
    assert.equal(payload['org.team'], 'ml');
    assert.equal(payload.iss, ISSUER, 'a selected claim never overrides the judge’s own');
    assert.equal(payload.exp! - payload.iat!, 60);
    assert.match(String(payload.jti), /^[A-Za-z0-9_-]{22}$/);

    const api = (await signer.assert(alice, target('api.example.com')))!;
    await jwtVerify(api, jwksOf(keys), { issuer: ISSUER, audience: 'urn:api', currentDate: new Date(clock.now()) });
    // A host named like an Object.prototype member is a host like any other.
    const odd = (await signer.assert(alice, target('constructor')))!;
    await jwtVerify(odd, jwksOf(keys), { issuer: ISSUER, audience: 'constructor', currentDate: new Date(clock.now()) });
  });

  it('are signed once per identity and audience, come back at once while fresh, and are refused after exp', async () => {
    const clock = new ManualClock();
    const keys = await fileKeys('/keys/ec.pem', [], { read });
    const signer = createAssertionSigner({ header: 'authorization', issuer: ISSUER, ttlSeconds: 60, claims: [], audiences: {}, keys, clock });
    const first = await signer.assert(alice, target('app.example.com'));
    assert.match(String(first), /^Bearer /, 'Authorization carries Bearer <jwt>');
    const again = signer.assert(alice, target('app.example.com'));
    assert.equal(typeof again, 'string', 'a cached assertion: no promise');
    assert.equal(again, first);
    // The same identity in a new claims object (a new token of the same user) is found in the LRU.
    const copy = { ...alice, claims: { ...alice.claims } };
    assert.equal(await signer.assert(copy, target('app.example.com')), first);
    // Another group list is another identity.
    assert.notEqual(await signer.assert({ ...alice, groups: ['devs'] }, target('app.example.com')), first);

    const jwt = String(first).slice('Bearer '.length);
    clock.advance(61_000);
    await assert.rejects(jwtVerify(jwt, jwksOf(keys), { issuer: ISSUER, currentDate: new Date(clock.now()) }), errors.JWTExpired);
    const renewed = await signer.assert(alice, target('app.example.com'));
    assert.notEqual(renewed, first, 'signed anew before it expires');
    await jwtVerify(String(renewed).slice(7), jwksOf(keys), { issuer: ISSUER, currentDate: new Date(clock.now()) });
  });

  it('are renewed shortly before exp, not after', async () => {
    const clock = new ManualClock();
    const keys = await fileKeys('/keys/ec.pem', [], { read });
    const signer = createAssertionSigner({ header: 'x-a', issuer: ISSUER, ttlSeconds: 60, claims: [], audiences: {}, keys, clock });
    const first = await signer.assert(alice, target('h'));
    clock.advance(49_000);
    assert.equal(signer.assert(alice, target('h')), first);
    clock.advance(2_000);
    assert.notEqual(await signer.assert(alice, target('h')), first, '9 s before exp: a new one');
  });

  it('audiences per route: the longest matching path prefix of the host, segment-aware, else the host', () => {
    const aud = audienceRoutes({ 'apps.example.com': 'urn:apps', 'apps.example.com/api': 'urn:api', 'apps.example.com/api/v2/': 'urn:api-v2' });
    const at = (hostname: string, path: string): string => aud({ hostname, path } as Target);
    assert.equal(at('apps.example.com', '/'), 'urn:apps');
    assert.equal(at('apps.example.com', '/api'), 'urn:api');
    assert.equal(at('apps.example.com', '/api/x'), 'urn:api');
    assert.equal(at('apps.example.com', '/apix'), 'urn:apps', 'segment-aware');
    assert.equal(at('apps.example.com', '/api/v2/items'), 'urn:api-v2');
    assert.equal(at('other.example.com', '/api'), 'other.example.com');
    assert.equal(at('constructor', '/'), 'constructor');
  });

  it('none while no key can sign', () => {
    const keys: AssertionKeys = { signing: () => undefined, published: () => [], close: () => Promise.resolve() };
    const signer = createAssertionSigner({ header: 'x-a', issuer: ISSUER, ttlSeconds: 60, claims: [], audiences: {}, keys, clock: new ManualClock() });
    assert.equal(signer.assert(alice, target('h')), undefined);
  });

  it('sign with RS256 and EdDSA keys as well; published-only keys are in the JWKS and never sign', async () => {
    for (const [file, alg] of [
      ['/keys/rsa.pem', 'RS256'],
      ['/keys/ed.pem', 'EdDSA'],
    ] as const) {
      const keys = await fileKeys(file, ['/keys/ec.pem'], { read });
      assert.equal(keys.published().length, 2);
      const signer = createAssertionSigner({ header: 'x-a', issuer: ISSUER, ttlSeconds: 60, claims: [], audiences: {}, keys, clock: new ManualClock() });
      const token = (await signer.assert(alice, target('h')))!;
      assert.equal(decodeProtectedHeader(token).alg, alg);
      assert.equal(decodeProtectedHeader(token).kid, keys.published()[0]!.kid);
      await jwtVerify(token, jwksOf(keys), { issuer: ISSUER, currentDate: new Date(new ManualClock().now()) });
    }
    await assert.rejects(fileKeys('/keys/small-rsa.pem', [], { read }), /ASSERTION_KEY_FILE/);
    await assert.rejects(fileKeys('/keys/none.pem', [], { read }), /ASSERTION_KEY_FILE: cannot read \/keys\/none.pem \(ENOENT\)/);
  });

  it('key files read again: a new signing key signs at once, the one it replaced stays published for its assertions’ lifetime', async () => {
    const { files, read } = pemFiles();
    const clock = new ManualClock();
    const keys = await fileKeys('/keys/ec.pem', ['/keys/rsa.pem'], { read, now: () => clock.now(), retainMs: 70_000 });
    const before = keys.signing()!.kid;
    const signer = createAssertionSigner({ header: 'x-a', issuer: ISSUER, ttlSeconds: 60, claims: [], audiences: {}, keys, clock });
    const old = (await signer.assert(alice, target('h')))!;
    files['/keys/ec.pem'] = files['/keys/ed.pem']!;
    await keys.refresh();
    assert.notEqual(keys.signing()!.kid, before);
    const fresh = (await signer.assert(alice, target('h')))!;
    assert.equal(decodeProtectedHeader(fresh).kid, keys.signing()!.kid, 'a new key: signed anew');
    for (const t of [old, fresh]) await jwtVerify(t, jwksOf(keys), { issuer: ISSUER, currentDate: new Date(clock.now()) });
    assert.equal(keys.published().length, 3);
    clock.advance(70_001);
    assert.deepEqual(
      keys.published().map((k) => k.kid),
      [keys.signing()!.kid, keys.published()[1]!.kid],
    );
    assert.ok(!keys.published().some((k) => k.kid === before), 'retired after its assertions expired');
    // A file that cannot be read: the refresh fails, the keys stay.
    delete files['/keys/ec.pem'];
    await assert.rejects(keys.refresh(), /ASSERTION_KEY_FILE: cannot read/);
    assert.ok(keys.signing());
  });

  it('a burst of new identities is signed off the event loop, a few at a time', async () => {
    const keys = await fileKeys('/keys/rsa.pem', [], { read });
    const signer = createAssertionSigner({
      header: 'x-a',
      issuer: ISSUER,
      ttlSeconds: 60,
      claims: [],
      audiences: {},
      keys,
      clock: new ManualClock(),
      concurrency: 2,
    });
    let done = 0;
    const burst = Array.from({ length: 200 }, (_, i) =>
      Promise.resolve(signer.assert({ ...alice, user: `u${i}`, claims: {} }, target('h'))).then(() => done++),
    );
    // A timer set now runs before the burst is over: the loop was never held for the whole burst.
    const seenByTimer = await new Promise<number>((resolve) => setImmediate(() => resolve(done)));
    await Promise.all(burst);
    assert.ok(seenByTimer < 200, `the event loop turned with ${seenByTimer} of 200 signed`);
    assert.equal(done, 200);
  });

  it('the limiter runs at most max tasks at once, in order', async () => {
    const limiter = new Limiter(3);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      limiter.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((r) => releases.push(r));
        running--;
      }),
    );
    while (order.length < 10) {
      await new Promise<void>((r) => setImmediate(r));
      releases.shift()?.();
    }
    while (releases.length > 0) releases.shift()!();
    await Promise.all(tasks);
    assert.equal(most, 3);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('the published documents', () => {
  it('JWKS of the published keys with a strong ETag that changes with them; discovery names issuer and jwks_uri', async () => {
    const { read } = pemFiles();
    const keys = await fileKeys('/keys/ec.pem', ['/keys/rsa.pem'], { read });
    let list = keys.published();
    const docs = assertionDocuments(`${ISSUER}/`, { ...keys, published: () => list }, SIGNING_ALGS, 30);
    const jwks = docs.byPath[JWKS_PATH]!();
    const body = JSON.parse(jwks.body) as { keys: JWK[] };
    assert.deepEqual(
      body.keys.map((k) => k.kid),
      list.map((k) => k.kid),
    );
    assert.ok(
      body.keys.every((k) => k.d === undefined && k.use === 'sig'),
      'no private member',
    );
    assert.match(jwks.etag, /^"[A-Za-z0-9_-]+"$/);
    assert.equal(docs.byPath[JWKS_PATH]!().etag, jwks.etag);
    list = list.slice(0, 1);
    assert.notEqual(docs.byPath[JWKS_PATH]!().etag, jwks.etag);
    const discovery = JSON.parse(docs.byPath[DISCOVERY_PATH]!().body) as Record<string, unknown>;
    assert.equal(discovery['issuer'], `${ISSUER}/`);
    assert.equal(discovery['jwks_uri'], `${ISSUER}/.well-known/jwks.json`);
  });
});
