import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJudge, type LoginStarter } from '../../src/judge/decide.js';
import { deny, type Identity } from '../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../src/judge/upstream/identity-headers.js';
import type { Authorizer, StepUpNeed, Target } from '../../src/judge/ports.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses, type Responses } from '../../src/judge/responses.js';

const NAV = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };
const req = (headers: Record<string, string>, denyStyle: JudgeRequest['denyStyle'] = 'redirect'): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path: '/admin?x=1',
  headers,
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle,
  via: 'grpc',
});
const who = (method: 'cookie' | 'header', authenticator = 'session'): Identity => ({ user: 'alice', groups: [], claims: {}, method, authenticator });
const need: StepUpNeed = { acrValues: ['urn:mfa', 'urn:hw'], maxAge: 300, missing: ['acr', 'max_age'] };
const stepUp: Authorizer = { name: 'rules', authorize: () => ({ kind: 'step-up', reason: 'Access rule authzRules[0] requires a stronger sign-in.', need }) };
let forbiddenCalls = 0;

function judge(identity: Identity, responses: Responses = createResponses()) {
  const asked: StepUpNeed[] = [];
  const login: LoginStarter = {
    start: async () => deny(302, 'login', '', [['location', 'https://idp/auth']]),
    stepUp: async (_r, n) => (asked.push(n), deny(302, 'step-up', '', [['location', 'https://idp/auth?acr_values=x']])),
  };
  const j = createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path.split('?')[0] ?? '/', ambiguous: false }),
    skip: { matches: () => undefined },
    authenticators: [{ name: identity.authenticator, authenticate: () => ({ kind: 'ok', identity }) }],
    authorizers: [stepUp],
    identityHeaders: compileIdentityHeaders({
      useridHeader: 'kubeflow-userid',
      useridPrefix: '',
      useridTransformers: [],
      groupsHeader: 'kubeflow-groups',
      authMethodHeader: 'auth-method',
      claimHeaders: {},
      useridTokenHeader: '',
    }),
    responses,
    login,
    onForbidden: () => void forbiddenCalls++,
  });
  return { j, asked };
}

describe('decide: a rule asking for a stronger sign-in', () => {
  it('a navigation on a session cookie starts a step-up login with what the rule needs; the session is not ended', async () => {
    const { j, asked } = judge(who('cookie'));
    const d = await j(req(NAV));
    assert.equal(d.kind, 'deny');
    assert.equal(d.status, 302);
    assert.equal(d.reason, 'step-up');
    assert.deepEqual(asked, [need]);
    assert.equal(forbiddenCalls, 0, 'onForbidden (which may end the session) is not called');
  });

  it('an API call, a header session, a bearer token or a status-only proxy get 401 insufficient_user_authentication (RFC 9470)', async () => {
    const cases: [Identity, Record<string, string>, JudgeRequest['denyStyle']][] = [
      [who('cookie'), { accept: 'application/json' }, 'redirect'],
      [who('header'), NAV, 'redirect'],
      [who('header', 'access_token'), NAV, 'redirect'],
      [who('cookie'), NAV, 'status-only'],
    ];
    for (const [identity, headers, style] of cases) {
      const { j, asked } = judge(identity);
      const d = await j(req(headers, style));
      assert.equal(d.kind, 'deny');
      assert.equal(d.status, 401);
      assert.equal(d.reason, 'step-up');
      assert.equal(asked.length, 0);
      assert.deepEqual(JSON.parse(d.body), { error: 'insufficient_user_authentication', message: 'Access rule authzRules[0] requires a stronger sign-in.' });
      const challenge = d.headers.find(([n]) => n === 'www-authenticate')?.[1];
      assert.equal(
        challenge,
        'Bearer realm="oidc-judge", error="insufficient_user_authentication", error_description="Access rule authzRules[0] requires a stronger sign-in.", acr_values="urn:mfa urn:hw", max_age="300"',
      );
      assert.equal(d.detail, 'acr,max_age');
    }
  });

  it('a mode whose responses know no step-up answers 403', async () => {
    const { insufficientAuthentication: _none, ...plain } = createResponses();
    const d = await judge(who('header', 'verify-token'), plain).j(req({ accept: 'application/json' }));
    assert.equal(d.kind === 'deny' ? d.status : 0, 403);
  });
});
