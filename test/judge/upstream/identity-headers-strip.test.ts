/**
 * The one strip list (src/judge/strip.ts) and what the judge's allows and skips make of it: foreign
 * identity headers and URL-rewriting headers in every spelling, prefixes removed by the names the
 * request carries, the judge's cookies taken out of `Cookie`, and `AUTH_HEADER` when it carried the
 * session id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Target } from '../../../src/judge/ports.js';
import { loadConfig } from '../../../src/config/load.js';
import { createJudge } from '../../../src/judge/decide.js';
import type { Allow, Decision, Identity } from '../../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../../src/judge/upstream/identity-headers.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createResponses } from '../../../src/judge/responses.js';
import { joinHeaders, joinRawHeaders } from '../../../src/judge/node-request.js';
import { toJudgeRequest } from '../../../src/judge/grpc/map.js';
import { candidate, CLEAN, compileStrip, judgeCookies, stripFor } from '../../../src/judge/strip.js';

const config = (env: Record<string, string> = {}) =>
  loadConfig({ env: { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'c', CLIENT_SECRET: 's', ...env }, readFile: () => '' }).config;

const req = (path: string, headers: Record<string, string>): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path,
  headers: Object.assign(Object.create(null) as Record<string, string>, headers),
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle: 'redirect',
  via: 'grpc',
});

function judgeWith(env: Record<string, string>, identity: Identity) {
  const c = config(env);
  const strip = stripFor(c);
  return createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path, ambiguous: false }),
    skip: { matches: (t) => (t.path.startsWith('/public') ? '/public' : undefined) },
    authenticators: [{ name: identity.authenticator, authenticate: () => ({ kind: 'ok', identity }) }],
    authorizers: [],
    identityHeaders: compileIdentityHeaders({ ...c, alsoRemove: strip.spellings }),
    strip,
    authHeader: c.authHeader,
    responses: createResponses(),
  });
}

const alice: Identity = { user: 'alice', groups: ['staff'], claims: {}, method: 'cookie', authenticator: 'session', sessionId: 'S' };

function allowed(d: Decision): Allow {
  assert.equal(d.kind, 'allow', JSON.stringify(d));
  return d as Allow;
}

/** What an upstream behind Envoy gets: the request headers, then the sets, then the removals. */
function upstreamOf(headers: Record<string, string>, a: Allow): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  for (const [n, v] of a.upstreamHeaders) out[n] = v;
  for (const n of a.removeHeaders) delete out[n];
  return out;
}

const FORGED: Record<string, string> = {
  'x-forwarded-user': 'admin',
  x_forwarded_email: 'admin@example.com',
  'x-forwarded-groups': 'admin',
  'x-forwarded-preferred-username': 'admin',
  'x-auth-request-user': 'admin',
  x_auth_request_groups: 'admin',
  'x-auth-request-anything-new': 'admin',
  'remote-user': 'admin',
  remote_groups: 'admin',
  'remote-email': 'admin@example.com',
  'remote-name': 'Admin',
  'x-remote-user': 'admin',
  'x-vouch-user': 'admin',
  'x-authenticated-user': 'admin',
  'x-auth-subject': 'admin',
  x_auth_issuer: 'https://evil.example',
  'x-original-url': 'http://app/admin',
  'x-original-uri': '/admin',
  'x-original-anything': '/admin',
  'x-rewrite-url': '/admin',
  'x-forwarded-uri': '/admin',
  x_forwarded_for: '10.0.0.1',
  kubeflow_userid: 'admin',
};

