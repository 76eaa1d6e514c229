/**
 * Generated assertion keys shared by two replicas through one real Redis: both start at once and
 * sign with the same first key; while the clock moves through several rotations, with the two
 * replicas reading the ring at different moments and signing a steady load of new identities,
 * every assertion's `kid` is published by both replicas from the moment it is signed until it
 * expires, and each verifies with jose against either replica's JWKS document. The clock is
 * injected: no waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { ManualClock } from '../../src/clock.js';
import type { Identity } from '../../src/judge/decision.js';
import type { Target } from '../../src/judge/ports.js';
import { silentLogger } from '../../src/obs/log.js';
import { openRedisStore } from '../../src/sessions/redis.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { createAssertionSigner } from '../../src/signing/assertions.js';
import { assertionDocuments, JWKS_PATH } from '../../src/signing/documents.js';
import { RING_RECORD, sharedKeyRing, type KeyRing } from '../../src/signing/key-ring.js';
import { SIGNING_ALGS } from '../../src/signing/key.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const ISSUER = 'https://judge.example.com/authservice';
const SECOND = 1000;
const REFRESH = 10 * SECOND;
const ROTATE = 120 * SECOND;
const TTL = 60;

const target = { hostname: 'app.example.com' } as Target;
const identity = (n: number): Identity => ({
  user: `user-${n}@example.com`,
  groups: ['devs'],
  claims: { sub: `sub-${n}`, email: `user-${n}@example.com` },
  method: 'header',
  authenticator: 'access_token',
});

interface Replica {
  readonly store: SessionStore;
  readonly ring: KeyRing;
  readonly sign: (id: Identity) => Promise<string>;
  readonly jwks: () => { keys: JWK[] };
}

describe('generated assertion keys shared by two replicas through Redis', () => {
  let redis: RedisServer;
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 12));
  const replicas: Replica[] = [];

  async function replica(): Promise<Replica> {
    const store = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: redis.port }] });
    const ring = await sharedKeyRing({ store, alg: 'ES256', rotateEveryMs: ROTATE, refreshMs: REFRESH, maxTtlMs: TTL * SECOND, clock, log: silentLogger });
    const signer = createAssertionSigner({ header: 'x-identity-assertion', issuer: ISSUER, ttlSeconds: TTL, claims: [], audiences: {}, keys: ring, clock });
    const docs = assertionDocuments(ISSUER, ring, SIGNING_ALGS, 10);
    return {
      store,
      ring,
      sign: async (id) => {
        const v = await signer.assert(id, target);
        assert.ok(v !== undefined, 'a key signs');
        return v;
      },
      jwks: () => JSON.parse(docs.byPath[JWKS_PATH]!().body) as { keys: JWK[] },
    };
  }

  before(async () => {
    redis = await startRedis();
    // Both start at once: one creates the first key, the other waits for it and adopts it.
    replicas.push(...(await Promise.all([replica(), replica()])));
  });
  after(async () => {
    for (const r of replicas) await r.store.close();
    await redis?.stop();
  });

  it('start together on one first key, published by both', async () => {
    const [a, b] = replicas as [Replica, Replica];
    assert.equal(a.ring.signing()?.kid, b.ring.signing()?.kid);
    assert.deepEqual(
      a.jwks().keys.map((k) => k.kid),
      b.jwks().keys.map((k) => k.kid),
    );
  });

  it('rotate under load: no assertion carries a kid that either replica does not publish while it is valid', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const live: { token: string; kid: string; exp: number }[] = [];
    const kids = new Set<string>();
    let n = 0;
    const start = clock.now();
    // Six rotations; A reads the ring at every 10 s mark, B 5 s later: never at the same time.
    for (let t = 0; t < 6 * ROTATE; t += SECOND) {
      clock.set(start + t);
      if (t % REFRESH === 0) await a.ring.refresh();
      if (t % REFRESH === REFRESH / 2) await b.ring.refresh();
      // A burst of new identities on both replicas, and an old one signed again.
      const tokens = await Promise.all([...Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).sign(identity(n++))), a.sign(identity(0))]);
      const publishedA = new Set(a.jwks().keys.map((k) => k.kid));
      const publishedB = new Set(b.jwks().keys.map((k) => k.kid));
      for (const token of tokens) {
        const kid = decodeProtectedHeader(token).kid!;
        kids.add(kid);
        live.push({ token, kid, exp: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number });
      }
      // Every assertion still valid: its key published on both replicas.
      const now = clock.now();
      for (let i = live.length - 1; i >= 0; i--) {
        const l = live[i]!;
        if (l.exp * SECOND <= now) {
          live.splice(i, 1);
          continue;
        }
        assert.ok(publishedA.has(l.kid), `at +${t / SECOND}s replica A does not publish ${l.kid}`);
        assert.ok(publishedB.has(l.kid), `at +${t / SECOND}s replica B does not publish ${l.kid}`);
      }
      // And a sample verifies with jose against either replica's JWKS.
      if (t % (15 * SECOND) === 0) {
        for (const r of [a, b])
          for (const l of [live[0]!, live.at(-1)!])
            await jwtVerify(l.token, createLocalJWKSet(r.jwks()), { issuer: ISSUER, audience: 'app.example.com', currentDate: new Date(now) });
      }
    }
    assert.ok(kids.size >= 6, `rotated: ${kids.size} keys signed`);
    // Retired keys leave the JWKS: at most the signing one, the next and the ones still covering live assertions.
    assert.ok(a.jwks().keys.length <= 3, `${a.jwks().keys.length} keys published`);
  });

  it('a ring record lost from the store is written back by the next replica to read it, never replaced by a new first key', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const signing = a.ring.signing()!.kid;
    const published = a.jwks().keys.map((k) => k.kid);
    assert.equal(await a.store.delete(RING_RECORD), true);
    clock.advance(SECOND);
    await b.ring.refresh();
    await a.ring.refresh();
    for (const r of [a, b]) {
      assert.equal(r.ring.signing()!.kid, signing);
      assert.deepEqual(
        r.jwks().keys.map((k) => k.kid),
        published,
      );
    }
    assert.ok(await a.store.get(RING_RECORD, clock.now()), 'written back');
  });

  it('a new key is published two refreshes before it signs', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const signing = a.ring.signing()!.kid;
    // Move to just before the next rotation is due and let A add the next key.
    const published = () => new Set(b.jwks().keys.map((k) => k.kid));
    for (let i = 0; i < ROTATE / REFRESH; i++) {
      clock.advance(REFRESH);
      await a.ring.refresh();
      await b.ring.refresh();
      const next = a.jwks().keys.find((k) => k.kid !== signing && !published().has(String(k.kid)));
      assert.equal(next, undefined, 'B publishes every key A publishes after one refresh each');
      if (a.ring.signing()!.kid !== signing) break;
    }
    assert.notEqual(a.ring.signing()!.kid, signing, 'rotated');
    assert.equal(b.ring.signing()!.kid, a.ring.signing()!.kid, 'both switched together');
  });
});
