import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimNameProblem, groupsFrom, groupSources, groupSourcesProblem, readClaim, readGroups, userIdFrom } from '../../src/judge/claims.js';
import { keycloakIdTokenClaims, googleIdTokenClaims } from '../helpers/provider-shapes.js';

/** Claims as they arrive: parsed from JSON (so `__proto__` can be an own property). */
const json = (o: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(o)) as Record<string, unknown>;

describe('the claim reader: names and dot paths', () => {
  const claims = json({
    email: 'alice@example.com',
    'https://example.com/roles': ['admin'],
    'a.b': 'exact',
    a: { b: 'nested', c: { d: ['deep'] } },
    realm_access: { roles: ['offline_access', 'kf-admin'] },
    resource_access: { kubeflow: { roles: ['editor'] }, 'other.client': { roles: ['x'] } },
    list: [{ x: 1 }],
  });

  it('reads a top-level name, and a name with dots as it is (Auth0 namespaced claims)', () => {
    assert.equal(readClaim(claims, 'email'), 'alice@example.com');
    assert.deepEqual(readClaim(claims, 'https://example.com/roles'), ['admin']);
  });

  it('prefers the exact name over the path through objects', () => {
    assert.equal(readClaim(claims, 'a.b'), 'exact');
    assert.deepEqual(readClaim(json({ a: { b: 'nested' } }), 'a.b'), 'nested');
  });

  it('walks nested plain objects (Keycloak realm and client roles)', () => {
    assert.deepEqual(readClaim(claims, 'realm_access.roles'), ['offline_access', 'kf-admin']);
    assert.deepEqual(readClaim(claims, 'resource_access.kubeflow.roles'), ['editor']);
    assert.deepEqual(readClaim(claims, 'a.c.d'), ['deep']);
  });

  it('absent anywhere on the path, through a non-object, or into an array → undefined, never a throw', () => {
    for (const name of [
      'nope',
      'a.nope',
      'a.b.c',
      'email.length',
      'list.0',
      'list.0.x',
      'realm_access.roles.0',
      'resource_access.other.client.roles',
      'a.',
      '.a',
      'a..b',
    ])
      assert.equal(readClaim(claims, name), undefined, name);
    assert.equal(readClaim(json({ a: null }), 'a.b'), undefined);
  });

  it('never resolves prototype names, as a name or a segment, even as own properties of parsed JSON', () => {
    const hostile = json(JSON.parse('{"__proto__": {"x": "polluted"}, "constructor": "c", "o": {"__proto__": {"y": 1}, "constructor": {"name": "n"}}}'));
    for (const name of [
      '__proto__',
      'constructor',
      'prototype',
      '__proto__.x',
      'o.__proto__',
      'o.__proto__.y',
      'o.constructor.name',
      'email.constructor',
      'toString',
      'a.toString',
      'hasOwnProperty',
    ])
      assert.equal(readClaim({ ...hostile, email: 'e', a: {} }, name), undefined, name);
    assert.equal(readClaim({}, 'constructor.name'), undefined);
  });

  it('user id: a non-empty string at the name or path, else undefined', () => {
    assert.equal(userIdFrom(keycloakIdTokenClaims('alice'), 'preferred_username'), 'alice');
    assert.equal(userIdFrom(json({ p: { u: 'bob' } }), 'p.u'), 'bob');
    for (const v of [1, true, null, '', ['a'], { u: 1 }]) assert.equal(userIdFrom(json({ u: v }), 'u'), undefined, JSON.stringify(v));
  });

  it('user id from several names (`email,sub`): the first holding a non-empty string wins', () => {
    assert.equal(userIdFrom(json({ email: 'a@example.com', sub: 's-1' }), 'email,sub'), 'a@example.com');
    // A Kubernetes service-account token has no email: its subject.
    assert.equal(userIdFrom(json({ sub: 'system:serviceaccount:ns:ci' }), 'email, sub'), 'system:serviceaccount:ns:ci');
    for (const v of [1, null, '', ['a@example.com']]) assert.equal(userIdFrom(json({ email: v, sub: 's-2' }), 'email,sub'), 's-2', JSON.stringify(v));
    assert.equal(userIdFrom(json({ p: { u: 'nested' }, sub: 's-3' }), 'email,p.u,sub'), 'nested');
    assert.equal(userIdFrom(json({ name: 'x' }), 'email,sub'), undefined);
  });

  it('start-up check: empty segments and prototype names are problems; dotted and URL names are fine', () => {
    for (const ok of ['email', 'realm_access.roles', 'https://example.com/roles', 'resource_access.kube-flow.roles'])
      assert.equal(claimNameProblem(ok), undefined, ok);
    assert.match(claimNameProblem('a..b')!, /empty path segment/);
    assert.match(claimNameProblem('roles.')!, /empty path segment/);
    assert.match(claimNameProblem('.roles')!, /empty path segment/);
    assert.match(claimNameProblem('')!, /empty/);
    assert.match(claimNameProblem('__proto__')!, /prototype/);
    assert.match(claimNameProblem('a.constructor')!, /segment "constructor"/);
    assert.equal(groupSourcesProblem('groups, realm_access.roles,'), undefined);
    assert.match(groupSourcesProblem('groups,realm_access..roles')!, /"realm_access\.\.roles" has an empty path segment/);
    assert.deepEqual(groupSources(' groups , realm_access.roles,,'), ['groups', 'realm_access.roles']);
  });
});

