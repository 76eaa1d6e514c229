import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { revocationFeedContract, sessionStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newPath = (): string => join(dir, `store-${++n}.db`);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const HOUR = 3_600_000;

sessionStoreContract('sqlite', async () => {
  const store = openSqliteStore(newPath());
  return { store, cleanup: () => store.close() };
});

revocationFeedContract('sqlite (two stores on one file)', async () => {
  const path = newPath();
  const [a, b] = [openSqliteStore(path), openSqliteStore(path)];
  return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) };
});

describe('sqlite store file', () => {
  const t = Date.now();

  it('keeps its data across a reopen', async () => {
    const path = newPath();
    const a = openSqliteStore(path);
    await a.put('k', bytes('v'), t + HOUR, { subject: 'sub' });
    assert.equal(await a.claimOnce('c', t + HOUR, t), true);
    await a.close();
    const b = openSqliteStore(path);
    assert.equal(Buffer.from((await b.get('k', t))!.value).toString(), 'v');
    assert.equal(await b.claimOnce('c', t + HOUR, t), false);
    assert.deepEqual(await b.deleteByIndex('subject', 'sub'), ['k']);
    await b.close();
  });

  it('is in WAL mode with a versioned schema', async () => {
    const path = newPath();
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), 3);
    db.close();
  });

  it('two stores on one file see each other’s writes and locks', async () => {
    const path = newPath();
    const a = openSqliteStore(path);
    const b = openSqliteStore(path);
    await a.put('k', bytes('from a'), t + HOUR);
    assert.equal(Buffer.from((await b.get('k', t))!.value).toString(), 'from a');
    const claimed = await Promise.all([a.claimOnce('c', t + HOUR, t), b.claimOnce('c', t + HOUR, t)]);
    assert.equal(claimed.filter(Boolean).length, 1);
    const lock = await a.lock('refresh', HOUR, t);
    assert.ok(lock);
    assert.equal(await b.lock('refresh', HOUR, t + 1), undefined);
    await lock.release();
    assert.ok(await b.lock('refresh', HOUR, t + 2));
    assert.equal(await b.delete('k'), true);
    assert.equal(await a.get('k', t), undefined);
    await Promise.all([a.close(), b.close()]);
  });

  it('sweep counts the expired rows of every table', async () => {
    const s = openSqliteStore(newPath());
    await s.put('s1', bytes('x'), t + 10);
    await s.put('s2', bytes('x'), t + HOUR);
    assert.equal(await s.claimOnce('c', t + 10, t), true);
    assert.ok(await s.lock('l', 10, t));
    assert.equal(await s.sweep(t + 10), 3);
    assert.equal(await s.sweep(t + 10), 0);
    assert.ok(await s.get('s2', t + 10));
    await s.close();
  });

  it('names the path and the problem when the directory does not exist', () => {
    const path = join(dir, 'missing', 'sub', 'data.db');
    assert.throws(
      () => openSqliteStore(path),
      (err: Error) => {
        assert.equal(err.message, `cannot open ${path} (directory ${join(dir, 'missing', 'sub')} does not exist)`);
        return true;
      },
    );
  });

  it('names the path and the problem when the file is not a database', () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is a text file, not SQLite '.repeat(200));
    assert.throws(() => openSqliteStore(path), { message: `cannot open ${path} (not an SQLite database)` });
  });

  it('names the path when it is a directory', () => {
    assert.throws(() => openSqliteStore(dir), { message: `cannot open ${dir} (it is a directory)` });
  });

  it('refuses a schema newer than it knows', () => {
    const path = newPath();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(() => openSqliteStore(path), /schema version 99 is newer/);
  });
});
