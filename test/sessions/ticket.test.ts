import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encryptionKey, indexHash, isWellFormedId, newSecretId, seal, storeKey, unseal } from '../../src/sessions/ticket.js';

describe('ticket ids', () => {
  it('are 43 base64url characters and distinct', () => {
    const ids = Array.from({ length: 1000 }, newSecretId);
    for (const id of ids) assert.ok(isWellFormedId(id), id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('isWellFormedId rejects anything else', () => {
    const id = newSecretId();
    for (const bad of ['', id.slice(1), `${id}A`, `${id.slice(1)}+`, `${id.slice(1)}/`, `${id.slice(1)}=`, ` ${id.slice(1)}`])
      assert.equal(isWellFormedId(bad), false, bad);
  });

  it('storeKey differs by purpose and id, is stable, and never equals the id', () => {
    const id = newSecretId();
    const k = storeKey('session', id);
    assert.equal(storeKey('session', id), k);
    assert.notEqual(storeKey('state', id), k);
    assert.notEqual(storeKey('session', newSecretId()), k);
    assert.notEqual(k, id);
    assert.ok(!k.includes(id) && isWellFormedId(k));
  });

  it('indexHash separates issuer and value', () => {
    assert.notEqual(indexHash('https://a', 'bc'), indexHash('https://ab', 'c'));
    assert.equal(indexHash('https://a', 'x'), indexHash('https://a', 'x'));
    assert.match(indexHash('i', 'v'), /^[A-Za-z0-9_-]{43}$/);
  });
});

describe('seal / unseal', () => {
  const id = newSecretId();
  const text = JSON.stringify({ user: 'alice@example.com', token: 'eyJ…', emoji: '🔐' });

  it('round-trips, with a fresh IV each time and no plaintext in the output', () => {
    const a = seal('session', id, text);
    const b = seal('session', id, text);
    assert.equal(a[0], 0x01);
    assert.equal(a.length, 1 + 12 + Buffer.byteLength(text) + 16);
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
    assert.ok(!Buffer.from(a).includes('alice'));
    assert.equal(unseal('session', id, a), text);
    assert.equal(unseal('session', id, b), text);
    assert.equal(unseal('state', id, seal('state', id, '')), '');
  });

  it('gives undefined for a wrong id or purpose', () => {
    const sealed = seal('session', id, text);
    assert.equal(unseal('session', newSecretId(), sealed), undefined);
    assert.equal(unseal('state', id, sealed), undefined);
  });

  it('gives undefined for any flipped byte, truncation, extension or unknown version', () => {
    const sealed = Buffer.from(seal('session', id, text));
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x01;
      assert.equal(unseal('session', id, bad), undefined, `byte ${i}`);
    }
    for (const len of [0, 1, 12, 28, sealed.length - 1]) assert.equal(unseal('session', id, sealed.subarray(0, len)), undefined, `length ${len}`);
    assert.equal(unseal('session', id, Buffer.concat([sealed, Buffer.of(0)])), undefined);
  });

  it('works on a Uint8Array view into a larger buffer (as stores return)', () => {
    const sealed = seal('session', id, text);
    const big = new Uint8Array(sealed.length + 10);
    big.set(sealed, 5);
    assert.equal(unseal('session', id, big.subarray(5, 5 + sealed.length)), text);
  });
});

describe('encryptionKey', () => {
  it('is HKDF-SHA256 exactly as crypto.hkdfSync derives it (records sealed before keep opening)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('session', 'state') as fc.Arbitrary<'session' | 'state'>, (id, purpose) => {
        const expected = Buffer.from(hkdfSync('sha256', id, `oidc-judge ${purpose} v1`, 'enc', 32));
        assert.deepEqual(encryptionKey(purpose, id), expected);
      }),
      { numRuns: 500 },
    );
    const id = newSecretId();
    assert.notDeepEqual(encryptionKey('session', id), encryptionKey('state', id));
  });
});
