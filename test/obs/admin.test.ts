/**
 * Admin revocation on a real health server (`createHealthServer` + `adminRoute`) over sessions in
 * a real SQLite store: off without ADMIN_TOKEN (404), 401 without the right bearer token, 200 with
 * the number of sessions ended, and the token never in the logs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { ConfigError, loadConfig, redacted } from '../../src/config/load.js';
import { adminRoute, ADMIN_REVOKE_PATH } from '../../src/obs/admin.js';
import { createHealthServer, type HealthServer } from '../../src/obs/health.js';
import { createLogger } from '../../src/obs/log.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { Readiness } from '../../src/obs/readiness.js';
import type { Session } from '../../src/sessions/session.js';
import { Sessions } from '../../src/sessions/sessions.js';
import { openSqliteStore, type SqliteStore } from '../../src/sessions/sqlite.js';
import { send, type Sent } from '../helpers/http-send.js';

const TOKEN = 'admin-token-0123456789-abcdef';
const ISS = 'https://idp.example.com';
const dir = mkdtempSync(join(tmpdir(), 'admin-'));
const clock = new ManualClock(Date.now());
const lines: string[] = [];
const log = createLogger('DEBUG', new Writable({ write: (c, _e, cb) => void (lines.push(String(c)), cb()) }));

let store: SqliteStore;
let sessions: Sessions;
const servers: HealthServer[] = [];

async function healthWith(token: string, s: Sessions = sessions, providerIssuers?: ReadonlyMap<string, string>): Promise<number> {
  const readiness = new Readiness();
  readiness.set(true);
  const server = createHealthServer(
    readiness,
    createMetrics(),
    adminRoute({ token, issuer: ISS, ...(providerIssuers ? { providerIssuers } : {}), revoke: (t) => s.revoke(t), log }),
  );
  servers.push(server);
  return server.listen('127.0.0.1', 0);
}

before(() => {
  store = openSqliteStore(join(dir, 'sessions.db'));
  sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 300 });
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (sub: string, sid: string, iss = ISS): Session => ({
  v: 1,
  user: sub,
  groups: [],
  claims: {},
  iss,
  sub,
  sid,
  createdAt: clock.now(),
  expiresAt: clock.now() + 3_600_000,
});
const json = (body: unknown) => ({
  method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const parsed = (r: Sent): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;

describe('POST /admin/sessions/revoke', () => {
  it('does not exist without ADMIN_TOKEN (404), while the rest of the health port works', async () => {
    const port = await healthWith('');
    const r = await send(port, ADMIN_REVOKE_PATH, json({ sub: 'alice' }));
    assert.equal(r.status, 404);
    assert.equal((await send(port, '/readyz')).status, 200);
  });

  it('refuses a missing or wrong bearer token with 401 and WWW-Authenticate: Bearer, ending nothing', async () => {
    const port = await healthWith(TOKEN);
    const id = await sessions.create(session('eve', 'e1'));
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) };
      const r = await send(port, ADMIN_REVOKE_PATH, { method: 'POST', headers, body: JSON.stringify({ sub: 'eve' }) });
      assert.equal(r.status, 401, String(authorization));
      assert.match(String(r.headers['www-authenticate']), /^Bearer\b/);
    }
    assert.ok(await sessions.load(id));
  });

  it('ends every session of a sub (JSON) and answers how many', async () => {
    const port = await healthWith(TOKEN);
    const ids = [await sessions.create(session('alice', 'a1')), await sessions.create(session('alice', 'a2'))];
    const bob = await sessions.create(session('bob', 'b1'));
    for (const id of [...ids, bob]) assert.ok(await sessions.load(id));
    const r = await send(port, ADMIN_REVOKE_PATH, json({ sub: 'alice' }));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(parsed(r), { ended: 2 });
    assert.equal(r.headers['cache-control'], 'no-store');
    for (const id of ids) assert.equal(await sessions.load(id), undefined);
    assert.ok(await sessions.load(bob));
    assert.deepEqual(parsed(await send(port, ADMIN_REVOKE_PATH, json({ sub: 'alice' }))), { ended: 0 });
  });

  it('ends one provider session by sid (form body), and honours iss', async () => {
    const port = await healthWith(TOKEN);
    const mine = await sessions.create(session('carol', 'c1'));
    const other = await sessions.create(session('carol', 'c1', 'https://other.example.com'));
    const form = (body: string) => ({
      method: 'POST',
      headers: { authorization: `bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.deepEqual(parsed(await send(port, ADMIN_REVOKE_PATH, form('sid=c1'))), { ended: 1 });
    assert.equal(await sessions.load(mine), undefined);
    assert.ok(await sessions.load(other), 'another issuer’s sid is another session');
    assert.deepEqual(parsed(await send(port, ADMIN_REVOKE_PATH, form('sid=c1&iss=https%3A%2F%2Fother.example.com'))), { ended: 1 });
    assert.equal(await sessions.load(other), undefined);
  });

  it('with providers: takes a provider id for its issuer, and refuses an unknown one', async () => {
    const port = await healthWith(
      TOKEN,
      sessions,
      new Map([
        ['default', ISS],
        ['partner', 'https://partner.example.com'],
      ]),
    );
    const mine = await sessions.create(session('dave', 'd1'));
    const partner = await sessions.create(session('dave', 'd1', 'https://partner.example.com'));
    assert.deepEqual(parsed(await send(port, ADMIN_REVOKE_PATH, json({ sub: 'dave', provider: 'partner' }))), { ended: 1 });
    assert.equal(await sessions.load(partner), undefined);
    assert.ok(await sessions.load(mine), 'the default provider’s session of the same sub stays');
    const unknown = await send(port, ADMIN_REVOKE_PATH, json({ sub: 'dave', provider: 'nobody' }));
    assert.equal(unknown.status, 400);
    assert.equal(parsed(unknown)['error_description'], 'no provider "nobody"');
    const both = await send(port, ADMIN_REVOKE_PATH, json({ sub: 'dave', provider: 'partner', iss: ISS }));
    assert.equal(both.status, 400);
  });

  it('answers 405, 415 and 400 to requests it cannot act on', async () => {
    const port = await healthWith(TOKEN);
    const get = await send(port, ADMIN_REVOKE_PATH, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers['allow'], 'POST');
    assert.equal(
      (await send(port, ADMIN_REVOKE_PATH, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'sub=x' }))
        .status,
      415,
    );
    for (const body of [{}, { sub: 'a', sid: 'b' }, { sub: '' }, { sub: 7 }, { sub: 'a', admin: true }, ['a']]) {
      const r = await send(port, ADMIN_REVOKE_PATH, json(body));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(parsed(r)['error'], 'invalid_request');
    }
    assert.equal((await send(port, ADMIN_REVOKE_PATH, { ...json({}), body: '{not json' })).status, 400);
  });

  it('answers 503 when the store is down', async () => {
    const downStore = openSqliteStore(join(dir, 'down.db'));
    const port = await healthWith(TOKEN, new Sessions(downStore, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 }));
    await downStore.close();
    assert.equal((await send(port, ADMIN_REVOKE_PATH, json({ sub: 'alice' }))).status, 503);
  });

  it('never logs the token', () => {
    const all = lines.join('');
    assert.ok(all.includes('admin request refused'), 'refusals are logged');
    assert.ok(all.includes('sessions revoked'));
    assert.ok(!all.includes(TOKEN.slice(0, 12)), 'no part of the token');
  });
});

describe('ADMIN_TOKEN setting', () => {
  const base = { OIDC_PROVIDER: ISS, CLIENT_ID: 'judge', CLIENT_SECRET: 'secret' };
  const load = (env: Record<string, string>, files: Record<string, string> = {}) =>
    loadConfig({
      env: { ...base, ...env },
      readFile: (p) => {
        const f = files[p];
        if (f === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return f;
      },
    }).config;

  it('is off by default, and a secret (redacted wherever the config is shown)', () => {
    assert.equal(load({}).adminToken, '');
    const cfg = load({ ADMIN_TOKEN: TOKEN });
    assert.equal(cfg.adminToken, TOKEN);
    assert.equal(redacted(cfg)['adminToken'], '[redacted]');
  });

  it('can come from ADMIN_TOKEN_FILE (trailing newline dropped)', () => {
    assert.equal(load({ ADMIN_TOKEN_FILE: '/run/secrets/admin' }, { '/run/secrets/admin': `${TOKEN}\n` }).adminToken, TOKEN);
  });

  it('refuses a short token, naming the variable and not echoing the value', () => {
    assert.throws(
      () => load({ ADMIN_TOKEN: 'short-guess' }),
      (e: unknown) => e instanceof ConfigError && /ADMIN_TOKEN: must be at least 16 characters/.test(e.message) && !e.message.includes('short-guess'),
    );
    assert.throws(() => load({ ADMIN_TOKEN: 'has a space in the middle!!' }), ConfigError);
  });
});
