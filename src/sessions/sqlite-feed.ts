/**
 * The revocation feed of the SQLite store: every process sharing the file (`--workers`, or
 * several services on one volume) appends to the `revocations` log table and polls it for rows
 * it has not seen, every `pollMs` (200 ms by default: one indexed read, well inside the "ended
 * within a second" promise). A subscriber starts at the end of the log; when rows it never saw
 * were pruned meanwhile (`sweep` keeps the last 10 000), it resets instead of guessing.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  decodeRevocation,
  encodeRevocation,
  timerSchedule,
  type Revocation,
  type RevocationFeed,
  type RevocationFeedOptions,
  type RevocationListener,
} from './feed.js';
import { StoreUnavailableError } from './store.js';

interface LogRow {
  readonly seq: number;
  readonly origin: string;
  readonly field: string;
  readonly value: string;
}

/** Rows read per poll; a longer backlog is read over the next polls. */
const BATCH = 1000;

export class SqliteRevocationFeed implements RevocationFeed {
  readonly #origin = randomBytes(12).toString('base64url');
  readonly #db: Database.Database;
  readonly #opts: RevocationFeedOptions;
  readonly #insert: Database.Statement<[string, string, string]>;
  readonly #since: Database.Statement<[number, number], LogRow>;
  readonly #last: Database.Statement<[], number>;
  #listener: RevocationListener | undefined;
  #seen = 0;
  #cancel: (() => void) | undefined;
  #closed = false;
  #failing = false;

  constructor(db: Database.Database, opts: RevocationFeedOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#insert = db.prepare('INSERT INTO revocations (origin, field, value) VALUES (?, ?, ?)');
    this.#since = db.prepare('SELECT seq, origin, field, value FROM revocations WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#last = db.prepare<[], number>('SELECT COALESCE(MAX(seq), 0) FROM revocations').pluck();
  }

  async publish(r: Revocation): Promise<void> {
    const message = encodeRevocation(this.#origin, r);
    if (this.#closed || !this.#db.open) throw new StoreUnavailableError('sqlite: the revocation feed is closed');
    const [origin, field, value] = message.split(' ') as [string, string, string];
    try {
      this.#insert.run(origin, field, value);
    } catch (err) {
      throw new StoreUnavailableError(`sqlite: ${(err as Error).message}`);
    }
  }

  subscribe(listener: RevocationListener): void {
    const first = this.#listener === undefined;
    this.#listener = listener;
    if (!first || this.#closed) return;
    try {
      this.#seen = this.#last.get() ?? 0;
    } catch {
      this.#seen = -1; // unknown: the first successful poll resets
    }
    this.#next();
  }

  /** The log is read from the first poll on. */
  async subscribed(): Promise<void> {}

  /** Reads what was appended since the last poll and delivers it. Exposed for tests with a manual schedule. */
  poll(): void {
    if (this.#closed || !this.#db.open || !this.#listener) return;
    let rows: LogRow[];
    try {
      if (this.#seen < 0) {
        this.#seen = this.#last.get() ?? 0;
        this.#listener.reset();
        this.#recovered();
        return;
      }
      rows = this.#since.all(this.#seen, BATCH);
    } catch {
      if (!this.#failing) this.#opts.onProblem?.('cannot read the revocation log; retrying');
      this.#failing = true;
      return;
    }
    this.#recovered();
    if (rows.length === 0) return;
    if (rows[0]!.seq !== this.#seen + 1) this.#listener.reset(); // rows we never saw were pruned
    this.#seen = rows[rows.length - 1]!.seq;
    for (const row of rows) {
      if (row.origin === this.#origin) continue;
      const decoded = decodeRevocation(`${row.origin} ${row.field} ${row.value}`);
      if (decoded) this.#listener.revoked(decoded.revocation);
    }
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#opts.onProblem?.('reading the revocation log again');
  }

  #next(): void {
    if (this.#closed) return;
    const schedule = this.#opts.schedule ?? timerSchedule;
    this.#cancel = schedule(async () => {
      this.poll();
      this.#next();
    }, this.#opts.pollMs ?? 200);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
