/**
 * Entra ID group overage for sessions: groups read from Graph at login, stored with the session,
 * read again after a refresh; Graph down → the session is pending and its checks are 503 until
 * Graph answers (never "no groups"). Real SQLite sessions, the Graph double, an injected clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { SessionAuthenticator } from '../../../src/authn/session.js';
import { ManualClock } from '../../../src/clock.js';
import { HttpClient } from '../../../src/net/http-client.js';
import { silentLogger } from '../../../src/obs/log.js';
import type { OidcClient } from '../../../src/oidc/client.js';
import { hasGroupOverage, OverageGroups } from '../../../src/oidc/entra/overage.js';
import { Refresher } from '../../../src/oidc/refresh.js';
import type { Session } from '../../../src/sessions/session.js';
import { Sessions } from '../../../src/sessions/sessions.js';
import { openSqliteStore } from '../../../src/sessions/sqlite.js';
import { requestWith } from '../../helpers/bearer.js';
import { manyGroups, startGraph, type GraphDouble } from '../../helpers/graph.js';
import { ENTRA_OVERAGE_CLAIMS } from '../../helpers/shapes-entra.js';

const graphToken = (sub: string): string => new UnsecuredJWT({ sub, aud: 'https://graph.microsoft.com' }).encode();

describe('hasGroupOverage', () => {
  test('Entra’s overage shapes, and only when the groups claim is read from `groups`', () => {
    assert.equal(hasGroupOverage(ENTRA_OVERAGE_CLAIMS, 'groups'), true);
    assert.equal(hasGroupOverage({ hasgroups: true }, 'groups'), true);
    assert.equal(hasGroupOverage({ ...ENTRA_OVERAGE_CLAIMS, groups: ['g'] }, 'groups'), false, 'groups present');
    assert.equal(hasGroupOverage(ENTRA_OVERAGE_CLAIMS, 'roles'), false, 'app roles are never in overage');
    assert.equal(hasGroupOverage(ENTRA_OVERAGE_CLAIMS, 'roles,groups'), true);
    assert.equal(hasGroupOverage({ _claim_names: { groups: 'src1' }, _claim_sources: {} }, 'groups'), false, 'a name without its source');
    assert.equal(hasGroupOverage({}, 'groups'), false);
  });
});

describe('OverageGroups with sessions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-overage-'));
  let graph: GraphDouble;
  const http = new HttpClient({ timeoutMs: 3000, maxRedirects: 0 });
  const clock = new ManualClock(Date.UTC(2026, 11, 7, 12));
  const store = openSqliteStore(join(dir, 'sessions.db'));
  const sessions = new Sessions(store, clock, { idleTimeoutSeconds: 0, cacheTtlSeconds: 0 });
  let overage: OverageGroups;
  let authn: SessionAuthenticator;

  before(async () => {
    graph = await startGraph();
    graph.members.set('alice', manyGroups(130));
    overage = new OverageGroups({
      baseUrl: graph.url,
      maxGroups: 5000,
      maxPages: 10,
      http,
      groupsClaim: 'groups',
      retryIntervalSeconds: 5,
      clock,
      log: silentLogger,
    });
    // No refresh token: the refresher never reaches the client.
    const refresher = new Refresher({ client: undefined as unknown as OidcClient, sessions, clock, log: silentLogger, marginSeconds: 60 });
    authn = new SessionAuthenticator(
      { authHeader: 'Authorization', sessionCookieName: 'authservice_session', strictSessionValidation: false },
      { sessions, refresher, client: undefined as unknown as OidcClient, log: silentLogger, overage },
    );
  });
  after(async () => {
    http.close();
    await graph.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const loginSession = (sub: string, claims: Record<string, unknown> = ENTRA_OVERAGE_CLAIMS): Session => ({
    v: 1,
    user: `${sub}@contoso.com`,
    groups: [],
    claims,
    iss: 'https://login.microsoftonline.com/tid/v2.0',
    sub,
    accessToken: graphToken(sub),
    createdAt: clock.now(),
    expiresAt: clock.now() + 3_600_000,
  });
  const check = (id: string) => authn.authenticate(requestWith({ cookie: `authservice_session=${id}` }));

  test('at login: the groups come from Graph and are stored with the session; checks do not ask Graph again', async () => {
    const before = overage.calls;
    const s = await overage.atLogin(loginSession('alice'));
    assert.equal(s.groups.length, 130);
    assert.equal(s.groupsFrom, 'graph');
    const id = await sessions.create(s);
    const out = await check(id);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    if (out.kind === 'ok') assert.equal(out.identity.groups.length, 130);
    assert.equal(overage.calls, before + 1);
  });

  test('no overage: Graph is never asked', async () => {
    const before = overage.calls;
    const s = await overage.atLogin(loginSession('bob', { groups: ['g1'] }));
    assert.equal(s.groupsFrom, undefined);
    assert.equal(overage.calls, before);
  });

  test('Graph down at login → pending: checks are 503 (groups-unavailable), Graph asked again after Retry-After, then the groups stick', async () => {
    graph.mode = 'down';
    graph.retryAfter = 7;
    const s = await overage.atLogin(loginSession('alice'));
    assert.equal(s.groupsPending, true);
    const id = await sessions.create(s);
    const first = await check(id);
    assert.deepEqual(first.kind, 'unavailable');
    if (first.kind === 'unavailable') assert.match(first.reason, /^groups-unavailable: Graph answered 503 serviceNotAvailable/);
    graph.mode = 'ok';
    const calls = overage.calls;
    const soon = await check(id);
    assert.equal(soon.kind, 'unavailable', 'not before Retry-After');
    assert.equal(overage.calls, calls);
    clock.advance(7_000);
    const [a, b] = await Promise.all([check(id), check(id)]);
    assert.equal(a.kind, 'ok', JSON.stringify(a));
    assert.equal(b.kind, 'ok');
    assert.equal(overage.calls, calls + 1, 'concurrent checks share one Graph read');
    const stored = await sessions.load(id, { fresh: true });
    assert.equal(stored?.groups.length, 130);
    assert.equal(stored?.groupsPending, undefined);
  });

  test('resolving a pending session writes onto the stored one: tokens a refresh wrote meanwhile are kept', async () => {
    graph.mode = 'down';
    const pending = await overage.atLogin(loginSession('alice'));
    graph.mode = 'ok';
    const id = await sessions.create(pending);
    const refreshed = { ...pending, accessToken: graphToken('alice'), refreshToken: 'rotated-refresh-token' };
    assert.equal(await sessions.update(id, refreshed), true);
    clock.advance(10_000);
    const out = await overage.resolve(id, pending, sessions);
    assert.equal(out.kind, 'ok');
    const stored = await sessions.load(id, { fresh: true });
    assert.equal(stored?.refreshToken, 'rotated-refresh-token');
    assert.equal(stored?.groups.length, 130);
  });

  test('Graph refusing the token (401) keeps the session pending: 503, never a check with no groups', async () => {
    const s = await overage.atLogin({ ...loginSession('alice'), accessToken: new UnsecuredJWT({ sub: 'alice', aud: 'api://kubeflow' }).encode() });
    assert.equal(s.groupsPending, true);
    const out = await check(await sessions.create(s));
    assert.equal(out.kind, 'unavailable');
    if (out.kind === 'unavailable') assert.match(out.reason, /401 InvalidAuthenticationToken/);
  });

  test('after a refresh the groups are read again with the new token; Graph down then keeps the last good ones', async () => {
    const s = await overage.atLogin(loginSession('alice'));
    graph.members.set('alice', manyGroups(3, 'new'));
    const again = await overage.afterRefresh({ ...s, accessToken: graphToken('alice') });
    assert.equal(again.groups.length, 3);
    graph.mode = 'down';
    const kept = await overage.afterRefresh(again);
    assert.deepEqual(kept.groups, again.groups);
    graph.mode = 'ok';
    graph.members.set('alice', manyGroups(130));
  });
});