describe('the claim reader: groups', () => {
  it('a list of strings, one string, or absent', () => {
    assert.deepEqual(groupsFrom(json({ groups: ['a', 'b'] }), 'groups'), ['a', 'b']);
    assert.deepEqual(groupsFrom(json({ groups: 'a' }), 'groups'), ['a']);
    assert.deepEqual(groupsFrom(json({ groups: [] }), 'groups'), []);
    assert.deepEqual(readGroups(json({}), 'groups'), { kind: 'missing' });
    assert.deepEqual(readGroups(json({ groups: null }), 'groups'), { kind: 'missing' });
    assert.deepEqual(readGroups(json({ groups: '' }), 'groups'), { kind: 'missing' });
    assert.deepEqual(readGroups(json({ groups: [] }), ''), { kind: 'missing' });
    assert.ok(Object.isFrozen(groupsFrom(json({ groups: ['a'] }), 'groups')));
  });

  it('non-string members or other shapes are malformed, naming the source', () => {
    for (const v of [[1], ['a', 2], ['a', null], { a: 1 }, 3, true, [['a']]]) {
      assert.deepEqual(readGroups(json({ g: v }), 'g'), { kind: 'malformed', source: 'g' }, JSON.stringify(v));
      assert.equal(groupsFrom(json({ g: v }), 'g'), undefined);
    }
  });

  it('several sources merge in order, duplicates removed (first place kept)', () => {
    const c = keycloakIdTokenClaims('alice', {
      groups: ['/team-a', 'admins'],
      realmRoles: ['admins', 'kf-user'],
      clientRoles: { kubeflow: ['editor', 'kf-user'] },
    });
    assert.deepEqual(groupsFrom(c, 'groups,realm_access.roles,resource_access.kubeflow.roles'), ['/team-a', 'admins', 'kf-user', 'editor']);
    assert.deepEqual(groupsFrom(c, 'resource_access.kubeflow.roles, groups'), ['editor', 'kf-user', '/team-a', 'admins']);
  });

  it('missing only when every source is absent; malformed when any source is', () => {
    assert.deepEqual(readGroups(json({ realm_access: { roles: ['r'] } }), 'groups,realm_access.roles'), { kind: 'ok', groups: ['r'] });
    assert.deepEqual(readGroups(json({}), 'groups,realm_access.roles'), { kind: 'missing' });
    assert.deepEqual(readGroups(json({ groups: ['g'], realm_access: { roles: [7] } }), 'groups,realm_access.roles'), {
      kind: 'malformed',
      source: 'realm_access.roles',
    });
    // A source that is not there at all is not malformed, whatever else is.
    assert.deepEqual(readGroups(json({ groups: ['g'], realm_access: 'x' }), 'groups,realm_access.roles'), { kind: 'ok', groups: ['g'] });
  });

  it('strips one leading occurrence of the prefix, then removes duplicates; a group left empty is dropped', () => {
    const c = json({ groups: ['/team-a', '/a/b', 'plain', '//double', '/', 'team-a', 'x/'], roles: ['team-a'] });
    assert.deepEqual(groupsFrom(c, 'groups,roles', '/'), ['team-a', 'a/b', 'plain', '/double', 'x/']);
    assert.deepEqual(groupsFrom(c, 'groups', ''), ['/team-a', '/a/b', 'plain', '//double', '/', 'team-a', 'x/']);
    assert.deepEqual(groupsFrom(json({ groups: 'grp:ops' }), 'groups', 'grp:'), ['ops']);
  });

  it('Google-shaped claims: no groups at all, hd and email_verified read as any claim', () => {
    const g = googleIdTokenClaims('carol@example.org');
    assert.deepEqual(readGroups(g, 'groups'), { kind: 'missing' });
    assert.equal(readClaim(g, 'hd'), 'example.org');
    assert.equal(readClaim(g, 'email_verified'), true);
  });
});
