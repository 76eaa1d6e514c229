/**
 * Ending sessions across processes: two `Sessions` on two stores sharing one SQLite file (two
 * processes, as with `--workers`), each with a long in-process cache, the feed polled on a manual
 * schedule. Only the revocation feed can explain a cached session disappearing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ManualClock } from '../../src/clock.js';
import type { Session } from '../../src/sessions/session.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { storeKey } from '../../src/sessions/ticket.js';
import { ManualSchedule } from '../helpers/schedule.js';

const dir = mkdtempSync(join(tmpdir(), 'sessions-revocation-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const ISS = 'https://idp.example.com';

interface Process {
  readonly sessions: Sessions;
  readonly store: SessionStore;
  readonly schedule: ManualSchedule;
  /** Runs the feed's pending poll. */
  poll(): Promise<void>;
}

function twoProcesses(clock: ManualClock): [Process, Process, () => Promise<void>] {
  const path = join(dir, `shared-${++n}.db`);
  const make = (): Process => {
    const store = openSqliteStore(path);
    const schedule = new ManualSchedule();
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 300, feed: store.revocationFeed({ schedule: schedule.schedule }) });
    sessions.listen();
    return { sessions, store, schedule, poll: () => schedule.runNext() };
  };
  const a = make();
  const b = make();
  const close = async (): Promise<void> => {
    for (const p of [a, b]) {
      await p.sessions.close();
      await p.store.close();
    }
  };
  return [a, b, close];
}

function session(clock: ManualClock, sub: string, sid?: string): Session {
  return {
    v: 1,
    user: `${sub}@example.com`,
    groups: [],
    claims: {},
    iss: ISS,
    sub,
    ...(sid ? { sid } : {}),
    createdAt: clock.now(),
    expiresAt: clock.now() + 3_600_000,
  };
}

/** Deletes a session's row behind every cache's back: a later `load` that still finds it was served from cache. */
async function deleteBehindTheCache(store: SessionStore, id: string): Promise<void> {
  assert.equal(await store.delete(storeKey('session', id)), true);
}

describe('ending sessions on every process sharing the store', () => {
  it('revoke by sub ends every session of that user in the store, here, and — after one poll — in the other process’s cache', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const alice1 = await a.sessions.create(session(clock, 'alice', 'op-1'));
      const alice2 = await a.sessions.create(session(clock, 'alice', 'op-2'));
      const bob = await a.sessions.create(session(clock, 'bob', 'op-3'));
      for (const id of [alice1, alice2, bob]) assert.ok(await b.sessions.load(id), 'cached in b');
      assert.ok(await a.sessions.load(alice1), 'cached in a');

      assert.equal(await a.sessions.revoke({ iss: ISS, sub: 'alice' }), 2);
      assert.equal(await a.sessions.load(alice1), undefined, 'gone at once where it was revoked');
      assert.ok(await b.sessions.load(alice1), 'b still serves its cached copy until it polls');
      await deleteBehindTheCache(a.store, bob);
      await b.poll();
      assert.equal(await b.sessions.load(alice1), undefined);
      assert.equal(await b.sessions.load(alice2), undefined);
      assert.ok(await b.sessions.load(bob), 'bob’s cached session was not touched: the invalidation is targeted');
    } finally {
      await close();
    }
  });

  it('revoke by sid ends that provider session only; with sub too, only sessions carrying both', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const one = await a.sessions.create(session(clock, 'alice', 'op-1'));
      const other = await a.sessions.create(session(clock, 'alice', 'op-2'));
      const mallory = await a.sessions.create(session(clock, 'mallory', 'op-9'));
      for (const id of [one, other, mallory]) assert.ok(await b.sessions.load(id));
      assert.equal(await b.sessions.revoke({ iss: ISS, sid: 'op-9', sub: 'alice' }), 0, 'sid of another user');
      assert.equal(await b.sessions.revoke({ iss: ISS, sid: 'op-1', sub: 'alice' }), 1);
      assert.equal(await b.sessions.revoke({ iss: 'https://other-idp.example.com', sid: 'op-2' }), 0, 'sid of another issuer');
      await a.poll();
      assert.equal(await a.sessions.load(one), undefined);
      assert.ok(await a.sessions.load(other));
      assert.ok(await b.sessions.load(mallory));
      assert.equal(await a.sessions.revoke({ iss: ISS, sid: 'op-9' }), 1);
      await b.poll();
      assert.equal(await b.sessions.load(mallory), undefined);
    } finally {
      await close();
    }
  });

  it('a logout in one process ends the session in the other’s cache too', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const id = await a.sessions.create(session(clock, 'alice', 'op-1'));
      assert.ok(await b.sessions.load(id));
      assert.equal(await a.sessions.delete(id), true);
      assert.ok(await b.sessions.load(id), 'cached until the poll');
      await b.poll();
      assert.equal(await b.sessions.load(id), undefined);
    } finally {
      await close();
    }
  });

  it('a token refresh finishing after a revocation does not bring the session back', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const id = await a.sessions.create(session(clock, 'alice', 'op-1'));
      const read = await b.sessions.load(id, { fresh: true });
      assert.ok(read);
      assert.equal(await a.sessions.revoke({ iss: ISS, sub: 'alice' }), 1);
      assert.equal(await b.sessions.update(id, { ...read, accessToken: 'refreshed' }), false);
      assert.equal(await b.sessions.load(id, { fresh: true }), undefined);
      assert.equal(await b.sessions.load(id), undefined, 'and not cached by the failed update');
    } finally {
      await close();
    }
  });

  it('a read under way when a revocation arrives is not cached', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const id = await a.sessions.create(session(clock, 'alice', 'op-1'));
      // Hold b's store read after it has read the (still live) record.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let reading!: () => void;
      const started = new Promise<void>((r) => (reading = r));
      const get = b.store.get.bind(b.store);
      b.store.get = async (key, now) => {
        const rec = await get(key, now);
        reading();
        await gate;
        return rec;
      };
      const inFlight = b.sessions.load(id);
      await started;
      assert.equal(await a.sessions.revoke({ iss: ISS, sub: 'alice' }), 1);
      await b.poll();
      release();
      assert.ok(await inFlight, 'that one request read the session before it ended');
      b.store.get = get;
      assert.equal(await b.sessions.load(id), undefined, 'but it was not cached');
    } finally {
      await close();
    }
  });

  it('when the feed may have missed revocations (pruned log), everything cached is dropped', async () => {
    const clock = new ManualClock(Date.now());
    const [a, b, close] = twoProcesses(clock);
    try {
      const alice = await a.sessions.create(session(clock, 'alice'));
      assert.ok(await b.sessions.load(alice));
      await a.sessions.revoke({ iss: ISS, sub: 'carol' });
      await a.sessions.revoke({ iss: ISS, sub: 'dave' });
      const db = new Database(join(dir, `shared-${n}.db`));
      db.prepare('DELETE FROM revocations WHERE seq = (SELECT MIN(seq) FROM revocations)').run();
      db.close();
      await deleteBehindTheCache(a.store, alice);
      assert.ok(await b.sessions.load(alice), 'cached');
      await b.poll();
      assert.equal(b.sessions.cachedCount, 0);
      assert.equal(await b.sessions.load(alice), undefined);
    } finally {
      await close();
    }
  });
});
