import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import type { SqliteRevocationFeed } from '../../src/sessions/sqlite-feed.js';
import { ManualSchedule } from '../helpers/schedule.js';
import { Recorder } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-sqlite-feed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newPath = (): string => join(dir, `feed-${++n}.db`);
const rnd = (): string => randomBytes(32).toString('base64url');
const HOUR = 3_600_000;

describe('sqlite revocation feed', () => {
  it('polls the log on its schedule, at most every 250 ms, and delivers what other processes appended', async () => {
    const path = newPath();
    const [a, b] = [openSqliteStore(path), openSqliteStore(path)];
    const schedule = new ManualSchedule();
    const feed = b.revocationFeed({ schedule: schedule.schedule }) as SqliteRevocationFeed;
    const rec = new Recorder();
    await a.revocationFeed().publish({ field: 'sid', value: rnd() });
    feed.subscribe(rec);
    assert.equal(schedule.pending.length, 1);
    assert.ok(schedule.pending[0]!.delayMs <= 250, `poll interval ${schedule.pending[0]!.delayMs} ms`);

    const r = { field: 'sid', value: rnd() } as const;
    await a.revocationFeed().publish(r);
    assert.deepEqual(rec.got, [], 'nothing before the poll runs');
    await schedule.runNext();
    assert.deepEqual(rec.got, [r], 'from the end of the log on: what was there before is not replayed');
    assert.equal(schedule.pending.length, 1, 'the next poll is scheduled');
    await schedule.runNext();
    assert.deepEqual(rec.got, [r], 'each row is delivered once');
    assert.equal(rec.resets, 0);

    await feed.close();
    assert.equal(schedule.pending.length, 0, 'closing cancels the poll');
    await Promise.all([a.close(), b.close()]);
  });

  it('a subscriber that fell behind rows already pruned resets instead of guessing', async () => {
    const path = newPath();
    const [a, b] = [openSqliteStore(path), openSqliteStore(path)];
    const schedule = new ManualSchedule();
    const feed = b.revocationFeed({ schedule: schedule.schedule }) as SqliteRevocationFeed;
    const rec = new Recorder();
    feed.subscribe(rec);
    const pub = a.revocationFeed();
    const first = { field: 'subject', value: rnd() } as const;
    const last = { field: 'subject', value: rnd() } as const;
    await pub.publish(first);
    await pub.publish(last);
    // What `sweep` does once the log is longer than it keeps: the oldest rows go.
    const db = new Database(path);
    db.prepare('DELETE FROM revocations WHERE seq = (SELECT MIN(seq) FROM revocations)').run();
    db.close();
    feed.poll();
    assert.equal(rec.resets, 1);
    assert.deepEqual(rec.got, [last]);
    await feed.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('sweep keeps the log bounded and removes lapsed claims', async () => {
    const path = newPath();
    const s = openSqliteStore(path);
    const t = Date.now();
    assert.equal(await s.claimOnce('old', t + 10, t), true);
    assert.equal(await s.claimOnce('new', t + HOUR, t), true);
    const pub = s.revocationFeed();
    await pub.publish({ field: 'key', value: rnd() });
    assert.equal(await s.sweep(t + 10), 1, 'the lapsed claim; the short log stays');
    assert.equal(await s.claimOnce('new', t + 2 * HOUR, t + 10), false);
    const db = new Database(path);
    db.prepare(
      "INSERT INTO revocations (origin, field, value) SELECT 'x', 'key', 'v' FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10005) SELECT i FROM c)",
    ).run();
    db.close();
    assert.equal(await s.sweep(t + 10), 6, 'keeps the last 10 000 rows');
    await s.close();
  });
});

describe('sqlite schema migration', () => {
  it('opens a version-1 file in place: its sessions stay, claims and the revocation log are added', async () => {
    const path = newPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE sessions (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER NOT NULL, subject TEXT, sid TEXT);
      CREATE INDEX sessions_subject ON sessions (subject) WHERE subject IS NOT NULL;
      CREATE INDEX sessions_sid ON sessions (sid) WHERE sid IS NOT NULL;
      CREATE INDEX sessions_expires ON sessions (expires_at);
      CREATE TABLE states (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX states_expires ON states (expires_at);
      CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
    const t = Date.now();
    db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('k', Buffer.from('v1 session'), t + HOUR, 'sub-hash', null);
    db.pragma('user_version = 1');
    db.close();

    const s = openSqliteStore(path);
    assert.equal(Buffer.from((await s.get('k', t))!.value).toString(), 'v1 session');
    assert.equal(await s.claimOnce('jti', t + HOUR, t), true);
    await s.revocationFeed().publish({ field: 'subject', value: 'sub-hash' });
    assert.deepEqual(await s.deleteByIndex('subject', 'sub-hash'), ['k']);
    await s.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 3);
    check.close();
  });
});
