/**
 * The session authenticator's bound on work per request: a Cookie header stuffed with hundreds of
 * well-formed session ids costs at most MAX_CANDIDATES store reads (real SQLite store).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_CANDIDATES, SessionAuthenticator, type SessionAuthnDeps } from '../../src/authn/session.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/obs/log.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore } from '../../src/sessions/sqlite.js';
import { newSecretId } from '../../src/sessions/ticket.js';
import { requestWith } from '../helpers/bearer.js';

describe('SessionAuthenticator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-session-authn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`reads the store at most ${MAX_CANDIDATES} times however many session cookies a request carries`, async () => {
    const store = openSqliteStore(join(dir, 'sessions.db'));
    let reads = 0;
    const get = store.get.bind(store);
    store.get = (key, now) => {
      reads++;
      return get(key, now);
    };
    const clock = new ManualClock(Date.now());
    const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
    // Refresher and client are not reached: none of these sessions exists.
    const deps = { sessions, refresher: undefined, client: undefined, log: silentLogger } as unknown as SessionAuthnDeps;
    const authn = new SessionAuthenticator({ authHeader: 'Authorization', sessionCookieName: 'authservice_session', strictSessionValidation: false }, deps);
    const cookie = Array.from({ length: 900 }, () => `authservice_session=${newSecretId()}`).join('; ');
    const out = await authn.authenticate(requestWith({ cookie }));
    assert.equal(out.kind, 'none');
    assert.equal(reads, MAX_CANDIDATES);
    await store.close();
  });
});
