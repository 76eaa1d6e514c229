import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { systemClock } from '../../../src/clock.js';
import { effectiveUsernamePrefix, KubeOidcAuthenticator, mapClaims, NOT_INITIALIZED, type KubeOidcConfig } from '../../../src/forward/kube-proxy/oidc.js';
import { kubeMode } from '../../../src/forward/kube-proxy/mode.js';
import { keycloakIdTokenClaims } from '../../helpers/provider-shapes.js';
import { HttpClient } from '../../../src/net/http-client.js';
import { createLogger, silentLogger } from '../../../src/obs/log.js';
import { startHttpsIssuer } from '../../helpers/kube-issuer.js';
import { startOp, type TestOp } from '../../helpers/op.js';
import { ManualSchedule } from '../../helpers/schedule.js';
import type { Schedule } from '../../../src/oidc/discovery.js';

const CLIENT = 'kube-cli';

function config(issuerUrl: string, over: Partial<KubeOidcConfig> = {}): KubeOidcConfig {
  return {
    issuerUrl,
    clientId: CLIENT,
    usernameClaim: 'sub',
    usernamePrefix: undefined,
    groupsClaim: 'groups',
    groupsPrefix: '',
    uidClaim: '',
    signingAlgs: ['RS256'],
    requiredClaims: [],
    retrySeconds: 5,
    jwksRefreshSeconds: 600,
    clockSkewSeconds: 0,
    ...over,
  };
}

/** A logger whose lines can be waited for. */
function watchedLog(): { log: ReturnType<typeof createLogger>; lines: string[]; waitFor(text: string): Promise<void> } {
  const lines: string[] = [];
  const events = new EventEmitter();
  const log = createLogger('debug', { write: (s: string) => void (lines.push(s), events.emit('line')) });
  return {
    log,
    lines,
    async waitFor(text) {
      while (!lines.some((l) => l.includes(text))) await once(events, 'line');
    },
  };
}

/** A manual schedule whose next pending task can be awaited. */
function awaitableSchedule(): { sched: ManualSchedule; schedule: Schedule; pending(): Promise<void> } {
  const sched = new ManualSchedule();
  const events = new EventEmitter();
  return {
    sched,
    schedule: (task, ms) => {
      const cancel = sched.schedule(task, ms);
      events.emit('task');
      return cancel;
    },
    async pending() {
      while (sched.pending.length === 0) await once(events, 'task');
    },
  };
}

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (more: Record<string, unknown> = {}): Record<string, unknown> => ({ sub: 'u-1', aud: CLIENT, iat: now(), exp: now() + 300, ...more });

