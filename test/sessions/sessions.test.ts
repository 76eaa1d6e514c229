import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import type { Session } from '../../src/sessions/session.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { storeKey } from '../../src/sessions/ticket.js';

const dir = mkdtempSync(join(tmpdir(), 'sessions-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => openSqliteStore(join(dir, `s${++n}.db`));

function session(clock: ManualClock, maxAgeMs = 3_600_000): Session {
  return {
    v: 1,
    user: 'alice@example.com',
    groups: ['admins'],
    claims: { email: 'alice@example.com' },
    iss: 'https://idp',
    sub: 'alice',
    sid: 's1',
    refreshToken: 'rt-secret',
    createdAt: clock.now(),
    expiresAt: clock.now() + maxAgeMs,
  };
}

describe('Sessions over a real store', () => {
  it('creates a session under a hash of its id, sealed: the store holds neither the id nor the tokens', async () => {
    const store = fresh();
    const clock = new ManualClock();
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
    const id = await sessions.create(session(clock));
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    const rec = await store.get(storeKey('session', id), clock.now());
    assert.ok(rec);
    const raw = Buffer.from(rec.value).toString('latin1');
    assert.ok(!raw.includes('alice') && !raw.includes('rt-secret') && !raw.includes(id));
    assert.equal((await sessions.load(id))?.user, 'alice@example.com');
    assert.equal(await sessions.load(id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A')), undefined, 'another id finds nothing');
    assert.equal(await sessions.load('not-an-id'), undefined);
    await store.close();
  });

  it('SESSION_MAX_AGE is absolute: an updated session keeps its end', async () => {
    const store = fresh();
    const clock = new ManualClock();
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 5 });
    const s = session(clock, 60_000);
    const id = await sessions.create(s);
    clock.advance(30_000);
    await sessions.update(id, { ...s, accessToken: 'new' });
    clock.advance(30_001);
    assert.equal(await sessions.load(id), undefined, 'also past the in-process cache');
    await store.close();
  });

  it('an idle timeout ends a session nobody uses, and use keeps it alive', async () => {
    const store = fresh();
    const clock = new ManualClock();
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 100, cacheTtlSeconds: 0 });
    const kept = await sessions.create(session(clock));
    const idle = await sessions.create(session(clock));
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      assert.ok(await sessions.load(kept), `used every minute: alive at ${i + 1} min`);
    }
    assert.equal(await sessions.load(idle), undefined, 'unused for 5 minutes');
    await store.close();
  });

  it('delete ends a session at once, also in this process’s cache', async () => {
    const store = fresh();
    const clock = new ManualClock();
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 60 });
    const id = await sessions.create(session(clock));
    assert.ok(await sessions.load(id));
    assert.equal(await sessions.delete(id), true);
    assert.equal(await sessions.load(id), undefined);
    assert.equal(await sessions.delete(id), false);
    await store.close();
  });
});
