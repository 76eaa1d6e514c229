/**
 * The back-channel logout handler against a real OpenID Provider's keys (test/helpers/op.ts signs
 * with the provider's own private keys, which is what a forger cannot do) and sessions in a real
 * SQLite store: which logout tokens end which sessions, and that every invalid one ends nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { ManualClock } from '../../../src/clock.js';
import { HttpClient } from '../../../src/net/http-client.js';
import { createLogger, silentLogger } from '../../../src/obs/log.js';
import { createBackchannelLogout, type BackchannelLogout, type BackchannelReply } from '../../../src/oidc/backchannel/backchannel.js';
import { IssuerRegistry } from '../../../src/oidc/issuers.js';
import { BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_MAX_AGE_SECONDS } from '../../../src/oidc/backchannel/logout-token.js';
import { Sessions } from '../../../src/sessions/sessions.js';
import { openSqliteStore, type SqliteStore } from '../../../src/sessions/sqlite.js';
import { newKey, startOp, type SignOptions, type TestOp } from '../../helpers/op.js';
import { form, FORM, logoutClaims, sessionOf, signLogout } from './fixtures.js';

const CLIENT_ID = 'judge-client';
const dir = mkdtempSync(join(tmpdir(), 'backchannel-'));

let op: TestOp;
let registry: IssuerRegistry;
let http: HttpClient;
let store: SqliteStore;
let sessions: Sessions;
let handle: BackchannelLogout;
const clock = new ManualClock(Date.now());
const lines: string[] = [];

before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
  http = new HttpClient();
  registry = new IssuerRegistry(
    { oidcProvider: op.issuer, jwtIssuers: [], discoveryRetryInterval: 1, jwksRefreshInterval: 300, jwksMinRefetchInterval: 1 },
    { http, clock, log: silentLogger },
  );
  registry.start();
  await registry.primary.ready;
  store = openSqliteStore(join(dir, 'sessions.db'));
  sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 300 });
  const log = createLogger('DEBUG', new Writable({ write: (c, _e, cb) => void (lines.push(String(c)), cb()) }));
  handle = createBackchannelLogout(
    { oidcProvider: op.issuer, clientId: CLIENT_ID, jwtAlgorithms: ['RS256', 'ES256'], jwtLeeway: 30 },
    { keys: registry, sessions, clock, log },
  );
});
after(async () => {
  registry?.stop();
  http?.close();
  await store?.close();
  await op?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const rnd = (): string => randomBytes(8).toString('hex');

/** A fresh user with two sessions (provider sessions sid1, sid2), loaded once so they are cached. */
async function user(): Promise<{ sub: string; sid1: string; sid2: string; ids: [string, string] }> {
  const [sub, sid1, sid2] = [rnd(), rnd(), rnd()];
  const ids: [string, string] = [
    await sessions.create(sessionOf(op.issuer, sub, sid1, clock.now())),
    await sessions.create(sessionOf(op.issuer, sub, sid2, clock.now())),
  ];
  for (const id of ids) assert.ok(await sessions.load(id));
  return { sub, sid1, sid2, ids };
}

async function alive(id: string): Promise<boolean> {
  return (await sessions.load(id)) !== undefined;
}

/** A good logout token with `extra` over its claims (`undefined` drops one). */
function token(extra: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  return signLogout(op, logoutClaims(op, CLIENT_ID, clock.now(), extra as JWTPayload), opts);
}

function assertRefused(reply: BackchannelReply, reason: RegExp): void {
  assert.equal(reply.status, 400, reply.body);
  assert.deepEqual(
    reply.headers.find(([n]) => n === 'cache-control'),
    ['cache-control', 'no-store'],
  );
  const body = JSON.parse(reply.body) as { error: string; error_description: string };
  assert.equal(body.error, 'invalid_request');
  assert.match(body.error_description, reason);
}

