/** `CLAIM_HEADERS` reads claims with the one claim reader: exact name first, then the dot path; never a prototype. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../../src/judge/upstream/identity-headers.js';
import { keycloakIdTokenClaims } from '../../helpers/provider-shapes.js';

const defaults = {
  useridHeader: 'kubeflow-userid',
  useridPrefix: '',
  useridTransformers: [],
  groupsHeader: 'kubeflow-groups',
  authMethodHeader: 'Auth-Method',
  useridTokenHeader: '',
};

describe('CLAIM_HEADERS: claims where providers put them', () => {
  const claims = {
    ...keycloakIdTokenClaims('alice', { realmRoles: ['kf-admin', 'kf-user'], clientRoles: { kubeflow: ['editor'] } }),
    'https://example.com/tenant': 'blue',
    'tenant.id': 'exact',
    tenant: { id: 'nested', name: 'Blue' },
  };
  const alice: Identity = { user: 'alice', groups: [], claims, method: 'header', authenticator: 'access_token' };

  it('sends nested values by dot path, namespaced names as they are, and the exact name before the path', () => {
    const h = compileIdentityHeaders({
      ...defaults,
      claimHeaders: {
        'x-roles': 'realm_access.roles',
        'x-client-roles': 'resource_access.kubeflow.roles',
        'x-tenant': 'https://example.com/tenant',
        'x-tenant-id': 'tenant.id',
        'x-tenant-name': 'tenant.name',
        'x-user': 'preferred_username',
      },
    });
    assert.deepEqual(Object.fromEntries(h.upstream(alice)!.slice(3)), {
      'x-roles': 'kf-admin,kf-user',
      'x-client-roles': 'editor',
      'x-tenant': 'blue',
      'x-tenant-id': 'exact',
      'x-tenant-name': 'Blue',
      'x-user': 'alice',
    });
  });

  it('an absent path, an object, or a prototype name sends no header', () => {
    const h = compileIdentityHeaders({
      ...defaults,
      claimHeaders: { 'x-a': 'realm_access', 'x-b': 'resource_access.other.roles', 'x-c': 'tenant.constructor' },
    });
    assert.deepEqual(h.upstream(alice)!.slice(3), []);
  });
});
