/**
 * The one contract every `SessionStore` backend must meet, run by each backend's test file.
 * Times are passed explicitly (no sleeping); they stay near the real clock with expiries far
 * ahead, so a server that also expires records by its own clock (Redis) keeps them meanwhile.
 * Keys and index values are random, so backends sharing a server do not see each other's data.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Revocation, RevocationListener } from '../../src/sessions/feed.js';
import { StoreUnavailableError, type SessionStore } from '../../src/sessions/store.js';

export interface OpenedStore {
  readonly store: SessionStore;
  /** Closes the store and whatever `open` started for it. */
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
const rnd = (): string => randomBytes(32).toString('base64url');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const same = (a: Uint8Array | undefined, b: Uint8Array): void => assert.deepEqual(a && Buffer.from(a), Buffer.from(b));

export function sessionStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let s: SessionStore;
    let cleanup: () => Promise<void>;
    const t = Date.now();
    const exp = t + HOUR;

    before(async () => {
      ({ store: s, cleanup } = await open());
    });
    after(async () => {
      await cleanup();
    });

    it('answers ping', async () => {
      assert.equal(await s.ping(), true);
      assert.equal(typeof s.kind, 'string');
    });

    it('puts and gets a record with its expiry', async () => {
      const k = rnd();
      await s.put(k, bytes('hello'), exp);
      const rec = await s.get(k, t);
      same(rec?.value, bytes('hello'));
      assert.equal(rec?.expiresAt, exp);
      assert.equal(await s.get(rnd(), t), undefined);
    });

    it('overwrites value and expiry', async () => {
      const k = rnd();
      await s.put(k, bytes('one'), exp);
      await s.put(k, bytes('two'), exp + 1000);
      const rec = await s.get(k, t);
      same(rec?.value, bytes('two'));
      assert.equal(rec?.expiresAt, exp + 1000);
    });

    it('honours the expiry at the caller’s now', async () => {
      const k = rnd();
      await s.put(k, bytes('x'), exp);
      assert.ok(await s.get(k, exp - 1));
      assert.equal(await s.get(k, exp), undefined);
      assert.equal(await s.get(k, exp + HOUR), undefined);
    });

    it('touch moves the expiry of a live record, and is false for missing or expired ones', async () => {
      const k = rnd();
      await s.put(k, bytes('x'), exp);
      assert.equal(await s.touch(k, exp + HOUR, t), true);
      const rec = await s.get(k, exp + 1);
      assert.equal(rec?.expiresAt, exp + HOUR);
      same(rec?.value, bytes('x'));
      assert.equal(await s.touch(rnd(), exp, t), false);
      assert.equal(await s.touch(k, exp + 3 * HOUR, exp + 2 * HOUR), false);
    });

    it('delete tells whether the record existed', async () => {
      const k = rnd();
      await s.put(k, bytes('x'), exp);
      assert.equal(await s.delete(k), true);
      assert.equal(await s.get(k, t), undefined);
      assert.equal(await s.delete(k), false);
    });

    for (const field of ['subject', 'sid'] as const) {
      it(`deleteByIndex(${field}) deletes exactly the matching sessions`, async () => {
        const [a, b, c, d] = [rnd(), rnd(), rnd(), rnd()];
        const mine = rnd();
        await s.put(a, bytes('a'), exp, { [field]: mine });
        await s.put(b, bytes('b'), exp + 5, { subject: field === 'subject' ? mine : rnd(), sid: field === 'sid' ? mine : rnd() });
        await s.put(c, bytes('c'), exp, { [field]: rnd() });
        await s.put(d, bytes('d'), exp);
        assert.deepEqual((await s.deleteByIndex(field, mine)).sort(), [a, b].sort());
        assert.equal(await s.get(a, t), undefined);
        assert.equal(await s.get(b, t), undefined);
        assert.ok(await s.get(c, t));
        assert.ok(await s.get(d, t));
        assert.deepEqual(await s.deleteByIndex(field, mine), []);
      });
    }

    it('deleteByIndex follows a session re-put under another index value', async () => {
      const k = rnd();
      const [old, now] = [rnd(), rnd()];
      await s.put(k, bytes('v1'), exp, { subject: old });
      await s.put(k, bytes('v2'), exp, { subject: now });
      assert.deepEqual(await s.deleteByIndex('subject', old), []);
      assert.ok(await s.get(k, t));
      assert.deepEqual(await s.deleteByIndex('subject', now), [k]);
    });

    it('deleteByIndex with "also" deletes only the sessions carrying both values', async () => {
      const [both, otherUser, noSid] = [rnd(), rnd(), rnd()];
      const [sid, subject] = [rnd(), rnd()];
      await s.put(both, bytes('a'), exp, { sid, subject });
      await s.put(otherUser, bytes('b'), exp, { sid, subject: rnd() });
      await s.put(noSid, bytes('c'), exp, { subject });
      assert.deepEqual(await s.deleteByIndex('sid', sid, { subject }), [both]);
      assert.ok(await s.get(otherUser, t), 'same sid, another subject: kept');
      assert.ok(await s.get(noSid, t), 'same subject, no sid: kept');
      assert.deepEqual(await s.deleteByIndex('sid', sid), [otherUser], 'still findable by its sid');
      assert.deepEqual(await s.deleteByIndex('subject', subject, { sid: rnd() }), []);
      assert.deepEqual(await s.deleteByIndex('subject', subject), [noSid]);
    });

    it('update replaces a live session (value, expiry, index) and reports true', async () => {
      const [k, oldSub, newSub] = [rnd(), rnd(), rnd()];
      await s.put(k, bytes('v1'), exp, { subject: oldSub });
      assert.equal(await s.update(k, bytes('v2'), exp + 1000, { subject: newSub }, t), true);
      const rec = await s.get(k, t);
      same(rec?.value, bytes('v2'));
      assert.equal(rec?.expiresAt, exp + 1000);
      assert.deepEqual(await s.deleteByIndex('subject', oldSub), []);
      assert.deepEqual(await s.deleteByIndex('subject', newSub), [k]);
    });

    it('update never brings back a session that was deleted, revoked or expired', async () => {
      const [deleted, revoked, expired, never] = [rnd(), rnd(), rnd(), rnd()];
      const subject = rnd();
      await s.put(deleted, bytes('x'), exp);
      await s.put(revoked, bytes('x'), exp, { subject });
      await s.put(expired, bytes('x'), exp);
      await s.delete(deleted);
      await s.deleteByIndex('subject', subject);
      assert.equal(await s.update(deleted, bytes('y'), exp, {}, t), false);
      assert.equal(await s.update(revoked, bytes('y'), exp, { subject }, t), false);
      assert.equal(await s.update(expired, bytes('y'), exp + HOUR, {}, exp), false, 'expired at the caller’s now');
      assert.equal(await s.update(never, bytes('y'), exp, {}, t), false);
      for (const k of [deleted, revoked, never]) assert.equal(await s.get(k, t), undefined);
      assert.equal(await s.get(expired, exp), undefined);
      assert.deepEqual(await s.deleteByIndex('subject', subject), [], 'no session came back under its index');
    });

    it('claimOnce: true the first time, false while the claim lives, true again after it lapsed', async () => {
      const k = rnd();
      assert.equal(await s.claimOnce(k, exp, t), true);
      assert.equal(await s.claimOnce(k, exp + HOUR, t + 1000), false);
      assert.equal(await s.claimOnce(k, exp, exp - 1), false);
      assert.equal(await s.claimOnce(k, exp + HOUR, exp), true, 'lapsed at the caller’s now');
      assert.equal(await s.claimOnce(k, exp + 2 * HOUR, exp + 1), false);
      assert.equal(await s.claimOnce(rnd(), exp, t), true, 'another value is independent');
    });

    it('concurrent claims of one value: exactly one wins', async () => {
      const k = rnd();
      const got = await Promise.all(Array.from({ length: 10 }, () => s.claimOnce(k, exp, t)));
      assert.equal(got.filter(Boolean).length, 1);
    });

    it('claims and sessions live in separate spaces', async () => {
      const k = rnd();
      await s.put(k, bytes('session'), exp);
      assert.equal(await s.claimOnce(k, exp, t), true);
      assert.ok(await s.get(k, t));
    });

    it('a shared secret is stored once: every caller, concurrent or later, gets the first candidate', async () => {
      const name = `secret-${rnd()}`;
      const candidates = Array.from({ length: 5 }, () => randomBytes(32));
      const got = await Promise.all(candidates.map((c) => s.sharedSecret(name, c)));
      const first = Buffer.from(got[0]!);
      assert.ok(
        candidates.some((c) => c.equals(first)),
        'one of the candidates',
      );
      for (const g of got) assert.ok(Buffer.from(g).equals(first));
      assert.ok(Buffer.from(await s.sharedSecret(name, randomBytes(32))).equals(first), 'a later call does not replace it');
      assert.ok(!Buffer.from(await s.sharedSecret(`other-${rnd()}`, randomBytes(32))).equals(first), 'names are independent');
    });

    it('a touched session stays findable by its index', async () => {
      const [k, sid] = [rnd(), rnd()];
      await s.put(k, bytes('x'), exp, { sid });
      assert.equal(await s.touch(k, exp + 2 * HOUR, t), true);
      assert.deepEqual(await s.deleteByIndex('sid', sid), [k]);
    });

    it('a lock is exclusive until released', async () => {
      const n = rnd();
      const l1 = await s.lock(n, HOUR, t);
      assert.ok(l1);
      assert.equal(await s.lock(n, HOUR, t + 1000), undefined);
      await l1.release();
      const l2 = await s.lock(n, HOUR, t + 2000);
      assert.ok(l2);
      await l2.release();
    });

    it('a lock lapses after its ttl; the old holder cannot release the new holder’s lock', async () => {
      const n = rnd();
      const l1 = await s.lock(n, HOUR, t);
      assert.ok(l1);
      assert.equal(await s.lock(n, HOUR, t + HOUR - 1), undefined);
      const l2 = await s.lock(n, HOUR, t + HOUR);
      assert.ok(l2);
      await l1.release();
      await l1.release();
      assert.equal(await s.lock(n, HOUR, t + HOUR + 1), undefined);
      await l2.release();
      await l2.release();
      assert.ok(await s.lock(n, HOUR, t + HOUR + 2));
    });

    it('concurrent lock attempts: exactly one wins', async () => {
      const n = rnd();
      const got = await Promise.all(Array.from({ length: 8 }, () => s.lock(n, HOUR, t)));
      assert.equal(got.filter((g) => g !== undefined).length, 1);
    });

    it('keeps large (64 KiB) and binary values intact', async () => {
      const big = randomBytes(64 * 1024);
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const [k1, k2, k3] = [rnd(), rnd(), rnd()];
      await s.put(k1, big, exp, { subject: rnd(), sid: rnd() });
      await s.put(k2, all, exp);
      await s.put(k3, new Uint8Array(0), exp);
      same((await s.get(k1, t))?.value, big);
      same((await s.get(k2, t))?.value, all);
      same((await s.get(k3, t))?.value, new Uint8Array(0));
      assert.equal(await s.touch(k1, exp + 1, t), true);
      same((await s.get(k1, t))?.value, big);
    });

    it('sweep removes what expired and keeps what lives', async () => {
      const [dead, live] = [rnd(), rnd()];
      await s.put(dead, bytes('x'), t - 1000, { subject: rnd() });
      await s.put(live, bytes('y'), exp);
      const n = await s.sweep(t);
      assert.ok(Number.isInteger(n) && n >= 0);
      assert.equal(await s.get(dead, t - 2000), undefined);
      assert.ok(await s.get(live, t));
    });

    it('after close, calls reject with StoreUnavailableError and ping is false', async () => {
      await s.close();
      await assert.rejects(s.get(rnd(), t), StoreUnavailableError);
      await assert.rejects(s.put(rnd(), bytes('x'), exp), StoreUnavailableError);
      await assert.rejects(s.claimOnce(rnd(), exp, t), StoreUnavailableError);
      await assert.rejects(s.update(rnd(), bytes('x'), exp, {}, t), StoreUnavailableError);
      assert.equal(await s.ping(), false);
      await s.close();
    });
  });
}