describe('the strip list', () => {
  it('matches every listed name in any spelling, prefixes by what the request carries, and keeps the proxy’s own facts', () => {
    const s = compileStrip({ extra: ['X-Tenant', 'x-corp-*'] });
    for (const n of [...Object.keys(FORGED).filter((n) => n !== 'kubeflow_userid'), 'x-tenant', 'x_tenant', 'x-corp-role', 'x_corp_role'])
      assert.ok(s.stripped(n), n);
    for (const n of [
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'x-forwarded-port',
      'x-forwarded-client-cert',
      'cookie',
      'authorization',
      'x-request-id',
      'user-agent',
      'remote-address',
    ])
      assert.ok(!s.stripped(n), n);
    assert.ok(s.spellings.includes('x_forwarded_preferred-username') && s.spellings.includes('x-tenant') && !s.spellings.includes('x-corp-'));
    assert.equal(s.scan({ 'user-agent': 'x', 'x-forwarded-for': '1.2.3.4' }), undefined, 'nothing to do: nothing allocated');
    assert.deepEqual(
      s.scan({ 'x-corp-role': 'admin', 'x-auth-request-user': 'a', 'x-forwarded-user': 'a' })?.extra,
      ['x-corp-role', 'x-auth-request-user'],
      'listed names are in spellings already',
    );
  });

  it('takes the session cookie and every oidc_state_csrf* cookie out of Cookie, byte for byte otherwise', () => {
    const s = compileStrip({ cookies: judgeCookies('authservice_session') });
    assert.deepEqual(s.scan({ cookie: 'a=1;b=2' }), { extra: undefined, cookie: 'a=1;b=2', cookieChanged: false });
    assert.deepEqual(s.scan({ cookie: 'a=1; authservice_session=S; oidc_state_csrf=x; oidc_state_csrf_k2=y; b=2' }), {
      extra: undefined,
      cookie: 'a=1; b=2',
      cookieChanged: true,
    });
    assert.deepEqual(s.scan({ cookie: 'authservice_session=S' }), { extra: undefined, cookie: undefined, cookieChanged: true });
    // With a `__Host-` session cookie the attempt cookies are `__Host-oidc_state_csrf_<tag>` (oidc/flow.ts).
    const host = compileStrip({ cookies: judgeCookies('__Host-authservice_session') });
    assert.deepEqual(host.scan({ cookie: 'a=1; __Host-authservice_session=S; __Host-oidc_state_csrf_k2=y' }), {
      extra: undefined,
      cookie: 'a=1',
      cookieChanged: true,
    });
    assert.equal(
      s.withoutJudgeCookies('Authservice_session=kept; authservice_session2=kept'),
      'Authservice_session=kept; authservice_session2=kept',
      'cookie names are case-sensitive and exact',
    );
    const keep = compileStrip({});
    assert.deepEqual(keep.scan({ cookie: 'authservice_session=S' }), { extra: undefined, cookie: 'authservice_session=S', cookieChanged: false });
  });

  it('STRIP_HEADERS and UPSTREAM_KEEP_AUTH_COOKIES come from the configuration; a bad entry names the setting', () => {
    const s = stripFor(config({ STRIP_HEADERS: 'X-Tenant, x-corp-*', UPSTREAM_KEEP_AUTH_COOKIES: 'true' }));
    assert.ok(s.stripped('x_tenant') && s.stripped('x-corp-a'));
    assert.deepEqual(s.cookies, { names: [], prefixes: [] });
    assert.deepEqual(stripFor(config()).cookies, { names: ['authservice_session'], prefixes: ['oidc_state_csrf', '__Host-oidc_state_csrf'] });
    assert.throws(() => config({ STRIP_HEADERS: 'bad header' }), /STRIP_HEADERS/);
  });

  it('the front doors mark a record without prefixed names, so the judge makes no second pass; a custom prefix always gets the pass', () => {
    const clean = (h: object): boolean => (h as Record<symbol, unknown>)[CLEAN] === true;
    const raw = (names: string[]): Record<string, string> => {
      const out = Object.create(null) as Record<string, string>;
      joinRawHeaders(
        names.flatMap((n) => [n, 'v']),
        out,
      );
      return out;
    };
    assert.ok(clean(raw(['Host', 'X-Forwarded-For', 'X-Request-Id', 'Cookie', 'Remote-User', 'x_forwarded_user'])), 'fixed names are removed blind');
    for (const n of ['X-Auth-Request-Whatever', 'x_original_thing', 'X-Forwarded-Login']) assert.ok(!clean(raw(['Host', n])), n);
    assert.ok(!clean(joinHeaders({ 'x-auth-request-x': 'v' })) && clean(joinHeaders({ accept: 'v' })));
    const grpc = (headers: Record<string, string>) => toJudgeRequest({ attributes: { request: { http: { headers } } } }, 'grpc')!.headers;
    assert.ok(clean(grpc({ accept: 'v' })) && !clean(grpc({ 'x-original-foo': 'v' })));
    assert.ok(!candidate('x-forwarded-for') && candidate('x-forwarded-login') && !candidate('remote-user'));
    const marked = raw(['my-role', 'x-auth-request-user']);
    (marked as Record<symbol, unknown>)[CLEAN] = true; // a (wrong) mark cannot hide a custom prefix
    assert.deepEqual(compileStrip({ extra: ['my-*'] }).scan(marked)?.extra, ['my-role', 'x-auth-request-user']);
  });

  it('never removes a header the judge sets, even when STRIP_HEADERS or a prefix names it', () => {
    const s = stripFor(config({ USERID_HEADER: 'x-forwarded-user' }));
    assert.ok(!s.stripped('x-forwarded-user') && !s.spellings.includes('x-forwarded-user'));
  });
});

