/**
 * Bearer extraction and the failure answers of the verify-then-proxy forwarder: the scheme matched
 * case-insensitively, whitespace tolerated, two `Authorization` headers refused, the Basic-password
 * fallback off by default; 401 with `WWW-Authenticate: Bearer` (plus `error="invalid_token"` once a
 * token was presented) and short bodies that never echo the token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractToken } from '../../../src/forward/verify/bearer.js';
import { send } from '../../helpers/http-send.js';
import { rawExchange } from '../ingress/harness.js';
import { AUD, claimsAt, sign, startVerify } from './harness.js';

describe('bearer extraction', () => {
  it('matches the scheme case-insensitively and tolerates extra whitespace', () => {
    for (const v of ['Bearer abc.def.ghi', 'bearer abc.def.ghi', 'BEARER   abc.def.ghi  ', '  Bearer\tabc.def.ghi']) {
      assert.deepEqual(extractToken([v], false), { kind: 'token', token: 'abc.def.ghi' }, JSON.stringify(v));
    }
  });

  it('calls an empty token, inner whitespace or two headers malformed, and other schemes absent', () => {
    assert.equal(extractToken(['Bearer'], false).kind, 'malformed');
    assert.equal(extractToken(['Bearer a b'], false).kind, 'malformed');
    assert.equal(extractToken(['Bearer a', 'Bearer b'], false).kind, 'malformed');
    assert.equal(extractToken(['Basic dTpw'], false).kind, 'absent');
    assert.equal(extractToken(['Token abc'], false).kind, 'absent');
    assert.equal(extractToken(undefined, false).kind, 'absent');
  });

  it('takes the Basic password as the token only when the fallback is on', () => {
    const basic = `Basic ${Buffer.from('anyone:the.jwt.here').toString('base64')}`;
    assert.deepEqual(extractToken([basic], true), { kind: 'token', token: 'the.jwt.here' });
    assert.equal(extractToken([basic], false).kind, 'absent');
    assert.equal(extractToken([`Basic ${Buffer.from('nopassword').toString('base64')}`], true).kind, 'malformed');
  });
});

describe('failure answers', () => {
  const secret = 'b'.repeat(40);
  const HMAC = { keys: { source: 'hmac', secret, encoding: 'raw' }, audience: AUD };
  const good = (): Promise<string> => sign(claimsAt(Date.now()), new TextEncoder().encode(secret), { alg: 'HS256' });

  it('answers 401 with WWW-Authenticate: Bearer and no error code when no token came', async () => {
    const v = await startVerify(HMAC);
    for (const headers of [{}, { authorization: 'Basic dTpw' }]) {
      const r = await send(v.port, '/', { headers });
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Bearer');
      assert.equal(r.body, 'Unauthorized');
    }
    assert.equal(v.upstream.heads.length, 0);
  });

  it('answers 401 invalid_token for a bad token without echoing it, and accepts odd spellings of a good one', async () => {
    const v = await startVerify(HMAC);
    const r = await send(v.port, '/', { headers: { authorization: 'Bearer not-a-jwt-SECRETISH' } });
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.doesNotMatch(r.body + JSON.stringify(r.headers), /SECRETISH/);
    assert.doesNotMatch(v.logs.join(''), /SECRETISH/);
    assert.equal((await send(v.port, '/', { headers: { authorization: `bEaReR    ${await good()}` } })).status, 200);
    const two = await rawExchange(
      v.port,
      `GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${await good()}\r\nAuthorization: Bearer x\r\nConnection: close\r\n\r\n`,
    );
    assert.match(two, /^HTTP\/1\.1 401 /);
  });

  it('uses the Basic password with basicAuthFallback and strips the header upstream', async () => {
    const off = await startVerify(HMAC);
    const basic = `Basic ${Buffer.from(`oauth2:${await good()}`).toString('base64')}`;
    assert.equal((await send(off.port, '/', { headers: { authorization: basic } })).status, 401);
    const on = await startVerify({ ...HMAC, basicAuthFallback: true });
    const r = await send(on.port, '/', { headers: { authorization: basic } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { headers: Record<string, unknown> }).headers['authorization'], undefined);
  });
});
