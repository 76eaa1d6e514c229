// The sealed login-attempt cookie and where its key comes from: what opens, what does not, and
// that every process on one store (or with one LOGIN_STATE_SECRET) gets the same key.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { attemptKeySource } from '../../src/oidc/attempt-key.js';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { attemptKey, counterPlus, KeyStream, newTag, openAttempt, sealAttempt, tagOfState, type Attempt } from '../../src/oidc/attempt.js';
import { boundedReturnTo, MAX_RETURN_TO } from '../../src/oidc/login.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { StoreUnavailableError } from '../../src/sessions/store.js';

const key = attemptKey(Buffer.from('k'.repeat(32)));
const tag = newTag();
const attempt: Attempt = {
  v: 1,
  state: `${'s'.repeat(43)}.${tag}`,
  nonce: 'n'.repeat(43),
  codeVerifier: 'v'.repeat(46),
  returnTo: 'https://app.example.com/x?y=1',
  redirectUri: 'https://app.example.com/cb',
  createdAt: 1_765_000_000_000,
};

describe('attempt cookie', () => {
  it('opens what was sealed for its tag, and nothing else', () => {
    const sealed = sealAttempt(key, tag, attempt);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(openAttempt(key, tag, sealed), attempt);
    assert.notEqual(sealAttempt(key, tag, attempt), sealed, 'a fresh IV every time');
    assert.equal(openAttempt(key, newTag(), sealed), undefined, 'moved under another tag');
    assert.equal(openAttempt(attemptKey(Buffer.from('x'.repeat(32))), tag, sealed), undefined, 'another key');
    for (let i = 0; i < sealed.length; i += 7) {
      const flipped = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
      assert.equal(openAttempt(key, tag, flipped), undefined, `flipped at ${i}`);
    }
    for (const junk of ['', 'x', '!!!', 'A'.repeat(5000), sealed.slice(0, 20)]) assert.equal(openAttempt(key, tag, junk), undefined);
  });

  it('is the version 2 format byte for byte: AES-256-CTR, then HMAC-SHA256 over tag, version, IV and ciphertext (what other replicas seal and open)', () => {
    const unicode = { ...attempt, returnTo: 'https://app.example.com/ça/日本?q=ü' };
    for (const a of [attempt, unicode, { ...attempt, stepUp: { acrValues: ['phr'] } }]) {
      const buf = Buffer.from(sealAttempt(key, tag, a), 'base64url');
      assert.equal(buf[0], 2);
      const end = buf.length - 16;
      const mac = createHmac('sha256', key.mac).update(tag, 'latin1').update(buf.subarray(0, end)).digest().subarray(0, 16);
      assert.deepEqual(buf.subarray(end), mac, 'standard HMAC-SHA256, truncated to 16 bytes');
      const plain = createDecipheriv('aes-256-ctr', key.enc, buf.subarray(1, 17)).update(buf.subarray(17, end)).toString('utf8');
      const fields: unknown[] = [a.state, a.nonce, a.codeVerifier, a.returnTo, a.redirectUri, a.createdAt];
      if (a.stepUp !== undefined) fields.push([a.stepUp.acrValues ?? null, a.stepUp.maxAge ?? null]);
      assert.equal(plain, JSON.stringify(fields));
    }
  });

  it("a step-up's ask travels in the attempt; a plain attempt's payload has none", () => {
    const asked = { ...attempt, stepUp: { acrValues: ['urn:mfa', 'phr'], maxAge: 300 } };
    assert.deepEqual(openAttempt(key, tag, sealAttempt(key, tag, asked)), asked);
    const onlyAge = { ...attempt, stepUp: { maxAge: 0 } };
    assert.deepEqual(openAttempt(key, tag, sealAttempt(key, tag, onlyAge)), onlyAge);
    assert.ok(!('stepUp' in openAttempt(key, tag, sealAttempt(key, tag, attempt))!));
    assert.ok(sealAttempt(key, tag, asked).length > sealAttempt(key, tag, attempt).length);
  });

  it('every attempt gets keystream of its own, across chunks and across the counter wrapping to zero', () => {
    const nearWrap = Buffer.from('ffffffffffffffffffffffffffffff00', 'hex');
    const stream = new KeyStream(key.enc, nearWrap);
    const ivs = new Set<string>();
    let blocksSeen = 0;
    for (let i = 0; i < 400; i++) {
      const a = { ...attempt, returnTo: `https://app.example.com/${'p'.repeat(i % 300)}` };
      const sealed = sealAttempt(key, tag, a, stream);
      assert.deepEqual(openAttempt(key, tag, sealed), a, `attempt ${i}`);
      const iv = Buffer.from(sealed, 'base64url').subarray(1, 17).toString('hex');
      assert.ok(!ivs.has(iv), `IV reused at attempt ${i}`);
      ivs.add(iv);
      blocksSeen += Math.ceil((Buffer.from(sealed, 'base64url').length - 33) / 16);
    }
    assert.ok(blocksSeen * 16 > 2 * 16384, 'several keystream chunks were used');
  });

  it('counters add as 128-bit big-endian numbers, wrapping', () => {
    for (const [start, n] of [
      ['00000000000000000000000000000000', 1],
      ['000000000000000000000000000000ff', 1],
      ['00000000000000000000000000ffffff', 70_000],
      ['ffffffffffffffffffffffffffffffff', 2],
      ['0123456789abcdef0123456789abcdef', 2 ** 40 + 12345],
    ] as const) {
      const want = ((BigInt('0x' + start) + BigInt(n)) % 2n ** 128n).toString(16).padStart(32, '0');
      assert.equal(counterPlus(Buffer.from(start, 'hex'), n).toString('hex'), want, `${start} + ${n}`);
    }
  });

  it('a version 1 cookie (AES-GCM, sealed before an upgrade) still opens; a tampered one does not', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.v1, iv);
    cipher.setAAD(Buffer.from(tag, 'latin1'));
    const body = Buffer.concat([cipher.update(JSON.stringify(attempt), 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([Buffer.from([1]), iv, body, cipher.getAuthTag()]).toString('base64url');
    assert.deepEqual(openAttempt(key, tag, sealed), attempt);
    assert.equal(openAttempt(key, newTag(), sealed), undefined, 'moved under another tag');
    const flipped = sealed.slice(0, 30) + (sealed[30] === 'A' ? 'B' : 'A') + sealed.slice(31);
    assert.equal(openAttempt(key, tag, flipped), undefined);
  });

  it('the state names its cookie tag; anything else names none', () => {
    assert.equal(tagOfState(attempt.state), tag);
    for (const bad of ['', 's'.repeat(43), `${'s'.repeat(43)}.short`, `${'s'.repeat(43)}.${tag}.x`, `${'s'.repeat(42)}.${tag}`])
      assert.equal(tagOfState(bad), undefined, bad);
  });

  it('long return URLs are bounded: without the query, else the root', () => {
    const root = 'https://app.example.com/';
    assert.equal(boundedReturnTo('https://app.example.com/a?b=1', root), 'https://app.example.com/a?b=1');
    assert.equal(boundedReturnTo(`https://app.example.com/a?b=${'1'.repeat(MAX_RETURN_TO)}`, root), 'https://app.example.com/a');
    assert.equal(boundedReturnTo(`https://app.example.com/${'a'.repeat(MAX_RETURN_TO)}`, root), root);
  });
});

describe('attempt key source', () => {
  it('LOGIN_STATE_SECRET: the same key in every process, nothing asked of the store', async () => {
    const store = { sharedSecret: () => Promise.reject(new Error('not to be called')) };
    const secret = 'z'.repeat(40);
    assert.deepEqual(await attemptKeySource(secret, store).get(), await attemptKeySource(secret, store).get());
    assert.notDeepEqual(await attemptKeySource(secret, store).get(), await attemptKeySource('y'.repeat(40), store).get());
  });

  it('no secret: processes sharing one SQLite file get one key, created once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'attempt-key-')), 'data.db');
    const [a, b] = [openSqliteStore(path), openSqliteStore(path)];
    try {
      const [ka, kb] = await Promise.all([attemptKeySource('', a).get(), attemptKeySource('', b).get()]);
      assert.deepEqual(ka, kb);
      const c = openSqliteStore(path);
      assert.deepEqual(await attemptKeySource('', c).get(), ka, 'a restart keeps it');
      await c.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a store that cannot answer at start-up is asked again by the next login', async () => {
    let calls = 0;
    const store = {
      sharedSecret: async (_name: string, candidate: Uint8Array) => {
        if (++calls === 1) throw new StoreUnavailableError('down');
        return candidate;
      },
    };
    const source = attemptKeySource('', store);
    await assert.rejects(source.get(), StoreUnavailableError);
    assert.equal((await source.get()).enc.length, 32);
    assert.equal(calls, 2);
    await source.get();
    assert.equal(calls, 2, 'remembered once read');
  });
});
