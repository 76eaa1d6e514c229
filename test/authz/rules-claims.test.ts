/** Access rules' `claims:` conditions read claims with the one claim reader: nested roles (Keycloak), namespaced names (Auth0). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rulesAuthorizer } from '../../src/authz/rules.js';
import type { Identity } from '../../src/judge/decision.js';
import { targetOf } from '../../src/judge/target.js';
import { judgeRequest } from '../helpers/request.js';
import { googleIdTokenClaims, keycloakIdTokenClaims } from '../helpers/provider-shapes.js';

const who = (claims: Record<string, unknown>): Identity => ({ user: 'u', groups: [], claims, method: 'header', authenticator: 'access_token' });

function allowed(claims: Record<string, unknown>, path: string): boolean {
  const a = rulesAuthorizer([
    { match: { path: { prefix: '/admin' } }, allow: { claims: { 'resource_access.kubeflow.roles': 'admin' } } },
    { match: { path: { prefix: '/realm' } }, allow: { claims: { 'realm_access.roles': 'kf-.*' } } },
    { match: { path: { prefix: '/tenant' } }, allow: { claims: { 'https://example.com/tenant': 'blue' } } },
    { match: { path: { prefix: '/workspace' } }, allow: { claims: { hd: 'example\\.org', email_verified: 'true' } } },
    { match: { path: { prefix: '/proto' } }, allow: { claims: { 'realm_access.constructor': '.*' } } },
  ])!;
  const r = judgeRequest(path);
  const out = a.authorize(who(claims), targetOf(r), r);
  assert.ok(!(out instanceof Promise));
  return out.kind === 'allow';
}

describe('authzRules claims: dot paths and exact names', () => {
  const admin = keycloakIdTokenClaims('alice', { realmRoles: ['kf-user'], clientRoles: { kubeflow: ['admin', 'editor'] } });
  const editor = keycloakIdTokenClaims('bob', { realmRoles: ['offline_access'], clientRoles: { kubeflow: ['editor'], other: ['admin'] } });

  it('a rule on a nested client role allows the user holding it, not a user holding it for another client', () => {
    assert.equal(allowed(admin, '/admin'), true);
    assert.equal(allowed(editor, '/admin'), false);
    assert.equal(allowed(keycloakIdTokenClaims('carol'), '/admin'), false, 'no resource_access at all');
  });

  it('nested realm roles; an exact namespaced name; Google hd with email_verified', () => {
    assert.equal(allowed(admin, '/realm'), true);
    assert.equal(allowed(editor, '/realm'), false);
    assert.equal(allowed({ 'https://example.com/tenant': 'blue' }, '/tenant'), true);
    assert.equal(allowed({ https: { 'example.com/tenant': 'blue' } }, '/tenant'), false, 'the exact name is absent, and no object path spells it');
    assert.equal(allowed(googleIdTokenClaims('carol@example.org'), '/workspace'), true);
    assert.equal(allowed(googleIdTokenClaims('carol@gmail.com'), '/workspace'), false);
  });

  it('a prototype name never matches, not even ".*"', () => {
    assert.equal(allowed(admin, '/proto'), false);
  });
});
