import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ManualClock } from '../../../../src/clock.js';
import { egressMode } from '../../../../src/forward/egress/mode.js';
import { createLogger } from '../../../../src/obs/log.js';
import { bearerOf, publishedJwks, send, startEgress, startTarget, type Target } from '../kit.js';

const T0 = Date.UTC(2026, 0, 1);
const pem = (k: import('node:crypto').KeyObject, type: 'pkcs1' | 'pkcs8' | 'sec1'): string => k.export({ type, format: 'pem' }).toString();

describe('egress self-signed JWT', () => {
  let target: Target;
  let dir: string;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  before(async () => {
    target = await startTarget();
    dir = mkdtempSync(join(tmpdir(), 'oidc-judge-self-'));
    writeFileSync(join(dir, 'rsa.pem'), pem(rsa.privateKey, 'pkcs1'));
  });
  after(async () => {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One request through a fresh egress; returns the token the target got. */
  async function tokenThrough(token: Record<string, unknown>, clock = new ManualClock(T0)) {
    const e = await startEgress({ upstream: `${target.origin}/base`, token }, { clock });
    const seen = target.seen.length;
    const a = await send(e.proxy.port, '/p', { headers: { authorization: 'Bearer from-client' } });
    assert.equal(a.status, 200);
    assert.equal(target.seen[seen]!.url, '/base/p');
    return { e, jwt: bearerOf(target.seen[seen]!.authorization) };
  }

  for (const alg of ['RS256', 'RS384', 'RS512'] as const) {
    it(`${alg} from a PEM file: iss, sub, aud, iat, exp = iat + 1 h, extra claims; verifies against the published JWKS`, async () => {
      const { e, jwt } = await tokenThrough({
        source: 'self-signed',
        issuer: 'https://egress.example',
        subject: 'svc-a',
        audience: 'https://api.example',
        algorithm: alg.toLowerCase(),
        keyFile: join(dir, 'rsa.pem'),
        claims: { team: 'blue', level: 3, admin: false, note: null },
      });
      try {
        const jwks = await publishedJwks(e);
        const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
          issuer: 'https://egress.example',
          audience: 'https://api.example',
          currentDate: new Date(T0),
        });
        assert.equal(protectedHeader.alg, alg);
        assert.equal(protectedHeader.typ, 'JWT');
        assert.equal(protectedHeader.kid, jwks.keys[0]!.kid);
        assert.deepEqual(payload, {
          team: 'blue',
          level: 3,
          admin: false,
          note: null,
          iss: 'https://egress.example',
          sub: 'svc-a',
          aud: 'https://api.example',
          iat: T0 / 1000,
          exp: T0 / 1000 + 3600,
        });
        assert.equal(jwks.keys.length, 1);
        assert.equal(jwks.keys[0]!['d'], undefined, 'no private part published');
      } finally {
        await e.stop();
      }
    });
  }

  it('ES256 from an inline PEM, configured kid and ttlSeconds', async () => {
    const { e, jwt } = await tokenThrough({
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'a',
      algorithm: 'ES256',
      key: pem(ec.privateKey, 'sec1'),
      kid: 'k1',
      ttlSeconds: 120,
    });
    try {
      const jwks = await publishedJwks(e);
      assert.equal(jwks.keys[0]!.kid, 'k1');
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { audience: 'a', currentDate: new Date(T0) });
      assert.equal(payload.exp! - payload.iat!, 120);
    } finally {
      await e.stop();
    }
  });

  it('HS256 with a raw secret: the bytes as written, no kid, no JWKS', async () => {
    const { e, jwt } = await tokenThrough({
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'a',
      algorithm: 'HS256',
      secret: 'c2VjcmV0LXRoYXQtbG9va3MtYmFzZTY0',
    });
    try {
      await jwtVerify(jwt, new TextEncoder().encode('c2VjcmV0LXRoYXQtbG9va3MtYmFzZTY0'), { audience: 'a', currentDate: new Date(T0) });
      assert.equal(decodeProtectedHeader(jwt).kid, undefined);
      assert.equal(e.handler.healthRoutes, undefined);
    } finally {
      await e.stop();
    }
  });

  it('HS512 with secretEncoding base64: the decoded bytes (never guessed)', async () => {
    const raw = Buffer.from('a-64-byte-secret-for-hs512-a-64-byte-secret-for-hs512-0123456789');
    const { e, jwt } = await tokenThrough({
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'a',
      algorithm: 'HS512',
      secret: raw.toString('base64'),
      secretEncoding: 'base64',
    });
    try {
      await jwtVerify(jwt, raw, { audience: 'a', currentDate: new Date(T0) });
      await assert.rejects(jwtVerify(jwt, Buffer.from(raw.toString('base64')), { currentDate: new Date(T0) }), /signature/);
    } finally {
      await e.stop();
    }
  });

  it('without an audience, aud is the upstream origin', async () => {
    const { e, jwt } = await tokenThrough({ source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'HS256', secret: 'x'.repeat(32) });
    try {
      assert.equal(decodeJwt(jwt).aud, target.origin);
    } finally {
      await e.stop();
    }
  });

  it('caches the token and renews it 60 s before exp', async () => {
    const clock = new ManualClock(T0);
    const { e, jwt: first } = await tokenThrough(
      { source: 'self-signed', issuer: 'i', subject: 's', audience: 'a', algorithm: 'RS256', keyFile: join(dir, 'rsa.pem') },
      clock,
    );
    try {
      const next = async (): Promise<string> => {
        const seen = target.seen.length;
        assert.equal((await send(e.proxy.port, '/again')).status, 200);
        return bearerOf(target.seen[seen]!.authorization);
      };
      clock.advance(3600_000 - 61_000);
      assert.equal(await next(), first, 'still cached 61 s before exp');
      clock.advance(2_000);
      const renewed = await next();
      assert.notEqual(renewed, first);
      assert.equal(decodeJwt(renewed).iat, (T0 + 3600_000 - 59_000) / 1000);
    } finally {
      await e.stop();
    }
  });

  it('refuses a key that does not fit the algorithm, naming the option', async () => {
    const errs: string[] = [];
    const o = egressMode.parse(
      { upstream: target.origin, token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'ES256', keyFile: join(dir, 'rsa.pem') } },
      'f',
      errs,
    );
    assert.deepEqual(errs, []);
    await assert.rejects(
      Promise.resolve(egressMode.create(o, { log: createLogger('fatal'), clock: new ManualClock(), readFile: (p) => readFileSync(p, 'utf8') })),
      /token\.keyFile: ES256 needs an EC P-256 private key/,
    );
  });
});
