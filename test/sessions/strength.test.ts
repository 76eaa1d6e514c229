/**
 * The sign-in strength a session records at login (`acr`, `amr`, `auth_time`), through the real
 * `Sessions` over both backends (SQLite file, Redis): written and read back as it was; a session
 * stored before these fields existed reads without them; a malformed one counts as not recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { openRedisStore } from '../../src/sessions/redis.js';
import { parseSession, type Session } from '../../src/sessions/session.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { startRedis, until, type RedisServer } from '../helpers/redis.js';

const clock = new ManualClock(1_800_000_000_000);
const base: Session = {
  v: 1,
  user: 'alice@example.com',
  groups: ['admins'],
  claims: { email: 'alice@example.com' },
  iss: 'https://idp',
  sub: 'alice',
  createdAt: clock.now(),
  expiresAt: clock.now() + 3_600_000,
};
const strong: Session = { ...base, acr: 'urn:mfa', amr: ['pwd', 'otp'], authTime: 1_799_999_990 };

describe('session strength over both stores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strength-test-'));
  let redis: RedisServer;
  const stores: SessionStore[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ['sqlite', 'redis'] as const) {
    it(`${kind}: acr, amr and auth_time come back as written; an old session has none`, async () => {
      const store =
        kind === 'sqlite' ? openSqliteStore(join(dir, 's.db')) : openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: redis.port }] });
      stores.push(store);
      await until(() => store.ping(), 'the store to answer');
      const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
      const id = await sessions.create(strong);
      const back = await sessions.load(id, { fresh: true });
      assert.deepEqual([back?.acr, back?.amr, back?.authTime], ['urn:mfa', ['pwd', 'otp'], 1_799_999_990]);
      const old = await sessions.load(await sessions.create(base), { fresh: true });
      assert.ok(old);
      assert.ok(!('acr' in old) && !('amr' in old) && !('authTime' in old));
    });
  }

  it('a malformed strength field reads as not recorded; the session stays', () => {
    const s = parseSession(JSON.stringify({ ...base, acr: 7, amr: ['pwd', 1], authTime: 'yesterday' }));
    assert.ok(s);
    assert.ok(!('acr' in s) && !('amr' in s) && !('authTime' in s));
    assert.deepEqual(parseSession(JSON.stringify(strong)), strong);
  });
});