describe('kube OIDC: claim mapping (kube-apiserver rules)', () => {
  it('applies the username prefix rule: unset or empty → "<issuer>#" except for email; "-" → none; else as is', () => {
    assert.equal(effectiveUsernamePrefix('https://idp', 'sub', undefined), 'https://idp#');
    assert.equal(effectiveUsernamePrefix('https://idp', 'sub', ''), 'https://idp#');
    assert.equal(effectiveUsernamePrefix('https://idp', 'email', undefined), '');
    assert.equal(effectiveUsernamePrefix('https://idp', 'email', ''), '');
    assert.equal(effectiveUsernamePrefix('https://idp', 'sub', '-'), '');
    assert.equal(effectiveUsernamePrefix('https://idp', 'email', 'oidc:'), 'oidc:');
  });

  it('enforces required claims: present, a string, equal', () => {
    const c = config('https://idp', {
      requiredClaims: [
        ['tenant', 'blue'],
        ['tier', 'gold'],
      ],
    });
    assert.ok('user' in mapClaims(c, { sub: 'a', tenant: 'blue', tier: 'gold' }));
    assert.match((mapClaims(c, { sub: 'a', tenant: 'blue' }) as { reason: string }).reason, /required claim "tier"/);
    assert.match((mapClaims(c, { sub: 'a', tenant: 'red', tier: 'gold' }) as { reason: string }).reason, /required claim "tenant"/);
    assert.ok('reason' in mapClaims(c, { sub: 'a', tenant: ['blue'], tier: 'gold' }));
  });

  it('reads groups from a string or a list of strings, with the prefix; anything else refuses the token', () => {
    const c = config('https://idp', { groupsPrefix: 'oidc:' });
    assert.deepEqual((mapClaims(c, { sub: 'a', groups: 'dev' }) as unknown as { user: { groups: string[] } }).user.groups, ['oidc:dev']);
    assert.deepEqual((mapClaims(c, { sub: 'a', groups: ['dev', 'ops'] }) as unknown as { user: { groups: string[] } }).user.groups, ['oidc:dev', 'oidc:ops']);
    assert.deepEqual((mapClaims(c, { sub: 'a' }) as unknown as { user: { groups: string[] } }).user.groups, []);
    assert.ok('reason' in mapClaims(c, { sub: 'a', groups: [1, 2] }));
    assert.ok('reason' in mapClaims(c, { sub: 'a', groups: { a: 1 } }));
  });

  it('refuses a missing or non-string username claim and an unverified email; reads an optional uid claim', () => {
    assert.ok('reason' in mapClaims(config('https://idp'), { name: 'x' }));
    assert.ok('reason' in mapClaims(config('https://idp'), { sub: 42 as unknown as string }));
    const email = config('https://idp', { usernameClaim: 'email' });
    assert.equal((mapClaims(email, { email: 'a@x', email_verified: true }) as { user: { username: string } }).user.username, 'a@x');
    assert.equal((mapClaims(email, { email: 'a@x' }) as { user: { username: string } }).user.username, 'a@x');
    assert.deepEqual(mapClaims(email, { email: 'a@x', email_verified: false }), { reason: 'email not verified' });
    const uid = config('https://idp', { uidClaim: 'oid' });
    assert.equal((mapClaims(uid, { sub: 'a', oid: '1234' }) as { user: { uid: string } }).user.uid, '1234');
    assert.ok('reason' in mapClaims(uid, { sub: 'a' }));
  });
});

describe('kube OIDC: claims where providers put them (the one claim reader)', () => {
  it('reads the username, groups, uid and required claims by name or dot path, exact name first', () => {
    const kc = keycloakIdTokenClaims('alice', { groups: ['/team-a'], realmRoles: ['kf-admin'], clientRoles: { kubeflow: ['editor'] } });
    const c = config('https://idp', {
      usernameClaim: 'preferred_username',
      usernamePrefix: '-',
      groupsClaim: 'realm_access.roles,resource_access.kubeflow.roles,groups',
      uidClaim: 'ids.oid',
      requiredClaims: [['tenant.id', 'blue']],
    });
    const mapped = mapClaims(c, { sub: 'a', ...kc, ids: { oid: 'o-1' }, tenant: { id: 'blue' } });
    assert.deepEqual(mapped, { user: { username: 'alice', uid: 'o-1', groups: ['kf-admin', 'editor', '/team-a'], extra: {} } });
    assert.match((mapClaims(c, { sub: 'a', ...kc, ids: { oid: 'o-1' }, tenant: { id: 'red' } }) as { reason: string }).reason, /required claim "tenant\.id"/);
    assert.match(
      (mapClaims(c, { sub: 'a', ...kc, ids: { oid: 'o-1' }, tenant: { id: 'blue' }, realm_access: { roles: [1] } }) as { reason: string }).reason,
      /groups claim "realm_access\.roles" is not a string or a list of strings/,
    );
    const exact = config('https://idp', { usernameClaim: 'https://example.com/user', usernamePrefix: '-' });
    assert.equal((mapClaims(exact, { 'https://example.com/user': 'auth0-alice' }) as { user: { username: string } }).user.username, 'auth0-alice');
    assert.ok('reason' in mapClaims(config('https://idp', { usernameClaim: 'constructor' }), { sub: 'a' }));
  });

  it('a claim option that can never resolve is a configuration error naming it', () => {
    const errs: string[] = [];
    kubeMode.parse(
      {
        oidcIssuerUrl: 'https://idp.example.com',
        oidcClientId: 'kube',
        oidcUsernameClaim: 'a..b',
        oidcGroupsClaim: 'groups,roles.',
        oidcUidClaim: '.x',
        oidcRequiredClaims: 'x..y=1',
      },
      'forwarders[0]',
      errs,
    );
    for (const key of ['oidcUsernameClaim', 'oidcGroupsClaim', 'oidcUidClaim', 'oidcRequiredClaims'])
      assert.ok(
        errs.some((e) => e.includes(key) && /empty path segment/.test(e)),
        `${key}: ${errs.join(' | ')}`,
      );
  });
});