/** Two stores on one backend (two processes sharing it), for the revocation feed. */
export interface OpenedPair {
  readonly a: SessionStore;
  readonly b: SessionStore;
  cleanup(): Promise<void>;
}

/** Records what a feed delivers; `next()` waits (bounded) for the next delivery. */
export class Recorder implements RevocationListener {
  readonly got: Revocation[] = [];
  resets = 0;
  #waiting: ((r: Revocation) => void) | undefined;

  revoked(r: Revocation): void {
    this.got.push(r);
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(r);
  }

  reset(): void {
    this.resets++;
  }

  /** The next revocation delivered after the ones already recorded (rejects after `ms`: a bound for a busy machine, not a wait). */
  next(ms = 20_000): Promise<Revocation> {
    const seen = this.got.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no revocation delivered within ${ms} ms`)), ms);
      this.#waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      // Delivered between the call and now.
      if (this.got.length > seen) this.#waiting(this.got[seen]!);
    });
  }
}

/** The contract of `SessionStore.revocationFeed()`: what one process publishes, the others receive. */
export function revocationFeedContract(name: string, open: () => Promise<OpenedPair>): void {
  describe(`revocation feed contract: ${name}`, () => {
    let pair: OpenedPair;
    before(async () => {
      pair = await open();
    });
    after(async () => {
      await pair.cleanup();
    });

    // Order is not promised: on a cluster, each PUBLISH may go through another node.
    it('delivers what another process publishes, and not to the publisher itself', async () => {
      const fa = pair.a.revocationFeed({ pollMs: 20 });
      const fb = pair.b.revocationFeed({ pollMs: 20 });
      const [ra, rb] = [new Recorder(), new Recorder()];
      try {
        fa.subscribe(ra);
        fb.subscribe(rb);
        await Promise.all([fa.subscribed(), fb.subscribed()]);
        const sent: Revocation[] = [
          { field: 'subject', value: rnd() },
          { field: 'sid', value: rnd() },
          { field: 'key', value: rnd() },
        ];
        const first = rb.next();
        for (const r of sent) await fa.publish(r);
        await first;
        while (rb.got.length < sent.length) await rb.next();
        const sorted = (rs: readonly Revocation[]): string[] => rs.map((r) => `${r.field} ${r.value}`).sort();
        assert.deepEqual(sorted(rb.got), sorted(sent));
        const back: Revocation = { field: 'sid', value: rnd() };
        const answer = ra.next();
        await fb.publish(back);
        assert.deepEqual(await answer, back);
        assert.deepEqual(ra.got, [back], 'a publisher does not hear its own revocations');
      } finally {
        await Promise.all([fa.close(), fb.close()]);
      }
    });

    it('refuses values that are not hashes, and publishing once closed', async () => {
      const f = pair.a.revocationFeed();
      await assert.rejects(f.publish({ field: 'subject', value: 'alice@example.com' }), TypeError);
      await f.close();
      await assert.rejects(f.publish({ field: 'subject', value: rnd() }), StoreUnavailableError);
    });
  });
}
