/**
 * Sessions for the cookie scenarios, written before the judge starts: a few real sessions
 * (created through `Sessions`, so sealed and indexed like a login does) whose ids become the
 * cookies the load generator sends, plus filler records so the store holds 1 000 or 1 000 000
 * sessions. Filler goes in by bulk insert (one SQLite transaction, Redis pipelines): the judge only
 * ever reads the real ones, the filler is there to grow the table / keyspace.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { openSessionStore } from '../../src/sessions/open.js';
import type { Session } from '../../src/sessions/session.js';
import { Sessions } from '../../src/sessions/sessions.js';

export interface SeedOptions {
  /** Settings the judge will run with (env names): the store to seed. */
  readonly env: Readonly<Record<string, string>>;
  readonly issuer: string;
  /** Real sessions to create (their ids are returned). */
  readonly real: number;
  /** Total sessions in the store afterwards. */
  readonly total: number;
}

function session(issuer: string, i: number): Session {
  const now = Date.now();
  return {
    v: 1,
    user: `user${i}@example.com`,
    groups: ['staff', 'bench'],
    claims: { email: `user${i}@example.com`, groups: ['staff', 'bench'], sub: `sub-${i}` },
    iss: issuer,
    sub: `sub-${i}`,
    createdAt: now,
    expiresAt: now + 12 * 3600_000,
  };
}

export async function seedSessions(o: SeedOptions): Promise<string[]> {
  const { config } = loadConfig({ env: o.env, flags: {}, readFile: () => '' });
  const store = openSessionStore(config, () => '');
  const sessions = new Sessions(store, systemClock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
  const ids: string[] = [];
  for (let i = 0; i < o.real; i++) ids.push(await sessions.create(session(o.issuer, i)));
  await store.close();
  const filler = Math.max(0, o.total - o.real);
  const expires = Date.now() + 12 * 3600_000;
  if (config.sessionStoreType === 'redis') {
    const [host, port] = config.sessionStoreRedisAddr.split(':');
    const redis = new Redis({ host: host!, port: Number(port), lazyConnect: true });
    await redis.connect();
    for (let done = 0; done < filler; ) {
      const batch = redis.pipeline();
      const n = Math.min(10_000, filler - done);
      for (let j = 0; j < n; j++)
        batch.set(`${config.sessionStoreRedisKeyPrefix}s:${randomBytes(32).toString('base64url')}`, randomBytes(200), 'PXAT', expires);
      await batch.exec();
      done += n;
    }
    redis.disconnect();
  } else if (filler > 0) {
    const db = new Database(config.sessionStorePath);
    const insert = db.prepare('INSERT INTO sessions (key, value, expires_at, subject, sid) VALUES (?, ?, ?, ?, NULL)');
    const fill = db.transaction((n: number) => {
      for (let j = 0; j < n; j++) insert.run(randomBytes(32).toString('base64url'), randomBytes(200), expires, randomBytes(32).toString('base64url'));
    });
    for (let done = 0; done < filler; done += 100_000) fill(Math.min(100_000, filler - done));
    db.close();
  }
  return ids;
}