describe('back-channel logout: what ends', () => {
  it('a token with sid ends the sessions of that provider session only (store and cache); 200, no-store', async () => {
    const u = await user();
    const reply = await handle(form(await token({ sid: u.sid1 })), FORM['content-type']);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.headers, [['cache-control', 'no-store']]);
    assert.equal(await alive(u.ids[0]), false);
    assert.equal(await alive(u.ids[1]), true);
    assert.ok(lines.some((l) => l.includes('"msg":"back-channel logout"') && l.includes('"ended":1')));
  });

  it('a token with only sub ends every session of that user; another user’s stay', async () => {
    const [u, other] = [await user(), await user()];
    const reply = await handle(form(await token({ sub: u.sub })), 'application/x-www-form-urlencoded; charset=utf-8');
    assert.equal(reply.status, 200);
    assert.equal(await alive(u.ids[0]), false);
    assert.equal(await alive(u.ids[1]), false);
    assert.equal(await alive(other.ids[0]), true);
  });

  it('with sid and sub, only sessions carrying both end', async () => {
    const [u, other] = [await user(), await user()];
    assert.equal((await handle(form(await token({ sub: other.sub, sid: u.sid1 })), FORM['content-type'])).status, 200);
    assert.equal(await alive(u.ids[0]), true, 'the sid belongs to another sub: nothing ends');
    assert.equal((await handle(form(await token({ sub: u.sub, sid: u.sid2 })), FORM['content-type'])).status, 200);
    assert.equal(await alive(u.ids[1]), false);
    assert.equal(await alive(u.ids[0]), true);
  });

  it('answers 200 when no session matches (the user is already logged out)', async () => {
    assert.equal((await handle(form(await token({ sub: rnd(), sid: rnd() })), FORM['content-type'])).status, 200);
  });

  it('accepts a token without typ, or with typ JWT (many providers send no logout+jwt)', async () => {
    const u = await user();
    assert.equal(
      (
        await handle(
          form(await signLogout(op, logoutClaims(op, CLIENT_ID, clock.now(), { sid: u.sid1 }), { header: { typ: undefined } })),
          FORM['content-type'],
        )
      ).status,
      200,
    );
    assert.equal((await handle(form(await token({ sid: u.sid2 }, { header: { typ: 'JWT' } })), FORM['content-type'])).status, 200);
    assert.equal(await alive(u.ids[0]), false);
    assert.equal(await alive(u.ids[1]), false);
  });

  it('accepts an ES256 token and an aud list containing the client', async () => {
    const u = await user();
    assert.equal((await handle(form(await token({ sid: u.sid1, aud: ['someone-else', CLIENT_ID] }, { alg: 'ES256' })), FORM['content-type'])).status, 200);
    assert.equal(await alive(u.ids[0]), false);
  });
});

