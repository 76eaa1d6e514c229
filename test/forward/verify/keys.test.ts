/**
 * Verify-then-proxy with a static key source (real sockets): a public-key PEM (RSA, EC; algorithm
 * pinned to the key type; HMAC-over-the-public-key and `none` refused), an HMAC secret (raw or
 * base64, chosen explicitly), a static token (exact match; `exp`/`nbf` checked when it is a JWT),
 * and one preshared (issuer, kid) key matched case-insensitively.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { verifyMode } from '../../../src/forward/verify/mode.js';
import { send } from '../../helpers/http-send.js';
import { AUD, bearer, claimsAt, ecPair, rsaPair, sign, startVerify, unsigned } from './harness.js';

const RSA = rsaPair();
const EC = ecPair();
const now = (): number => Date.now();
const status = async (port: number, token: string): Promise<number> => (await send(port, '/', { headers: bearer(token) })).status;

describe('verify forwarder: public key PEM', () => {
  it('accepts RS256 and PS256 from an RSA key; refuses HS256 signed with the public key, none, and another key', async () => {
    const v = await startVerify({ keys: { source: 'public-key', pem: RSA.publicPem }, audience: AUD });
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'RS256' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'PS256' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), new TextEncoder().encode(RSA.publicPem), { alg: 'HS256' })), 401, 'alg confusion');
    assert.equal(await status(v.port, unsigned(claimsAt(now()))), 401, 'alg none');
    assert.equal(await status(v.port, await sign(claimsAt(now()), rsaPair().privateKey, { alg: 'RS256' })), 401);
    assert.equal(await status(v.port, await sign(claimsAt(now()), EC.privateKey, { alg: 'ES256' })), 401);
  });

  it('reads the key from a file; pins ES256 to a P-256 key; refuses a private key and an allow-list that does not fit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-keys-'));
    writeFileSync(join(dir, 'ec.pem'), EC.publicPem);
    const v = await startVerify({ keys: { source: 'public-key', file: join(dir, 'ec.pem') }, audience: AUD });
    assert.equal(await status(v.port, await sign(claimsAt(now()), EC.privateKey, { alg: 'ES256' })), 200);
    const priv = EC.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await assert.rejects(startVerify({ keys: { source: 'public-key', pem: priv }, audience: AUD }), /keys\.pem: is a private key/);
    await assert.rejects(
      startVerify({ keys: { source: 'public-key', pem: EC.publicPem }, audience: AUD, algorithms: ['RS256'] }),
      /none of the allowed algorithms fits/,
    );
    await assert.rejects(
      startVerify({ keys: { source: 'public-key', file: join(dir, 'missing.pem') }, audience: AUD }),
      /keys\.file: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });
});

describe('verify forwarder: HMAC secret', () => {
  const bytes = Buffer.from('0123456789abcdef0123456789abcdef-bin\u0001\u00ff', 'latin1');

  it('uses the raw text as the secret with encoding raw (HS256, HS512)', async () => {
    const secret = 's'.repeat(48);
    const v = await startVerify({ keys: { source: 'hmac', secret, encoding: 'raw' }, audience: AUD });
    const key = new TextEncoder().encode(secret);
    assert.equal(await status(v.port, await sign(claimsAt(now()), key, { alg: 'HS256' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), key, { alg: 'HS512' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'RS256' })), 401, 'no asymmetric alg with a secret');
  });

  it('decodes the secret with encoding base64 (never guessing)', async () => {
    const b64 = bytes.toString('base64');
    const v = await startVerify({ keys: { source: 'hmac', secret: b64, encoding: 'base64' }, audience: AUD });
    assert.equal(await status(v.port, await sign(claimsAt(now()), bytes, { alg: 'HS256' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), new TextEncoder().encode(b64), { alg: 'HS256' })), 401);
  });

  it('requires the encoding and refuses invalid base64 at parse time', () => {
    const errs: string[] = [];
    verifyMode.parse({ upstream: 'http://127.0.0.1:1', keys: { source: 'hmac', secret: 'abc' }, audience: AUD }, 'forwarders[0]', errs);
    verifyMode.parse(
      { upstream: 'http://127.0.0.1:1', keys: { source: 'hmac', secret: 'not base64!', encoding: 'base64' }, audience: AUD },
      'forwarders[1]',
      errs,
    );
    assert.deepEqual(errs, ['forwarders[0].keys.encoding: is required (one of raw, base64)', 'forwarders[1].keys.secret: is not valid base64']);
  });
});

describe('verify forwarder: static token', () => {
  it('accepts exactly the configured token and nothing else', async () => {
    const v = await startVerify({ keys: { source: 'static-token', token: 'opaque-static-value' } });
    assert.equal(await status(v.port, 'opaque-static-value'), 200);
    assert.equal(await status(v.port, 'opaque-static-valuE'), 401);
    assert.equal(await status(v.port, 'opaque-static-value-longer'), 401);
  });

  it('checks exp and nbf (with the skew) when the static token is a JWT, and the audience when one is set', async () => {
    const clock = new ManualClock(Date.now());
    const s = Math.floor(clock.now() / 1000);
    const t = await sign(claimsAt(clock.now(), { exp: s + 600, nbf: s + 100 }), RSA.privateKey, { alg: 'RS256' });
    const v = await startVerify({ keys: { source: 'static-token', token: t }, audience: AUD, skewSeconds: 10 }, { clock });
    assert.equal(await status(v.port, t), 401, 'not yet valid');
    clock.advance(95_000);
    assert.equal(await status(v.port, t), 200, 'nbf within the skew');
    clock.advance(600_000);
    assert.equal(await status(v.port, t), 401, 'expired');
    const other = await startVerify({ keys: { source: 'static-token', token: t }, audience: 'http://foo' }, { clock: new ManualClock(clock.now() - 600_000) });
    assert.equal(await status(other.port, t), 401, 'audience mismatch');
  });

  it('refuses issuer, audience or claims for a token that is not a JWT, and replay protection for any static token', async () => {
    await assert.rejects(startVerify({ keys: { source: 'static-token', token: 'opaque' }, audience: AUD }), /keys\.token: is not a JWT/);
    const errs: string[] = [];
    verifyMode.parse({ upstream: 'http://127.0.0.1:1', keys: { source: 'static-token', token: 'x' }, replay: 'memory' }, 'f', errs);
    assert.match(errs.join(), /f\.replay: a static token is the same on every request/);
  });
});

describe('verify forwarder: preshared public key', () => {
  it('matches the (issuer, kid) pair case-insensitively and refuses any other pair', async () => {
    const v = await startVerify({ keys: { source: 'preshared', issuer: 'HTTPS://Issuer.Example', keyId: 'KEY-1', pem: RSA.publicPem }, audience: AUD });
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'RS256', kid: 'key-1' })), 200);
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'RS256', kid: 'key-2' })), 401);
    assert.equal(await status(v.port, await sign(claimsAt(now()), RSA.privateKey, { alg: 'RS256' })), 401, 'no kid');
    assert.equal(await status(v.port, await sign(claimsAt(now(), { iss: 'https://other.example' }), RSA.privateKey, { alg: 'RS256', kid: 'key-1' })), 401);
  });
});