describe('allows and skips remove the strip list', () => {
  const headers = {
    ...FORGED,
    cookie: 'theme=dark; authservice_session=S; oidc_state_csrf_k1=z',
    'x-forwarded-for': '203.0.113.9',
    'x-forwarded-proto': 'https',
    'user-agent': 'ua',
  };

  for (const path of ['/app', '/public/x']) {
    it(`${path}: the upstream sees no forged identity, rewrite header or judge cookie, and keeps the proxy’s facts`, async () => {
      const a = allowed(await judgeWith({}, alice)(req(path, headers)));
      const up = upstreamOf(headers, a);
      for (const n of Object.keys(FORGED)) assert.equal(up[n], undefined, n);
      assert.equal(up['cookie'], 'theme=dark');
      assert.deepEqual(a.echo, [['cookie', 'theme=dark']]);
      assert.equal(up['x-forwarded-for'], '203.0.113.9');
      assert.equal(up['x-forwarded-proto'], 'https');
      assert.equal(up['user-agent'], 'ua');
      if (path === '/app') assert.equal(up['kubeflow-userid'], 'alice');
      else assert.equal(up['kubeflow-userid'], undefined);
    });
  }

  it('removes Cookie when only the judge’s cookies were in it, with a shared list', async () => {
    const j = judgeWith({}, alice);
    const one = allowed(await j(req('/app', { cookie: 'authservice_session=S' })));
    const two = allowed(await j(req('/app', { cookie: 'authservice_session=S' })));
    assert.ok(one.removeHeaders.includes('cookie'));
    assert.equal(one.removeHeaders, two.removeHeaders, 'the same frozen list check after check');
    assert.deepEqual(one.echo, []);
    assert.ok(!one.upstreamHeaders.some(([n]) => n === 'cookie'));
  });

  it('leaves an unrelated Cookie alone (no edit, still echoed for nginx and Traefik)', async () => {
    const a = allowed(await judgeWith({}, alice)(req('/app', { cookie: 'a=1' })));
    assert.ok(!a.removeHeaders.includes('cookie') && !a.upstreamHeaders.some(([n]) => n === 'cookie'));
    assert.deepEqual(a.echo, [['cookie', 'a=1']]);
  });

  it('UPSTREAM_KEEP_AUTH_COOKIES=true sends the judge’s cookies on', async () => {
    const a = allowed(await judgeWith({ UPSTREAM_KEEP_AUTH_COOKIES: 'true' }, alice)(req('/app', { cookie: 'authservice_session=S' })));
    assert.ok(!a.removeHeaders.includes('cookie'));
    assert.deepEqual(a.echo, [['cookie', 'authservice_session=S']]);
  });

  it('removes AUTH_HEADER when it carried the session id, keeps a bearer token that authenticated', async () => {
    const fromHeader = allowed(await judgeWith({}, { ...alice, method: 'header' })(req('/app', { authorization: 'Bearer S' })));
    assert.ok(fromHeader.removeHeaders.includes('authorization'));
    const moved = allowed(
      await judgeWith({ AUTH_HEADER: 'X-Session' }, { ...alice, method: 'header' })(req('/app', { 'x-session': 'S', authorization: 'Bearer jwt' })),
    );
    assert.ok(moved.removeHeaders.includes('x-session') && !moved.removeHeaders.includes('authorization'));
    const bearer = allowed(
      await judgeWith(
        {},
        { user: 'alice', groups: [], claims: {}, method: 'header', authenticator: 'access_token', token: 'jwt' },
      )(req('/app', { authorization: 'Bearer jwt' })),
    );
    assert.ok(!bearer.removeHeaders.includes('authorization'));
    assert.deepEqual(bearer.echo, [['authorization', 'Bearer jwt']], 'echoed for nginx and Traefik, which replace it with the answer’s');
    assert.equal(fromHeader.echo, undefined, 'nothing to echo: nginx and Traefik send no Authorization');
    const stripped = allowed(
      await judgeWith(
        { STRIP_HEADERS: 'authorization' },
        { user: 'alice', groups: [], claims: {}, method: 'header', authenticator: 'access_token', token: 'jwt' },
      )(req('/app', { authorization: 'Bearer jwt' })),
    );
    assert.ok(stripped.removeHeaders.includes('authorization'), 'STRIP_HEADERS=authorization keeps tokens from the upstream');
  });

  it('refuses (403) a user id no header can carry', async () => {
    const d = await judgeWith({}, { ...alice, user: 'eve\nadmin' })(req('/app', {}));
    assert.equal(d.kind === 'deny' && d.status, 403);
  });
});
