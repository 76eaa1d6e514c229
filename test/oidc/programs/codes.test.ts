/**
 * Program login records across replicas: a one-time code issued by one process is redeemed by
 * another sharing the store, once; a device request approved on one is handed out by another,
 * once. Against SQLite (two stores on one file) and a real Redis (two clients), on a moved clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/obs/log.js';
import { CODE_TTL_MS, issueCode, redeemCode } from '../../../src/oidc/programs/codes.js';
import { programSession } from '../../../src/oidc/programs/credential.js';
import { DeviceGrants, normalizeUserCode } from '../../../src/oidc/programs/device.js';
import { jsonReply } from '../../../src/oidc/programs/http.js';
import type { Session } from '../../../src/sessions/session.js';
import { openRedisStore } from '../../../src/sessions/redis.js';
import { openSqliteStore } from '../../../src/sessions/sqlite.js';
import type { SessionStore } from '../../../src/sessions/store.js';
import { startRedis, until, type RedisServer } from '../../helpers/redis.js';

const browser: Session = {
  v: 1,
  user: 'alice@example.com',
  groups: ['staff'],
  claims: { email: 'alice@example.com' },
  iss: 'https://idp.example.com',
  sub: 'alice',
  sid: 'sid-1',
  idToken: 'secret-id-token',
  refreshToken: 'secret-refresh-token',
  createdAt: 0,
  expiresAt: Date.UTC(2030, 0, 1),
};

/** What `DeviceGrants.authorize` reads of the program's request: its address and user agent. */
const programRequest = { socket: { remoteAddress: '192.0.2.7' }, headers: { 'user-agent': 'kfp/2.0', host: 'kf.example.com' } } as unknown as IncomingMessage;

function replicaPair(name: string, open: () => Promise<[SessionStore, SessionStore]>): void {
  describe(`program login records across replicas (${name})`, () => {
    let a: SessionStore;
    let b: SessionStore;
    before(async () => {
      [a, b] = await open();
    });
    after(async () => {
      await a?.close();
      await b?.close();
    });

    it('a code issued on one replica is redeemed on another, once, and not after it expired', async () => {
      const clock = new ManualClock(Date.UTC(2027, 0, 1));
      const session = programSession(browser, 'kfp', 'loopback', clock.now(), 3600);
      assert.equal(session.refreshToken, undefined);
      assert.equal(session.idToken, undefined);
      const pending = { session, challenge: 'c'.repeat(43), redirectUri: 'http://127.0.0.1:5000/cb' };
      const code = await issueCode(a, clock, pending);
      const got = await redeemCode(b, clock, code);
      assert.deepEqual(got, pending);
      assert.equal(await redeemCode(a, clock, code), undefined, 'replayed');
      assert.equal(await redeemCode(b, clock, code), undefined, 'replayed');

      const late = await issueCode(a, clock, pending);
      clock.advance(CODE_TTL_MS);
      assert.equal(await redeemCode(b, clock, late), undefined, 'expired');
      assert.equal(await redeemCode(b, clock, 'not-a-code'), undefined);
    });

    it('a device request approved on one replica is handed out by another, once', async () => {
      const clock = new ManualClock(Date.UTC(2027, 0, 1));
      const issued: Session[] = [];
      const grants = (store: SessionStore) =>
        new DeviceGrants({
          store,
          clock,
          log: silentLogger,
          verificationUri: () => 'https://kf.example.com/authservice/api/device/verify',
          issue: async (s) => {
            issued.push(s);
            return jsonReply(200, { access_token: 'x' });
          },
        });
      const [onA, onB] = [grants(a), grants(b)];
      const start = JSON.parse((await onA.authorize(new URLSearchParams({ client_name: 'kfp' }), programRequest)).body) as Record<string, string>;
      const userCode = normalizeUserCode(start['user_code']);
      assert.ok(userCode);
      const seen = await onB.find(userCode);
      assert.equal(seen?.client, 'kfp');
      assert.match(seen?.from ?? '', /192\.0\.2\.7/);
      assert.equal(seen?.agent, 'kfp/2.0');
      const poll = (g: DeviceGrants) => g.grant(new URLSearchParams({ device_code: start['device_code'] ?? '' }), programRequest);
      assert.equal(JSON.parse((await poll(onA)).body).error, 'authorization_pending');

      assert.equal(await onB.decide(userCode, (r) => programSession(browser, r.client, 'device', clock.now(), 3600)), true);
      assert.equal(await onA.decide(userCode, () => undefined), false, 'answered once');
      clock.advance(10_000);
      assert.equal((await poll(onA)).status, 200);
      assert.equal(issued.length, 1);
      assert.deepEqual(issued[0]?.program, { client: 'kfp', via: 'device' });
      assert.equal(JSON.parse((await poll(onB)).body).error, 'expired_token', 'handed out once');
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-programs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
replicaPair('sqlite', async () => [openSqliteStore(join(dir, 's.db')), openSqliteStore(join(dir, 's.db'))]);

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});
replicaPair('redis', async () => {
  const open = async (): Promise<SessionStore> => {
    const store = openRedisStore({ mode: 'standalone', addresses: [{ host: '127.0.0.1', port: redis.port }] });
    await until(() => store.ping(), 'the store to answer');
    return store;
  };
  return [await open(), await open()];
});
