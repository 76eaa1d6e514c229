import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../../src/judge/decision.js';
import { compileIdentityHeaders, headerSafe, spellings } from '../../../src/judge/upstream/identity-headers.js';
import { compileUserIdTransformers } from '../../../src/judge/upstream/userid-transform.js';

const defaults = {
  useridHeader: 'kubeflow-userid',
  useridPrefix: '',
  useridTransformers: [],
  groupsHeader: 'kubeflow-groups',
  authMethodHeader: 'Auth-Method',
  claimHeaders: {},
  useridTokenHeader: '',
};
const alice: Identity = {
  user: 'alice@example.com',
  groups: ['a', 'b'],
  claims: { email: 'alice@example.com', name: 'Alice', level: 3 },
  method: 'cookie',
  authenticator: 'session',
  token: 'tok',
};

describe('identity headers', () => {
  it('sets userid (prefix + transformers), comma-joined groups and the auth method', () => {
    const h = compileIdentityHeaders({ ...defaults, useridPrefix: 'oidc:', useridTransformers: [{ matches: '@example\\.com$', replaces: '' }] });
    assert.deepEqual(h.upstream(alice), [
      ['kubeflow-userid', 'oidc:alice'],
      ['kubeflow-groups', 'a,b'],
      ['auth-method', 'cookie'],
    ]);
    assert.deepEqual(h.upstream({ ...alice, groups: [], method: 'header' })!.slice(1), [
      ['kubeflow-groups', ''],
      ['auth-method', 'header'],
    ]);
  });

  it('removes every -/_ spelling of every header it can set, but never one it sets', () => {
    const h = compileIdentityHeaders(defaults);
    assert.deepEqual([...h.removeOnSkip].sort(), ['auth-method', 'auth_method', 'kubeflow-groups', 'kubeflow-userid', 'kubeflow_groups', 'kubeflow_userid']);
    const set = h.upstream(alice)!;
    assert.deepEqual([...h.removeOnAllow(set)].sort(), ['auth_method', 'kubeflow_groups', 'kubeflow_userid']);
  });

  it('adds claim headers and token pass-through only when present, and removes them otherwise', () => {
    const h = compileIdentityHeaders({
      ...defaults,
      claimHeaders: { 'x-user-email': 'email', 'x-user-level': 'level', 'x-user-team': 'team' },
      useridTokenHeader: 'X-Id-Token',
    });
    const set = h.upstream(alice)!;
    assert.deepEqual(set.slice(3), [
      ['x-user-email', 'alice@example.com'],
      ['x-user-level', '3'],
      ['x-id-token', 'tok'],
    ]);
    const remove = h.removeOnAllow(set);
    assert.ok(remove.includes('x-user-team') && remove.includes('x_user_team'));
    assert.ok(!remove.includes('x-user-email') && remove.includes('x_user_email'));
    const noToken = h.upstream({ ...alice, token: undefined } as unknown as Identity)!;
    assert.ok(h.removeOnAllow(noToken).includes('x-id-token'));
  });

  it('forAllow builds the headers once per claims object, and anew whenever anything they are made of differs', () => {
    const h = compileIdentityHeaders({ ...defaults, claimHeaders: { 'x-user-email': 'email' }, useridTokenHeader: 'X-Id-Token' });
    const first = h.forAllow(alice)!;
    assert.deepEqual(first.upstream, h.upstream(alice));
    assert.deepEqual(first.remove, h.removeOnAllow(h.upstream(alice)!));
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
      const got = h.forAllow(v)!;
      assert.deepEqual(got.upstream, h.upstream(v), JSON.stringify(v));
      assert.deepEqual(got.remove, h.removeOnAllow(h.upstream(v)!));
    }
    assert.deepEqual(h.forAllow(alice)!.upstream, h.upstream(alice), 'and back');
  });

  it('refuses a user id a header cannot carry as it is, instead of cutting it into another one', () => {
    const h = compileIdentityHeaders(defaults);
    for (const user of ['eve\r\nkubeflow-userid: admin', 'ad\u0000min', 'admin\t', ' admin', 'admin ', 'a\u007fb']) {
      assert.equal(h.upstream({ ...alice, user }), undefined, JSON.stringify(user));
      assert.equal(h.forAllow({ ...alice, user }), undefined, JSON.stringify(user));
    }
    assert.equal(h.upstream({ ...alice, user: 'Doe, Jane' })![0]![1], 'Doe, Jane', 'one value, sent once: a comma splits nothing');
    assert.equal(headerSafe('tab\tok'), 'tab\tok');
  });

  it('drops a group that would split or trim into another: commas, control characters, edge spaces, empty', () => {
    const h = compileIdentityHeaders(defaults);
    const groups = ['staff', 'guests,admin', 'ad\nmin', ' admin', 'admin ', '', 'kubeflow admins'];
    assert.deepEqual(h.upstream({ ...alice, groups })![1], ['kubeflow-groups', 'staff,kubeflow admins']);
    assert.deepEqual(h.upstream({ ...alice, groups: ['a', 'b'] })![1], ['kubeflow-groups', 'a,b']);
  });

  it('claim headers: a list drops its unsafe elements, a string with a control character is not sent', () => {
    const h = compileIdentityHeaders({ ...defaults, claimHeaders: { 'x-roles': 'roles', 'x-name': 'name' }, useridTokenHeader: 'x-token' });
    const set = h.upstream({ ...alice, claims: { roles: ['viewer', 'viewer,admin', 7], name: 'Eve\r\nX-Admin: 1' }, token: 'a\nb' })!;
    assert.deepEqual(set.slice(3), [['x-roles', 'viewer,7']]);
    assert.deepEqual(h.upstream({ ...alice, claims: { roles: [], name: 'Doe, Jane' } })!.slice(3), [
      ['x-roles', ''],
      ['x-name', 'Doe, Jane'],
      ['x-token', 'tok'],
    ]);
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
