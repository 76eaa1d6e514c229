import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ManualClock } from '../../../../src/clock.js';
import { send, startEgress, startTarget, type Target } from '../kit.js';

const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
async function jwtExpiringAt(expSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('i')
    .setSubject('s')
    .setAudience('a')
    .setIssuedAt(expSeconds - 3600)
    .setExpirationTime(expSeconds)
    .sign(secret);
}

describe('egress static token', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.close());

  it('sends the token as is (no audience needed), replacing every Authorization the client sent', async () => {
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token: 'api-key-1' } });
    try {
      const seen = target.seen.length;
      const a = await send(e.proxy.port, '/x?q=1', { headers: { authorization: 'Bearer client-token' } });
      assert.equal(a.status, 200);
      assert.equal(a.body, 'ok /x?q=1');
      assert.deepEqual(target.seen[seen]!.authorization, ['Bearer api-key-1']);
      assert.equal(e.handler.ready(), true);
      assert.equal(e.handler.healthRoutes, undefined, 'nothing to publish for a static token');
    } finally {
      await e.stop();
    }
  });

  it('replaces an Authorization header the client sent twice (raw socket)', async () => {
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token: 'api-key-2' } });
    try {
      const seen = target.seen.length;
      const { connect } = await import('node:net');
      const s = connect(e.proxy.port, '127.0.0.1');
      s.write('GET /twice HTTP/1.1\r\nHost: x\r\nAuthorization: Basic a\r\nauthorization: Bearer b\r\nConnection: close\r\n\r\n');
      let got = '';
      for await (const c of s) got += String(c);
      assert.match(got, /^HTTP\/1\.1 200/);
      assert.deepEqual(target.seen[seen]!.authorization, ['Bearer api-key-2']);
    } finally {
      await e.stop();
    }
  });

  it('a JWT past exp: warns at start, answers 503 with a short reason, proxies nothing, not ready', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const token = await jwtExpiringAt(clock.now() / 1000 - 10);
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token } }, { clock });
    try {
      const warned = e.logs.find((l) => l['level'] === 'warn' && String(l['msg']).includes('static egress token'));
      assert.ok(warned, 'a warning at start');
      assert.ok(!JSON.stringify(e.logs).includes(token), 'the token is never logged');
      const seen = target.seen.length;
      const a = await send(e.proxy.port, '/expired');
      assert.equal(a.status, 503);
      assert.equal(a.body, 'Service unavailable: no token (the static token has expired)\n');
      assert.equal(target.seen.length, seen, 'not proxied');
      assert.equal(e.handler.ready(), false);
    } finally {
      await e.stop();
    }
  });

  it('a JWT that expires while running is sent until exp, then refused', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const token = await jwtExpiringAt(clock.now() / 1000 + 60);
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token } }, { clock });
    try {
      assert.equal(e.logs.filter((l) => l['level'] === 'warn').length, 0);
      const seen = target.seen.length;
      assert.equal((await send(e.proxy.port, '/a')).status, 200);
      assert.deepEqual(target.seen[seen]!.authorization, [`Bearer ${token}`]);
      clock.advance(60_000);
      assert.equal((await send(e.proxy.port, '/b')).status, 503);
      assert.equal(target.seen.length, seen + 1);
    } finally {
      await e.stop();
    }
  });
});
