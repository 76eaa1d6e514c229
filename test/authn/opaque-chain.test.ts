/**
 * The chain semantics the provider-asking authenticators rely on: an `invalid` outcome with
 * `fallThrough` lets the later authenticators try (a bearer the provider rejects may be a session
 * id in the same header); if none vouches, its 401 stands — after a 503 for an authenticator that
 * could not decide, and never instead of an allow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Authenticator, AuthnOutcome, Target } from '../../src/judge/ports.js';
import { rejected } from '../../src/authn/bearer-cache.js';
import { createJudge } from '../../src/judge/decide.js';
import { compileIdentityHeaders } from '../../src/judge/upstream/identity-headers.js';
import { createResponses } from '../../src/judge/responses.js';
import { judgeRequest } from '../helpers/request.js';

const headers = compileIdentityHeaders({
  useridHeader: 'kubeflow-userid',
  useridPrefix: '',
  useridTransformers: [],
  groupsHeader: 'kubeflow-groups',
  authMethodHeader: 'auth-method',
  claimHeaders: {},
  useridTokenHeader: '',
});
const fixed = (name: string, out: AuthnOutcome): Authenticator => ({ name, authenticate: () => out });
const session = fixed('session', { kind: 'ok', identity: { user: 'carol', groups: [], claims: {}, method: 'header', authenticator: 'session' } });

function decide(...authenticators: Authenticator[]) {
  const judge = createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path, ambiguous: false }),
    skip: { matches: () => undefined },
    authenticators,
    authorizers: [],
    identityHeaders: headers,
    responses: createResponses(),
  });
  return judge(judgeRequest('/x', { headers: { authorization: 'Bearer t', accept: 'application/json' } }));
}

describe('fall-through rejections in the authenticator chain', () => {
  const provider = fixed('access_token', rejected('the provider rejected the token (userinfo 401)'));

  it('a later authenticator that vouches wins', async () => {
    const d = await decide(provider, session);
    assert.equal(d.kind, 'allow');
    assert.equal(d.identity?.user, 'carol');
  });

  it('when nobody vouches, the rejection is the 401 (invalid_token with its reason), not a login', async () => {
    const d = await decide(provider, fixed('session', { kind: 'none' }));
    assert.equal(d.kind === 'deny' && d.status, 401);
    assert.equal(d.kind === 'deny' && d.reason, 'invalid-token');
    assert.deepEqual(JSON.parse(d.kind === 'deny' ? d.body : '{}'), { error: 'invalid_token', message: 'the provider rejected the token (userinfo 401)' });
  });

  it('an authenticator that could not decide comes first: 503 (the session might have vouched)', async () => {
    const d = await decide(provider, fixed('session', { kind: 'unavailable', reason: 'store down' }));
    assert.equal(d.kind === 'deny' && d.status, 503);
  });

  it('a later hard rejection still stops the chain', async () => {
    const d = await decide(provider, fixed('id_token', { kind: 'invalid', reason: 'bad signature' }), session);
    assert.equal(d.kind === 'deny' && d.status, 401);
    assert.match(d.kind === 'deny' ? d.body : '', /bad signature/);
  });
});
