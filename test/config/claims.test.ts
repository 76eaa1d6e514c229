/**
 * Settings that name claims are checked at start-up with the claim reader's own rule: a name with an
 * empty dot-path segment, or a prototype name, can never resolve, so it is a ConfigError naming the
 * setting — never a claim silently not found at every request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>, yaml?: string) =>
  loadConfig({
    env: { ...base, ...env },
    readFile: (p) => (yaml !== undefined && p === 'c.yaml' ? yaml : noFiles(p)),
    ...(yaml !== undefined ? { configFile: 'c.yaml' } : {}),
  });

describe('claim settings', () => {
  it('take names and dot paths; GROUPS_CLAIM several; GROUPS_STRIP_PREFIX defaults to none', () => {
    const { config } = load({
      USERID_CLAIM: 'preferred_username',
      GROUPS_CLAIM: 'groups,realm_access.roles,resource_access.kubeflow.roles',
      GROUPS_STRIP_PREFIX: '/',
      CLAIM_HEADERS: 'https://example.com/tenant:x-tenant,realm_access.roles:x-roles',
    });
    assert.equal(config.userIdClaim, 'preferred_username');
    assert.equal(config.groupsClaim, 'groups,realm_access.roles,resource_access.kubeflow.roles');
    assert.equal(config.groupsStripPrefix, '/');
    assert.deepEqual(config.claimHeaders, { 'x-tenant': 'https://example.com/tenant', 'x-roles': 'realm_access.roles' });
    assert.equal(load({}).config.groupsStripPrefix, '');
    assert.equal(load({}).config.groupsClaim, 'groups');
  });

  it('USERID_CLAIM takes several names (first present wins); an empty one is refused', () => {
    assert.equal(load({ USERID_CLAIM: 'email,sub' }).config.userIdClaim, 'email,sub');
    assert.ok(problems(() => load({ USERID_CLAIM: 'email,a..b' })).some((p) => p.startsWith('USERID_CLAIM:') && p.includes('empty path segment')));
    assert.ok(problems(() => load({ USERID_CLAIM: ' , ' })).some((p) => p.startsWith('USERID_CLAIM:') && p.includes('names no claim')));
  });

  it('an empty path segment or a prototype name is a ConfigError naming the setting', () => {
    const found = problems(() => load({ USERID_CLAIM: 'a..b', GROUPS_CLAIM: 'groups,realm_access.roles.', CLAIM_HEADERS: '.tenant:x-tenant' }));
    assert.ok(
      found.some((p) => p.startsWith('USERID_CLAIM:') && p.includes('empty path segment')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('GROUPS_CLAIM:') && p.includes('"realm_access.roles." has an empty path segment')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('CLAIM_HEADERS:') && p.includes('empty path segment')),
      found.join('\n'),
    );
    const proto = problems(() => load({ USERID_CLAIM: '__proto__', GROUPS_CLAIM: 'realm_access.constructor' }));
    assert.ok(
      proto.some((p) => p.startsWith('USERID_CLAIM:') && p.includes('prototype')),
      proto.join('\n'),
    );
    assert.ok(
      proto.some((p) => p.startsWith('GROUPS_CLAIM:') && p.includes('"constructor"')),
      proto.join('\n'),
    );
  });

  it('in the config file too, and in the claims of access rules', () => {
    const yaml = `
USERID_CLAIM: "email."
authzRules:
  - match: { path: /admin }
    allow: { claims: { "resource_access..roles": "admin", "realm_access.roles": "admin" } }
`;
    const found = problems(() => load({}, yaml));
    assert.ok(
      found.some((p) => p.includes('USERID_CLAIM') && p.includes('empty path segment')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.includes('authzRules') && p.includes('[0].allow.claims') && p.includes('"resource_access..roles" has an empty path segment')),
      found.join('\n'),
    );
    assert.ok(!found.some((p) => p.includes('"realm_access.roles"')), found.join('\n'));
  });
});
