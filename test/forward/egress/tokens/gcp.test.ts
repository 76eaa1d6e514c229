import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ManualClock } from '../../../../src/clock.js';
import { startGcpMetadata, type MetadataDouble } from '../../../helpers/gcp-metadata.js';
import { bearerOf, send, startEgress, startTarget, type Started, type Target } from '../kit.js';

const T0 = Date.UTC(2026, 0, 1);

describe('egress GCP instance identity token', () => {
  let target: Target;
  let md: MetadataDouble;
  let clock: ManualClock;
  before(async () => {
    target = await startTarget();
  });
  beforeEach(async () => {
    clock = new ManualClock(T0);
    await md?.close();
    md = await startGcpMetadata(clock);
  });
  after(async () => {
    await target.close();
    await md.close();
  });

  const start = (token: Record<string, unknown> = {}): Promise<Started> =>
    startEgress({ upstream: target.origin, token: { source: 'gcp', audience: 'https://run.example/svc?x=1&y=2', metadataUrl: md.url, ...token } }, { clock });

  it('asks the metadata server the real way and sends the token it gets, replacing the client value', async () => {
    const e = await start();
    try {
      const seen = target.seen.length;
      const a = await send(e.proxy.port, '/hello', { headers: { authorization: 'Bearer forged' } });
      assert.equal(a.status, 200);
      assert.equal(md.requests.length, 1);
      const r = md.requests[0]!;
      assert.equal(r.path, '/computeMetadata/v1/instance/service-accounts/default/identity');
      assert.equal(r.flavor, 'Google');
      assert.equal(r.audience, 'https://run.example/svc?x=1&y=2', 'the audience is URL-escaped, so it arrives whole');
      assert.equal(r.format, null, 'standard format by default');
      const jwt = bearerOf(target.seen[seen]!.authorization);
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(md.jwks), {
        issuer: 'https://accounts.google.com',
        audience: 'https://run.example/svc?x=1&y=2',
        currentDate: new Date(T0),
      });
      assert.equal(payload.sub, '1234567890');
    } finally {
      await e.stop();
    }
  });

  it('format full and a named service account', async () => {
    const e = await start({ format: 'full', serviceAccount: md.email });
    try {
      const seen = target.seen.length;
      assert.equal((await send(e.proxy.port, '/')).status, 200);
      assert.equal(md.requests[0]!.path, `/computeMetadata/v1/instance/service-accounts/${md.email}/identity`);
      assert.equal(md.requests[0]!.format, 'full');
      const claims = decodeJwt(bearerOf(target.seen[seen]!.authorization));
      assert.equal((claims['google'] as { compute_engine: { project_id: string } }).compute_engine.project_id, 'project-1');
    } finally {
      await e.stop();
    }
  });

  it('concurrent requests share one metadata fetch', async () => {
    const e = await start();
    try {
      md.hold();
      const seen = target.seen.length;
      const all = Promise.all(Array.from({ length: 8 }, (_, i) => send(e.proxy.port, `/c${i}`)));
      await md.arrived(1);
      md.release();
      const answers = await all;
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(8).fill(200),
      );
      assert.equal(md.requests.length, 1, 'one fetch in flight');
      const tokens = new Set(target.seen.slice(seen).map((s) => bearerOf(s.authorization)));
      assert.equal(tokens.size, 1);
    } finally {
      await e.stop();
    }
  });

  it('caches per audience and renews 60 s before exp, then with one fetch for concurrent requests', async () => {
    const e = await start();
    try {
      assert.equal((await send(e.proxy.port, '/1')).status, 200);
      clock.advance(3600_000 - 61_000);
      assert.equal((await send(e.proxy.port, '/2')).status, 200);
      assert.equal(md.requests.length, 1, 'still cached');
      clock.advance(2_000);
      md.hold();
      const both = Promise.all([send(e.proxy.port, '/3'), send(e.proxy.port, '/4'), send(e.proxy.port, '/5')]);
      await md.arrived(2);
      md.release();
      assert.deepEqual(
        (await both).map((a) => a.status),
        [200, 200, 200],
      );
      assert.equal(md.requests.length, 2, 'renewed once');
    } finally {
      await e.stop();
    }
  });

  it('keeps a still-valid token when a renewal fails', async () => {
    const e = await start();
    try {
      assert.equal((await send(e.proxy.port, '/1')).status, 200);
      clock.advance(3600_000 - 30_000);
      md.failWith = 500;
      assert.equal((await send(e.proxy.port, '/2')).status, 200);
      assert.equal(md.requests.length, 2);
      assert.ok(e.logs.some((l) => String(l['msg']).includes('renewal failed')));
      clock.advance(30_000);
      const seen = target.seen.length;
      const a = await send(e.proxy.port, '/3');
      assert.equal(a.status, 502);
      assert.equal(target.seen.length, seen, 'not proxied once the token has expired');
    } finally {
      await e.stop();
    }
  });

  for (const [what, setup, reason] of [
    ['a non-200 answer', (m: MetadataDouble) => void (m.failWith = 404), 'the metadata server answered 404'],
    ['a body that is not a JWT', (m: MetadataDouble) => void (m.bodyOverride = 'not-a-jwt'), 'the metadata server did not return a JWT'],
  ] as const) {
    it(`${what} → 502 with a short reason, nothing proxied`, async () => {
      const e = await start();
      try {
        setup(md);
        const seen = target.seen.length;
        const a = await send(e.proxy.port, '/x');
        assert.equal(a.status, 502);
        assert.equal(a.body, `Bad gateway: no token (${reason})\n`);
        assert.equal(target.seen.length, seen);
      } finally {
        await e.stop();
      }
    });
  }

  it('a token without a required claim, or for another audience, is refused', async () => {
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode('k'.repeat(32));
    const iat = T0 / 1000;
    const e = await start({ audience: 'aud-1' });
    try {
      md.bodyOverride = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('i')
        .setAudience('aud-1')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(key);
      assert.equal((await send(e.proxy.port, '/')).body, 'Bad gateway: no token (the identity token has no sub claim)\n');
      md.bodyOverride = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('i')
        .setSubject('s')
        .setAudience('aud-2')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(key);
      assert.equal((await send(e.proxy.port, '/')).body, 'Bad gateway: no token (the identity token is for another audience)\n');
      md.bodyOverride = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('i')
        .setSubject('s')
        .setAudience('aud-1')
        .setIssuedAt(iat - 120)
        .setExpirationTime(iat - 60)
        .sign(key);
      assert.equal((await send(e.proxy.port, '/')).body, 'Bad gateway: no token (the identity token has already expired)\n');
    } finally {
      await e.stop();
    }
  });

  it('a metadata server that does not answer within the deadline → 502', async () => {
    const e = await start({ timeoutMs: 50 });
    try {
      md.hold();
      const a = await send(e.proxy.port, '/slow');
      assert.equal(a.status, 502);
      assert.equal(a.body, 'Bad gateway: no token (the metadata server did not answer in time)\n');
      md.release();
    } finally {
      await e.stop();
    }
  });
});