describe('kube OIDC: verification against a real OpenID Provider', () => {
  let op: TestOp;
  let http: HttpClient;
  const started: KubeOidcAuthenticator[] = [];
  before(async () => {
    op = await startOp({ clientId: CLIENT });
    http = new HttpClient();
  });
  after(async () => {
    for (const a of started) a.stop();
    http.close();
    await op.stop();
  });

  async function ready(over: Partial<KubeOidcConfig> = {}): Promise<KubeOidcAuthenticator> {
    const a = new KubeOidcAuthenticator(config(op.issuer, over), { http, clock: systemClock, log: silentLogger });
    started.push(a);
    a.start();
    await a.whenReady;
    return a;
  }

  it('maps a valid token to a user: "<issuer>#sub" by default, groups from the claim', async () => {
    const a = await ready();
    const out = await a.authenticate(await op.sign(claims({ groups: ['dev', 'ops'] })));
    assert.deepEqual(out, { kind: 'ok', user: { username: `${op.issuer}#u-1`, groups: ['dev', 'ops'], extra: {} } });
  });

  it('takes the configured username claim and prefixes', async () => {
    const a = await ready({ usernameClaim: 'email', groupsPrefix: 'oidc:' });
    const out = await a.authenticate(await op.sign(claims({ email: 'alice@example.com', groups: 'dev' })));
    assert.deepEqual(out, { kind: 'ok', user: { username: 'alice@example.com', groups: ['oidc:dev'], extra: {} } });
    const dash = await ready({ usernamePrefix: '-' });
    const plain = await dash.authenticate(await op.sign(claims()));
    assert.equal(plain.kind === 'ok' ? plain.user.username : plain.reason, 'u-1');
    const custom = await ready({ usernamePrefix: 'oidc:' });
    const prefixed = await custom.authenticate(await op.sign(claims()));
    assert.equal(prefixed.kind === 'ok' ? prefixed.user.username : prefixed.reason, 'oidc:u-1');
  });

  it('refuses the wrong audience, an expired token, another issuer, and algorithms off the list', async () => {
    const a = await ready();
    assert.equal((await a.authenticate(await op.sign(claims({ aud: 'someone-else' })))).kind, 'invalid');
    assert.equal((await a.authenticate(await op.sign(claims({ exp: now() - 60 })))).kind, 'invalid');
    assert.equal((await a.authenticate(await op.sign(claims({ iss: 'https://evil.example' })))).kind, 'invalid');
    assert.equal((await a.authenticate(await op.sign(claims(), { alg: 'ES256' }))).kind, 'invalid');
    const hs = await new SignJWT(claims({ iss: op.issuer })).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(32)));
    assert.equal((await a.authenticate(hs)).kind, 'invalid');
    assert.equal((await a.authenticate('not-a-jwt')).kind, 'invalid');
    // OIDC Core 3.1.3.7: several audiences need azp = the client id; an azp must be the client id.
    assert.deepEqual(await a.authenticate(await op.sign(claims({ aud: [CLIENT, 'other'] }))), {
      kind: 'invalid',
      reason: 'several audiences and no "azp" claim',
    });
    assert.deepEqual(await a.authenticate(await op.sign(claims({ azp: 'other' }))), { kind: 'invalid', reason: '"azp" claim is not this client' });
    assert.equal((await a.authenticate(await op.sign(claims({ aud: [CLIENT, 'other'], azp: CLIENT })))).kind, 'ok');
    const es = await ready({ signingAlgs: ['ES256'] });
    assert.equal((await es.authenticate(await op.sign(claims(), { alg: 'ES256' }))).kind, 'ok');
    assert.equal((await es.authenticate(await op.sign(claims()))).kind, 'invalid');
  });

  it('enforces required claims on real tokens', async () => {
    const a = await ready({ requiredClaims: [['hd', 'example.com']] });
    assert.equal((await a.authenticate(await op.sign(claims({ hd: 'example.com' })))).kind, 'ok');
    const refused = await a.authenticate(await op.sign(claims({ hd: 'evil.com' })));
    assert.deepEqual(refused, { kind: 'invalid', reason: 'required claim "hd" is missing or has another value' });
  });
});

