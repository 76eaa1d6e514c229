/**
 * The embedded session store: one SQLite file (better-sqlite3), shared safely by several
 * processes on one machine (WAL, `synchronous=FULL`, a busy timeout). Expiry is decided from the
 * caller's `now`; `sweep` removes what has expired. The schema is versioned with
 * `PRAGMA user_version` so later versions can migrate it in place. Besides sessions: locks,
 * one-time claims (logout-token `jti`s, spent login states), shared secrets (the login-attempt
 * key) and the revocation log the processes sharing the file poll (`sqlite-feed.ts`).
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { RevocationFeed, RevocationFeedOptions } from './feed.js';
import { SqliteRevocationFeed } from './sqlite-feed.js';
import { StoreUnavailableError, type SessionStore, type StoreLock, type StoredRecord } from './store.js';
import type { SessionIndex } from './session-index.js';

export interface SqliteStoreOptions {
  /** How long a statement waits for another process's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

export interface SqliteStore extends SessionStore {
  readonly kind: 'sqlite';
  /** The database file. */
  readonly path: string;
}

const SCHEMA_VERSION = 3;

/** Migrations by the version they lead to; each runs inside one write transaction. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
    CREATE TABLE sessions (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER NOT NULL, subject TEXT, sid TEXT);
    CREATE INDEX sessions_subject ON sessions (subject) WHERE subject IS NOT NULL;
    CREATE INDEX sessions_sid ON sessions (sid) WHERE sid IS NOT NULL;
    CREATE INDEX sessions_expires ON sessions (expires_at);
    CREATE TABLE states (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER NOT NULL);
    CREATE INDEX states_expires ON states (expires_at);
    CREATE TABLE locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
  `,
  // One-time values (logout-token jti) and the revocation log every process polls (sqlite-feed.ts).
  2: `
    CREATE TABLE claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
    CREATE INDEX claims_expires ON claims (expires_at);
    CREATE TABLE revocations (seq INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL);
  `,
  // Secrets shared by the processes on this file (the login-attempt cookie key), written once;
  // login attempts live in browser cookies now, so their table goes.
  3: `
    CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    DROP TABLE states;
  `,
};

/** Revocation log rows kept (older ones are pruned by \`sweep\`; a process that fell further behind resets its cache). */
const REVOCATIONS_KEPT = 10_000;

interface IndexMatch {
  readonly value: string;
  readonly subject: string | null;
  readonly sid: string | null;
}

interface Row {
  readonly value: Buffer;
  readonly expires_at: number;
}

/** Why `path` cannot hold the store, checked before SQLite gives its vaguer "unable to open database file". */
function checkPath(path: string): void {
  const dir = dirname(path);
  const dirStat = statSync(dir, { throwIfNoEntry: false });
  if (!dirStat) throw new Error(`cannot open ${path} (directory ${dir} does not exist)`);
  if (!dirStat.isDirectory()) throw new Error(`cannot open ${path} (${dir} is not a directory)`);
  const fileStat = statSync(path, { throwIfNoEntry: false });
  if (fileStat?.isDirectory()) throw new Error(`cannot open ${path} (it is a directory)`);
  try {
    // WAL needs to create `-wal` and `-shm` files next to the database.
    accessSync(dir, constants.W_OK | constants.X_OK);
    if (fileStat) accessSync(path, constants.R_OK | constants.W_OK);
  } catch {
    throw new Error(`cannot open ${path} (permission denied${fileStat ? '' : ` on directory ${dir}`})`);
  }
}