describe('back-channel logout: refused (400, nothing ends)', () => {
  const now = (): number => Math.floor(clock.now() / 1000);
  const cases: [string, (u: { sub: string; sid1: string }) => Promise<string>, RegExp][] = [
    [
      'a signature by a key the provider does not publish',
      async (u) => signLogout(op, logoutClaims(op, CLIENT_ID, clock.now(), { sid: u.sid1 }), { key: await newKey('RS256') }),
      /signature|signing key/,
    ],
    [
      'a signature that does not verify (payload swapped)',
      async (u) => {
        const [h, , sig] = (await token({ sid: rnd() })).split('.');
        const [, p] = (await token({ sid: u.sid1 })).split('.');
        return `${h}.${p}.${sig}`;
      },
      /signature/,
    ],
    ['another issuer', (u) => token({ sid: u.sid1, iss: 'https://evil.example.com' }), /"iss"/],
    ['another audience', (u) => token({ sid: u.sid1, aud: 'another-client' }), /"aud"/],
    ['a nonce (an ID token in disguise)', (u) => token({ sid: u.sid1, nonce: 'n-0S6_WzA2Mj' }), /nonce/],
    ['no events claim', (u) => token({ sid: u.sid1, events: undefined }), /event/],
    ['events without the back-channel logout member', (u) => token({ sid: u.sid1, events: { 'http://schemas.openid.net/event/other': {} } }), /event/],
    ['the event member not an object', (u) => token({ sid: u.sid1, events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }), /event/],
    ['neither sid nor sub', () => token({}), /neither/],
    ['an empty sub', () => token({ sub: '' }), /non-empty/],
    ['no jti', (u) => token({ sid: u.sid1, jti: undefined }), /jti/],
    ['no iat', (u) => token({ sid: u.sid1, iat: undefined }), /iat/],
    ['an iat too old', (u) => token({ sid: u.sid1, iat: now() - LOGOUT_TOKEN_MAX_AGE_SECONDS - 31, exp: now() + 60 }), /too old/],
    ['an iat in the future', (u) => token({ sid: u.sid1, iat: now() + 120, exp: now() + 240 }), /future/],
    ['an expired exp', (u) => token({ sid: u.sid1, iat: now() - 200, exp: now() - 100 }), /exp|expired/],
    ['typ at+jwt', (u) => token({ sid: u.sid1 }, { header: { typ: 'at+jwt' } }), /typ/],
    ['a crit header', (u) => token({ sid: u.sid1 }, { header: { crit: ['urn:x'], 'urn:x': 1 } }), /crit/],
    [
      'alg none',
      async (u) => {
        const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(logoutClaims(op, CLIENT_ID, clock.now(), { sid: u.sid1 }))}.`;
      },
      /malformed|algorithm/,
    ],
    ['an encrypted (JWE) token', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d', /encrypted/],
    ['garbage', async () => 'not-a-jwt', /malformed/],
  ];

  for (const [what, make, reason] of cases) {
    it(`refuses ${what}`, async () => {
      const u = await user();
      assertRefused(await handle(form(await make(u)), FORM['content-type']), reason);
      assert.equal(await alive(u.ids[0]), true);
      assert.equal(await alive(u.ids[1]), true);
    });
  }

  it('refuses a replayed jti: the second delivery ends nothing, not even sessions created since', async () => {
    const u = await user();
    const t = await token({ sub: u.sub });
    assert.equal((await handle(form(t), FORM['content-type'])).status, 200);
    const again = await sessions.create(sessionOf(op.issuer, u.sub, u.sid1, clock.now()));
    assertRefused(await handle(form(t), FORM['content-type']), /already used/);
    assert.equal(await alive(again), true);
  });

  it('refuses an ID token presented as a logout token', async () => {
    const u = await user();
    const idToken = await op.sign(
      { sub: u.sub, sid: u.sid1, aud: CLIENT_ID, iat: now(), exp: now() + 300, nonce: 'abc', email: 'x@example.com' },
      { header: { typ: 'JWT' } },
    );
    assertRefused(await handle(form(idToken), FORM['content-type']), /nonce|event/);
    assert.equal(await alive(u.ids[0]), true);
  });

  it('refuses a request that is not one form with one logout_token', async () => {
    const u = await user();
    const t = await token({ sub: u.sub });
    assertRefused(await handle(JSON.stringify({ logout_token: t }), 'application/json'), /x-www-form-urlencoded/);
    assertRefused(await handle(form(t), undefined), /x-www-form-urlencoded/);
    assertRefused(await handle('', FORM['content-type']), /exactly one/);
    assertRefused(await handle(`logout_token=${t}&logout_token=${t}`, FORM['content-type']), /exactly one/);
    assert.equal(await alive(u.ids[0]), true);
  });

  it('never logs the token', () => {
    const all = lines.join('');
    assert.doesNotMatch(all, /eyJ/);
  });
});

describe('back-channel logout: unavailable (503)', () => {
  it('answers 503 while the provider has not been discovered, and ends nothing', async () => {
    const undiscovered = createBackchannelLogout(
      { oidcProvider: 'http://127.0.0.1:9/never', clientId: CLIENT_ID, jwtAlgorithms: ['RS256'], jwtLeeway: 30 },
      { keys: registry, sessions, clock, log: silentLogger },
    );
    const u = await user();
    const t = await signLogout(op, { ...logoutClaims(op, CLIENT_ID, clock.now(), { sid: u.sid1 }), iss: 'http://127.0.0.1:9/never' });
    const reply = await undiscovered(form(t), FORM['content-type']);
    assert.equal(reply.status, 503);
    assert.equal(JSON.parse(reply.body).error, 'temporarily_unavailable');
    assert.equal(await alive(u.ids[0]), true);
  });

  it('answers 503 when the session store is down', async () => {
    const downStore = openSqliteStore(join(dir, 'down.db'));
    const down = new Sessions(downStore, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
    const h = createBackchannelLogout(
      { oidcProvider: op.issuer, clientId: CLIENT_ID, jwtAlgorithms: ['RS256'], jwtLeeway: 30 },
      { keys: registry, sessions: down, clock, log: silentLogger },
    );
    await downStore.close();
    const reply = await h(form(await token({ sub: rnd() })), FORM['content-type']);
    assert.equal(reply.status, 503);
    assert.deepEqual(
      reply.headers.find(([n]) => n === 'cache-control'),
      ['cache-control', 'no-store'],
    );
  });
});
