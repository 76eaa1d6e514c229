import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { VerifiedTokenCache } from '../../src/authn/jwt-cache.js';
import { ManualClock } from '../../src/clock.js';
import type { Identity } from '../../src/judge/decision.js';

const who = (user: string): Identity => ({ user, groups: [], claims: {}, method: 'header', authenticator: 'access_token' });

test('VerifiedTokenCache: keyed by hash, never past exp, bounded', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const now = clock.now() / 1000;
  const cache = new VerifiedTokenCache(clock, 3);
  const key = VerifiedTokenCache.keyOf('header.payload.signature');
  assert.match(key, /^[A-Za-z0-9_-]{43}$/, 'a SHA-256, not the token');

  cache.set(key, who('a'), now + 10);
  assert.equal(cache.get(key)?.user, 'a');
  clock.advance(9_999);
  assert.equal(cache.get(key)?.user, 'a');
  clock.advance(1);
  assert.equal(cache.get(key), undefined, 'gone at exp');
  assert.equal(cache.size, 0);

  cache.set('expired', who('x'), clock.now() / 1000 - 1);
  assert.equal(cache.size, 0, 'expired tokens are not stored');

  const later = clock.now() / 1000 + 100;
  for (const k of ['k1', 'k2', 'k3', 'k4']) cache.set(k, who(k), later);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('k1'), undefined, 'the oldest entry made room');
  assert.equal(cache.get('k4')?.user, 'k4');
});

test('VerifiedTokenCache.keyOf: base64url SHA-256 of the token', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
  assert.equal(VerifiedTokenCache.keyOf(token), createHash('sha256').update(token).digest('base64url'));
  assert.notEqual(VerifiedTokenCache.keyOf(token), VerifiedTokenCache.keyOf(`${token}x`));
});
