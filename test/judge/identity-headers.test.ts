import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/judge/decision.js';
import { compileIdentityHeaders, headerSafe, spellings } from '../../src/judge/identity-headers.js';
import { compileUserIdTransformers } from '../../src/judge/userid-transform.js';

const defaults = {
  useridHeader: 'kubeflow-userid',
  useridPrefix: '',
  useridTransformers: [],
  groupsHeader: 'kubeflow-groups',
  authMethodHeader: 'Auth-Method',
  claimHeaders: {},
  useridTokenHeader: '',
};
const alice: Identity = { user: 'alice@example.com', groups: ['a', 'b'], claims: { email: 'alice@example.com', name: 'Alice', level: 3 }, method: 'cookie', authenticator: 'session', token: 'tok' };

describe('identity headers', () => {
  it('sets userid (prefix + transformers), comma-joined groups and the auth method', () => {
    const h = compileIdentityHeaders({ ...defaults, useridPrefix: 'oidc:', useridTransformers: [{ matches: '@example\\.com$', replaces: '' }] });
    assert.deepEqual(h.upstream(alice), [
      ['kubeflow-userid', 'oidc:alice'],
      ['kubeflow-groups', 'a,b'],
      ['auth-method', 'cookie'],
    ]);
    assert.deepEqual(h.upstream({ ...alice, groups: [], method: 'header' }).slice(1), [
      ['kubeflow-groups', ''],
      ['auth-method', 'header'],
    ]);
  });

  it('removes every -/_ spelling of every header it can set, but never one it sets', () => {
    const h = compileIdentityHeaders(defaults);
    assert.deepEqual([...h.removeOnSkip].sort(), ['auth-method', 'auth_method', 'kubeflow-groups', 'kubeflow-userid', 'kubeflow_groups', 'kubeflow_userid']);
    const set = h.upstream(alice);
    assert.deepEqual([...h.removeOnAllow(set)].sort(), ['auth_method', 'kubeflow_groups', 'kubeflow_userid']);
  });

  it('adds claim headers and token pass-through only when present, and removes them otherwise', () => {
    const h = compileIdentityHeaders({ ...defaults, claimHeaders: { 'x-user-email': 'email', 'x-user-level': 'level', 'x-user-team': 'team' }, useridTokenHeader: 'X-Id-Token' });
    const set = h.upstream(alice);
    assert.deepEqual(set.slice(3), [
      ['x-user-email', 'alice@example.com'],
      ['x-user-level', '3'],
      ['x-id-token', 'tok'],
    ]);
    const remove = h.removeOnAllow(set);
    assert.ok(remove.includes('x-user-team') && remove.includes('x_user_team'));
    assert.ok(!remove.includes('x-user-email') && remove.includes('x_user_email'));
    const noToken = h.upstream({ ...alice, token: undefined } as unknown as Identity);
    assert.ok(h.removeOnAllow(noToken).includes('x-id-token'));
  });

  it('forAllow builds the headers once per claims object, and anew whenever anything they are made of differs', () => {
    const h = compileIdentityHeaders({ ...defaults, claimHeaders: { 'x-user-email': 'email' }, useridTokenHeader: 'X-Id-Token' });
    const first = h.forAllow(alice);
    assert.deepEqual(first.upstream, h.upstream(alice));
    assert.deepEqual(first.remove, h.removeOnAllow(h.upstream(alice)));
    assert.equal(h.forAllow({ ...alice }), first, 'a copy of the same identity (same claims object) reuses the headers');
    assert.ok(Object.isFrozen(first.upstream), 'shared, so never changed');
    const variants: Identity[] = [
      { ...alice, user: 'bob@example.com' },
      { ...alice, groups: ['a', 'b'] },
      { ...alice, method: 'header' },
      { ...alice, token: 'other-token' },
      { ...alice, claims: { ...alice.claims, email: 'other@example.com' } },
    ];
    for (const v of variants) {
      const got = h.forAllow(v);
      assert.deepEqual(got.upstream, h.upstream(v), JSON.stringify(v));
      assert.deepEqual(got.remove, h.removeOnAllow(h.upstream(v)));
    }
    assert.deepEqual(h.forAllow(alice).upstream, h.upstream(alice), 'and back');
  });

  it('strips CR, LF and NUL from values so a claim cannot inject headers', () => {
    const h = compileIdentityHeaders(defaults);
    const [[, user]] = h.upstream({ ...alice, user: 'eve\r\nkubeflow-userid: admin\u0000' }) as [[string, string]];
    assert.equal(user, 'evekubeflow-userid: admin');
    assert.equal(headerSafe('tab\tok'), 'tab\tok');
  });

  it('enumerates spellings', () => {
    assert.deepEqual(spellings('X-A_b').sort(), ['x-a-b', 'x-a_b', 'x_a-b', 'x_a_b']);
    assert.deepEqual(spellings('a-b-c-d-e-f-g-h').sort(), ['a-b-c-d-e-f-g-h', 'a_b_c_d_e_f_g_h']);
  });
});

describe('USERID_TRANSFORMERS (oidc-authservice semantics)', () => {
  const f = compileUserIdTransformers([
    { matches: '^user@domain\\.com$', replaces: 'transformed' },
    { matches: '@.*$', replaces: '' },
  ]);
  it('applies the first matching rule only, as replace-all', () => {
    assert.equal(f('user@domain.com'), 'transformed');
    assert.equal(f('someone@other.org'), 'someone');
    assert.equal(f('no-at-sign'), 'no-at-sign');
  });
  it('expands Go templates', () => {
    assert.equal(compileUserIdTransformers([{ matches: '^(?P<name>[a-z]+)@(x)$', replaces: '${name}-$2-$$' }])('ab@x'), 'ab-x-$');
    assert.equal(compileUserIdTransformers([{ matches: 'a*', replaces: 'X' }])('bab'), 'XbXbX');
  });
});