describe('kube OIDC: start-up and readiness', () => {
  it('is not ready and answers "authenticator not initialized" while the issuer is down, retries, then latches ready', async () => {
    const op = await startOp({ clientId: CLIENT });
    await op.stop();
    const http = new HttpClient();
    const { sched, schedule, pending } = awaitableSchedule();
    const w = watchedLog();
    const a = new KubeOidcAuthenticator(config(op.issuer), { http, clock: systemClock, log: w.log, schedule });
    try {
      a.start();
      await w.waitFor('OIDC discovery failed');
      await pending();
      assert.equal(a.ready, false);
      const token = await op.sign(claims());
      assert.deepEqual(await a.authenticate(token), { kind: 'unavailable', reason: NOT_INITIALIZED });
      // A token of another issuer is simply not ours, ready or not.
      assert.equal((await a.authenticate(await op.sign(claims({ iss: 'https://other' })))).kind, 'invalid');
      assert.equal(sched.pending[0]?.delayMs, 5000);
      await op.restart();
      await sched.runNext();
      await a.whenReady;
      assert.equal(a.ready, true);
      assert.equal((await a.authenticate(token)).kind, 'ok');
      // The issuer goes away: still ready, last good keys still verify new tokens.
      await op.stop();
      await pending();
      assert.equal(sched.pending[0]?.delayMs, 600_000);
      await sched.runNext();
      assert.equal(a.ready, true);
      assert.equal((await a.authenticate(await op.sign(claims({ sub: 'u-2' })))).kind, 'ok');
    } finally {
      a.stop();
      http.close();
    }
  });

  it('retries the JWKS until it loads when discovery succeeded first', async () => {
    const iss = await startHttpsIssuer();
    const http = new HttpClient({ caPem: readFileSync(iss.caFile, 'utf8') });
    const { sched, schedule, pending } = awaitableSchedule();
    const w = watchedLog();
    const a = new KubeOidcAuthenticator(config(iss.issuer), { http, clock: systemClock, log: w.log, schedule });
    try {
      const original = iss.requests.length;
      iss.down(false);
      a.start();
      await w.waitFor('OIDC provider discovered');
      iss.down(true);
      await w.waitFor('JWKS fetch failed');
      await pending();
      assert.ok(iss.requests.length > original);
      assert.equal(a.ready, false);
      iss.down(false);
      await sched.runNext();
      await a.whenReady;
      assert.equal((await a.authenticate(await iss.sign(claims()))).kind, 'ok');
    } finally {
      a.stop();
      http.close();
      await iss.close();
    }
  });

  it('reaches an https issuer only with its CA (oidcCaFile); without it never becomes ready', async () => {
    const iss = await startHttpsIssuer();
    const withCa = new HttpClient({ caPem: readFileSync(iss.caFile, 'utf8') });
    const without = new HttpClient();
    const w = watchedLog();
    const good = new KubeOidcAuthenticator(config(iss.issuer), { http: withCa, clock: systemClock, log: silentLogger });
    const bad = new KubeOidcAuthenticator(config(iss.issuer), { http: without, clock: systemClock, log: w.log, schedule: new ManualSchedule().schedule });
    try {
      good.start();
      bad.start();
      await good.whenReady;
      assert.equal((await good.authenticate(await iss.sign(claims()))).kind, 'ok');
      await w.waitFor('OIDC discovery failed');
      assert.equal(bad.ready, false);
    } finally {
      good.stop();
      bad.stop();
      withCa.close();
      without.close();
      await iss.close();
    }
  });
});