function migrate(db: Database.Database, path: string): void {
  const current = (): number => db.pragma('user_version', { simple: true }) as number;
  if (current() > SCHEMA_VERSION)
    throw new Error(`cannot open ${path} (schema version ${current()} is newer than this version of oidc-judge supports, ${SCHEMA_VERSION})`);
  if (current() === SCHEMA_VERSION) return;
  // Another process may be migrating at the same time: decide again inside the write lock.
  db.transaction(() => {
    for (let v = current() + 1; v <= SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v}`);
    }
  }).immediate();
}

/** Opens (creating the file, never its directory) the store at `path`. Throws an Error naming the path and the problem. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const file = resolve(path);
  checkPath(file);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: opts.busyTimeoutMs ?? 5000 });
  } catch (err) {
    throw new Error(`cannot open ${file} (${(err as Error).message})`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // 16 MiB of page cache (SQLite's default is 2 MiB): the index and leaf pages of a large store's
    // active sessions stay in memory on cache misses; pages are only allocated as they are read.
    db.pragma('cache_size = -16384');
    migrate(db, file);
  } catch (err) {
    db.close();
    const msg = (err as Error).message;
    if (msg.startsWith('cannot open')) throw err;
    if ((err as { code?: string }).code === 'SQLITE_NOTADB') throw new Error(`cannot open ${file} (not an SQLite database)`);
    throw new Error(`cannot open ${file} (${msg})`);
  }
  return new SqliteSessionStore(db, file);
}

/** Runs a database call; failures (busy, I/O, closed) become `StoreUnavailableError`. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new StoreUnavailableError(`sqlite: ${(err as Error).message}`);
  }
}

/** Every statement, prepared once. */
function prepare(db: Database.Database) {
  const p = <P extends unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
  return {
    put: p<[string, Uint8Array, number, string | null, string | null]>(
      'INSERT OR REPLACE INTO sessions (key, value, expires_at, subject, sid) VALUES (?, ?, ?, ?, ?)',
    ),
    update: p<[Uint8Array, number, string | null, string | null, string, number]>(
      'UPDATE sessions SET value = ?, expires_at = ?, subject = ?, sid = ? WHERE key = ? AND expires_at > ?',
    ),
    get: p<[string, number], Row>('SELECT value, expires_at FROM sessions WHERE key = ? AND expires_at > ?'),
    touch: p<[number, string, number]>('UPDATE sessions SET expires_at = ? WHERE key = ? AND expires_at > ?'),
    delete: p<[string]>('DELETE FROM sessions WHERE key = ?'),
    deleteBySubject: p<[IndexMatch], string>(
      'DELETE FROM sessions WHERE subject = @value AND (@subject IS NULL OR subject = @subject) AND (@sid IS NULL OR sid = @sid) RETURNING key',
    ).pluck(),
    deleteBySid: p<[IndexMatch], string>(
      'DELETE FROM sessions WHERE sid = @value AND (@subject IS NULL OR subject = @subject) AND (@sid IS NULL OR sid = @sid) RETURNING key',
    ).pluck(),
    claim: p<[string, number, number]>(
      'INSERT INTO claims (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?',
    ),
    secretAdd: p<[string, Uint8Array]>('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)'),
    secretGet: p<[string], Buffer>('SELECT value FROM secrets WHERE name = ?').pluck(),
    lock: p<[string, string, number, number]>(
      'INSERT INTO locks (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE locks.expires_at <= ?',
    ),
    unlock: p<[string, string]>('DELETE FROM locks WHERE name = ? AND owner = ?'),
    sweepSessions: p<[number]>('DELETE FROM sessions WHERE expires_at <= ?'),
    sweepLocks: p<[number]>('DELETE FROM locks WHERE expires_at <= ?'),
    sweepClaims: p<[number]>('DELETE FROM claims WHERE expires_at <= ?'),
    pruneRevocations: p<[number]>('DELETE FROM revocations WHERE seq <= (SELECT MAX(seq) FROM revocations) - ?'),
    ping: p<[], number>('SELECT 1').pluck(),
  };
}

class SqliteSessionStore implements SqliteStore {
  readonly kind = 'sqlite';
  private readonly q: ReturnType<typeof prepare>;
  private readonly sweepAll: Database.Transaction<(now: number) => number>;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {
    this.q = prepare(db);
    this.sweepAll = db.transaction(
      (now: number) =>
        this.q.sweepSessions.run(now).changes +
        this.q.sweepLocks.run(now).changes +
        this.q.sweepClaims.run(now).changes +
        this.q.pruneRevocations.run(REVOCATIONS_KEPT).changes,
    );
  }

  async put(key: string, value: Uint8Array, expiresAt: number, index: SessionIndex = {}): Promise<void> {
    guard(() => this.q.put.run(key, value, expiresAt, index.subject ?? null, index.sid ?? null));
  }

  async update(key: string, value: Uint8Array, expiresAt: number, index: SessionIndex, now: number): Promise<boolean> {
    return guard(() => this.q.update.run(value, expiresAt, index.subject ?? null, index.sid ?? null, key, now).changes > 0);
  }

  async get(key: string, now: number): Promise<StoredRecord | undefined> {
    const row = guard(() => this.q.get.get(key, now));
    return row && { value: row.value, expiresAt: row.expires_at };
  }

  async touch(key: string, expiresAt: number, now: number): Promise<boolean> {
    return guard(() => this.q.touch.run(expiresAt, key, now).changes > 0);
  }

  async delete(key: string): Promise<boolean> {
    return guard(() => this.q.delete.run(key).changes > 0);
  }

  async deleteByIndex(field: keyof SessionIndex, value: string, also: SessionIndex = {}): Promise<string[]> {
    const stmt = field === 'subject' ? this.q.deleteBySubject : this.q.deleteBySid;
    return guard(() => stmt.all({ value, subject: also.subject ?? null, sid: also.sid ?? null }));
  }

  async claimOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return guard(() => this.q.claim.run(key, expiresAt, now).changes > 0);
  }

  async sharedSecret(name: string, candidate: Uint8Array): Promise<Uint8Array> {
    return guard(() => {
      this.q.secretAdd.run(name, candidate);
      return this.q.secretGet.get(name)!;
    });
  }

  revocationFeed(opts: RevocationFeedOptions = {}): RevocationFeed {
    return new SqliteRevocationFeed(this.db, opts);
  }

  async lock(name: string, ttlMs: number, now: number): Promise<StoreLock | undefined> {
    const owner = randomBytes(16).toString('base64url');
    if (guard(() => this.q.lock.run(name, owner, now + ttlMs, now).changes) === 0) return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        guard(() => this.q.unlock.run(name, owner));
        released = true;
      },
    };
  }

  async sweep(now: number): Promise<number> {
    return guard(() => this.sweepAll.immediate(now));
  }

  async ping(): Promise<boolean> {
    try {
      return this.q.ping.get() === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
