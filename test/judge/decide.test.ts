import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Authenticator, AuthnOutcome, Authorizer, Target } from '../../src/judge/ports.js';
import { createJudge, type JudgeDeps } from '../../src/judge/decide.js';
import type { Identity } from '../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../src/judge/upstream/identity-headers.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses } from '../../src/judge/responses.js';
import { apiRoutesTest } from '../../src/judge/browser.js';
import { searchPattern } from '../../src/compat/oauth2-proxy/ctx.js';

const req = (path: string, headers: Record<string, string> = {}, denyStyle: JudgeRequest['denyStyle'] = 'redirect'): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path,
  headers,
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle,
  via: 'grpc',
});
const id = (user: string, authenticator: string): Identity => ({ user, groups: ['g'], claims: {}, method: 'header', authenticator });
const authn = (name: string, fn: (r: JudgeRequest) => AuthnOutcome): Authenticator & { calls: number } => {
  const a = { name, calls: 0, authenticate: (r: JudgeRequest) => (a.calls++, fn(r)) };
  return a;
};
const headers = compileIdentityHeaders({
  useridHeader: 'kubeflow-userid',
  useridPrefix: '',
  useridTransformers: [],
  groupsHeader: 'kubeflow-groups',
  authMethodHeader: 'auth-method',
  claimHeaders: {},
  useridTokenHeader: '',
});

function judge(over: Partial<JudgeDeps>) {
  return createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path.split('?')[0] ?? '/', ambiguous: false }),
    skip: { matches: (t) => (t.path.startsWith('/public') ? '/public' : undefined) },
    authenticators: [],
    authorizers: [],
    identityHeaders: headers,
    responses: createResponses(),
    ...over,
  });
}

describe('decide', () => {
  it('skips before authenticating, removing every forgeable identity header', async () => {
    const a = authn('x', () => ({ kind: 'ok', identity: id('alice', 'x') }));
    const d = await judge({ authenticators: [a] })(req('/public/a'));
    assert.equal(d.kind, 'allow');
    assert.equal(a.calls, 0);
    if (d.kind === 'allow') {
      assert.equal(d.reason, 'skip');
      assert.deepEqual(d.upstreamHeaders, []);
      assert.ok(d.removeHeaders.includes('kubeflow-userid') && d.removeHeaders.includes('kubeflow_userid'));
    }
  });

  it('walks the chain in order: not mine → next, first ok wins', async () => {
    const first = authn('first', () => ({ kind: 'none' }));
    const second = authn('second', () => ({ kind: 'ok', identity: id('bob', 'second') }));
    const third = authn('third', () => ({ kind: 'ok', identity: id('carol', 'third') }));
    const d = await judge({ authenticators: [first, second, third] })(req('/app'));
    assert.equal(d.kind, 'allow');
    assert.equal(d.identity?.user, 'bob');
    assert.deepEqual([first.calls, second.calls, third.calls], [1, 1, 0]);
    if (d.kind === 'allow') assert.deepEqual(d.upstreamHeaders[0], ['kubeflow-userid', 'bob']);
  });

  it('stops with 401 on "mine but invalid"', async () => {
    const bad = authn('jwt', () => ({ kind: 'invalid', reason: 'token expired' }));
    const never = authn('later', () => ({ kind: 'ok', identity: id('x', 'later') }));
    const d = await judge({ authenticators: [bad, never] })(req('/app'));
    assert.equal(d.kind === 'deny' && d.status, 401);
    assert.equal(never.calls, 0);
  });

  it('answers 503 when an authenticator cannot decide and nobody else vouches, but allows when someone does', async () => {
    const down = authn('jwt', () => ({ kind: 'unavailable', reason: 'keys' }));
    assert.equal((await judge({ authenticators: [down] })(req('/app'))).kind === 'deny', true);
    const d = await judge({ authenticators: [down] })(req('/app'));
    assert.equal(d.kind === 'deny' && d.status, 503);
    const session = authn('session', () => ({ kind: 'ok', identity: id('alice', 'session') }));
    assert.equal((await judge({ authenticators: [down, session] })(req('/app'))).kind, 'allow');
  });

  it('sends browsers to login only when a login flow exists and the proxy can redirect', async () => {
    const html = { accept: 'text/html' };
    const login = {
      start: async () => ({ kind: 'deny' as const, status: 302, headers: [['location', 'https://idp/auth'] as const], body: '', reason: 'login' as const }),
    };
    const noLogin = await judge({})(req('/app', html));
    assert.equal(noLogin.kind === 'deny' && noLogin.status, 401);
    const d = await judge({ login })(req('/app', html));
    assert.equal(d.kind === 'deny' && d.status, 302);
    const nginx = await judge({ login })(req('/app', html, 'status-only'));
    assert.equal(nginx.kind === 'deny' && nginx.status, 401);
    const api = await judge({ login })(req('/app', { accept: 'application/json' }));
    assert.equal(api.kind === 'deny' && api.status, 401);
  });

  it('answers 401 instead of a login redirect on API_ROUTES, even to a browser navigation (path and query)', async () => {
    const html = { accept: 'text/html' };
    const login = {
      start: async () => ({ kind: 'deny' as const, status: 302, headers: [['location', 'https://idp/auth'] as const], body: '', reason: 'login' as const }),
    };
    const apiRoute = apiRoutesTest([searchPattern('/api/'), searchPattern('^/ml_metadata'), searchPattern('format=json')])!;
    for (const path of ['/pipeline/api/v1/runs', '/ml_metadata.MetadataStoreService/GetArtifacts', '/page?format=json']) {
      const d = await judge({ login, apiRoute })(req(path, html));
      assert.equal(d.kind === 'deny' && d.status, 401, path);
    }
    for (const path of ['/pipeline/', '/x/ml_metadata']) {
      const d = await judge({ login, apiRoute })(req(path, html));
      assert.equal(d.kind === 'deny' && d.status, 302, path);
    }
    assert.equal(apiRoutesTest([]), undefined);
  });

  it('requires every authorizer to allow; deny → 403 and onForbidden, error → 403 without revocation', async () => {
    const ok = authn('session', () => ({ kind: 'ok', identity: id('alice', 'session') }));
    const yes: Authorizer = { name: 'yes', authorize: () => ({ kind: 'allow' }) };
    const no: Authorizer = { name: 'no', authorize: () => ({ kind: 'deny', reason: 'not in group' }) };
    const broken: Authorizer = { name: 'broken', authorize: () => ({ kind: 'error', reason: 'timeout' }) };
    const forbidden: string[] = [];
    const onForbidden = (i: Identity): void => void forbidden.push(i.user);
    assert.equal((await judge({ authenticators: [ok], authorizers: [yes] })(req('/app'))).kind, 'allow');
    const d = await judge({ authenticators: [ok], authorizers: [yes, no], onForbidden })(req('/app'));
    assert.equal(d.kind === 'deny' && d.status, 403);
    assert.deepEqual(forbidden, ['alice']);
    const e = await judge({ authenticators: [ok], authorizers: [broken], onForbidden })(req('/app'));
    assert.equal(e.kind === 'deny' && e.status, 403);
    assert.deepEqual(forbidden, ['alice']);
  });
});
