/**
 * The allow step with an assertion signer (ASSERTION_HEADER): the signer's value joins the identity
 * headers and leaves the remove list (its other spellings stay there), a cached value comes back
 * without a promise and the lists stay shared check after check, no key → 503, none on a skipped
 * path, and an assertion in AUTH_HEADER is never echoed back as the client's own value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJudge, type JudgeDeps } from '../../src/judge/decide.js';
import type { Allow, Identity } from '../../src/judge/decision.js';
import type { Authenticator, Target } from '../../src/judge/ports.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses } from '../../src/judge/responses.js';
import type { AssertionSigner } from '../../src/judge/upstream/assertion.js';
import { compileIdentityHeaders } from '../../src/judge/upstream/identity-headers.js';

const req = (path: string, headers: Record<string, string> = {}): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path,
  headers,
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle: 'status-only',
  via: 'grpc',
});
const alice: Identity = { user: 'alice', groups: ['g'], claims: {}, method: 'header', authenticator: 'access_token' };
const ok: Authenticator = { name: 'access_token', authenticate: () => ({ kind: 'ok', identity: alice }) };

function judge(header: string, signer: AssertionSigner['assert'], over: Partial<JudgeDeps> = {}) {
  const identityHeaders = compileIdentityHeaders({
    useridHeader: 'kubeflow-userid',
    useridPrefix: '',
    useridTransformers: [],
    groupsHeader: 'kubeflow-groups',
    authMethodHeader: 'auth-method',
    claimHeaders: {},
    useridTokenHeader: '',
    assertionHeader: header,
  });
  return createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path, ambiguous: false }),
    skip: { matches: (t) => (t.path.startsWith('/public') ? '/public' : undefined) },
    authenticators: [ok],
    authorizers: [],
    identityHeaders,
    responses: createResponses(),
    assertion: { header: header.toLowerCase(), assert: signer },
    ...over,
  });
}

const allowOf = (d: Awaited<ReturnType<ReturnType<typeof judge>>>): Allow => {
  assert.equal(d.kind, 'allow', JSON.stringify(d));
  return d as Allow;
};

describe('decide with ASSERTION_HEADER', () => {
  it('an allow carries the assertion, set once and not removed; its other spelling is removed', async () => {
    const seen: string[] = [];
    const d = allowOf(
      await judge('X-Identity-Assertion', (id, target) => {
        seen.push(`${id.user}@${target.hostname}`);
        return 'signed.jwt.value';
      })(req('/app', { 'x-identity-assertion': 'forged' })),
    );
    assert.deepEqual(seen, ['alice@app.example.com']);
    assert.deepEqual(
      d.upstreamHeaders.filter(([n]) => n === 'x-identity-assertion'),
      [['x-identity-assertion', 'signed.jwt.value']],
    );
    assert.ok(!d.removeHeaders.includes('x-identity-assertion'));
    assert.ok(d.removeHeaders.includes('x_identity_assertion'));
  });

  it('a value that comes later (a first signature) is awaited; the lists of the same value are shared', async () => {
    const decide = judge('x-a', () => Promise.resolve('v1'));
    const first = allowOf(await decide(req('/app')));
    const again = allowOf(await decide(req('/app')));
    assert.equal(again.upstreamHeaders, first.upstreamHeaders, 'the same frozen list');
    assert.equal(again.removeHeaders, first.removeHeaders);
    assert.ok(Object.isFrozen(first.upstreamHeaders));
  });

  it('no key to sign with → 503, never an allow without its assertion', async () => {
    const d = await judge('x-a', () => undefined)(req('/app'));
    assert.equal(d.kind === 'deny' && d.status, 503);
  });

  it('a skipped path gets none: the header is removed in every spelling, the signer is not asked', async () => {
    let asked = 0;
    const d = allowOf(await judge('x-a', () => (asked++, 'v'))(req('/public/x', { 'x-a': 'forged' })));
    assert.equal(asked, 0);
    assert.deepEqual(d.upstreamHeaders, []);
    assert.ok(d.removeHeaders.includes('x-a') && d.removeHeaders.includes('x_a'));
  });

  it('a skip rule with assertion: true — a caller with credentials gets the assertion, any other passes without one', async () => {
    const asking = { matches: (t: Target) => (t.path.startsWith('/public') ? 'skipRules[0]' : undefined), asserting: new Set(['skipRules[0]']) };
    const withCredentials: Authenticator = {
      name: 'access_token',
      authenticate: (r) =>
        r.headers['authorization'] === 'Bearer good'
          ? { kind: 'ok', identity: alice }
          : r.headers['authorization']
            ? { kind: 'invalid', reason: 'bad' }
            : { kind: 'none' },
    };
    const decide = judge('x-a', () => Promise.resolve('signed'), { skip: asking, authenticators: [withCredentials] });
    const vouched = allowOf(await decide(req('/public/x', { authorization: 'Bearer good', 'x-a': 'forged' })));
    assert.equal(vouched.reason, 'skip');
    assert.deepEqual(vouched.upstreamHeaders, [['x-a', 'signed']]);
    assert.ok(!vouched.removeHeaders.includes('x-a') && vouched.removeHeaders.includes('x_a'));
    for (const headers of [{}, { authorization: 'Bearer bad' }]) {
      const anonymous = allowOf(await decide(req('/public/x', { ...headers, 'x-a': 'forged' })));
      assert.equal(anonymous.reason, 'skip', 'never a 401 on a skipped path');
      assert.deepEqual(anonymous.upstreamHeaders, []);
      assert.ok(anonymous.removeHeaders.includes('x-a'));
    }
    // A rule that does not ask: no authenticator is called.
    let calls = 0;
    const quiet = judge('x-a', () => 'v', {
      skip: { matches: () => 'skipRules[1]', asserting: new Set(['skipRules[0]']) },
      authenticators: [{ name: 'n', authenticate: () => (calls++, { kind: 'none' }) }],
    });
    allowOf(await quiet(req('/public/x', { authorization: 'Bearer good' })));
    assert.equal(calls, 0);
  });

  it('in AUTH_HEADER (Authorization): replaces the client’s value, which is not echoed', async () => {
    const d = allowOf(await judge('Authorization', () => 'Bearer signed', { authHeader: 'Authorization' })(req('/app', { authorization: 'Bearer client' })));
    assert.deepEqual(
      d.upstreamHeaders.filter(([n]) => n === 'authorization'),
      [['authorization', 'Bearer signed']],
    );
    assert.ok(!(d.echo ?? []).some(([n]) => n === 'authorization'), 'the client’s Authorization is not echoed');
  });
});
