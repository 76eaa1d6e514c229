import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ASYMMETRIC_ALGS, HMAC_ALGS, MAX_JWT_LENGTH, peekJwt, safeAlgorithms } from '../../src/authn/jwt-peek.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (header: unknown, payload: unknown, sig = 'c2ln'): string => `${b64(header)}.${b64(payload)}.${sig}`;

test('peekJwt: header and payload of a compact JWS, unverified; undefined for anything else', () => {
  const p = peekJwt(jwt({ alg: 'RS256', kid: 'k' }, { iss: 'https://op', exp: 1 }));
  assert.deepEqual(p, { header: { alg: 'RS256', kid: 'k' }, payload: { iss: 'https://op', exp: 1 } });
  assert.equal(peekJwt(jwt({ alg: 'none' }, { iss: 'x' }, ''))?.header.alg, 'none', 'unsigned: a JWT, left to verification to refuse');
  for (const t of ['opaque', 'a.b', 'a.b.c.d.e', `${b64({ alg: 'RS256' })}.not-json.sig`, 'a+b.c.d', jwt({ alg: 'RS256' }, 'x'.repeat(MAX_JWT_LENGTH))]) {
    assert.equal(peekJwt(t), undefined, t.slice(0, 40));
  }
});

test('one allow-list: safeAlgorithms keeps the asymmetric algorithms the forwarder verifies, never none, HMAC or the ones it cannot', () => {
  assert.deepEqual(safeAlgorithms(['RS256', 'none', 'HS256', 'ES256K', 'ML-DSA-44', 'EdDSA', 'Ed25519', 'rs256']), ['RS256', 'EdDSA', 'Ed25519']);
  assert.deepEqual(safeAlgorithms([...ASYMMETRIC_ALGS, ...HMAC_ALGS]), [...ASYMMETRIC_ALGS]);
});
