/**
 * The provider-asking authenticators read claims where Keycloak puts them: userinfo from the
 * development provider issuing Keycloak-shaped claims (`ACCESS_TOKEN_AUTHN=opaque`), and an
 * introspection answer as Keycloak gives it (every access-token claim, `typ: Bearer`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { identityFromIntrospection } from '../../src/authn/introspection.js';
import { OpaqueTokenAuthenticator } from '../../src/authn/opaque.js';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { Discovery } from '../../src/oidc/discovery.js';
import { capturingLogger, requestWith } from '../helpers/bearer.js';
import { keycloakAccessTokenClaims, keycloakUserClaims } from '../helpers/provider-shapes.js';
import { ALICE, BASIC, BOB, startOpaqueOp, type OpaqueOp } from './opaque-op.js';

const KEYCLOAK = {
  userIdClaim: 'preferred_username',
  groupsClaim: 'groups,realm_access.roles,resource_access.kubeflow.roles',
  groupsStripPrefix: '/',
};

describe('userinfo (ACCESS_TOKEN_AUTHN=opaque) with Keycloak-shaped claims', () => {
  let op: OpaqueOp;
  let discovery: Discovery;
  const http = new HttpClient({ timeoutMs: 3000 });

  before(async () => {
    op = await startOpaqueOp({
      extraClaims: (u) =>
        u.sub === ALICE.sub
          ? keycloakUserClaims('alice', { groups: ['/team-a'], realmRoles: ['kf-user'], clientRoles: { kubeflow: ['admin', 'kf-user'] } })
          : keycloakUserClaims('bob', { groups: [], realmRoles: [], clientRoles: { kubeflow: [7 as unknown as string] } }),
    });
    discovery = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log });
    assert.equal(await discovery.attempt(), true);
  });
  after(async () => {
    await op.stop();
    http.close();
  });

  const authn = () =>
    new OpaqueTokenAuthenticator(
      {
        idTokenHeader: 'Authorization',
        oidcProvider: op.issuer,
        clientId: BASIC.id,
        idtokenAuthnEnabled: true,
        cacheEnabled: false,
        cacheExpirationMinutes: 5,
        ...KEYCLOAK,
      },
      { discovery: { metadata: discovery.metadata! }, http, clock: new ManualClock(Date.now()), log: capturingLogger().log },
    );

  test('the user from preferred_username; groups from the three sources, merged, "/" stripped', async () => {
    const { accessToken } = await op.issue(ALICE);
    const out = await authn().authenticate(requestWith({ authorization: `Bearer ${accessToken}` }));
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    if (out.kind !== 'ok') return;
    assert.equal(out.identity.user, 'alice');
    assert.deepEqual(out.identity.groups, ['team-a', 'kf-user', 'admin']);
  });

  test('a malformed source (a number among the client roles) → 401: groups are required here, as a missing claim always was', async () => {
    const { accessToken } = await op.issue(BOB);
    const out = await authn().authenticate(requestWith({ authorization: `Bearer ${accessToken}` }));
    assert.equal(out.kind, 'invalid', JSON.stringify(out));
  });
});

describe('introspection answers with Keycloak-shaped claims', () => {
  const config = { ...KEYCLOAK, introspectionTokenTypeRequired: true };

  test('nested roles and group paths become the groups; the user from preferred_username', () => {
    const answer = {
      active: true,
      ...keycloakAccessTokenClaims('alice', { groups: ['/team-a', '/a/b'], realmRoles: ['kf-user'], clientRoles: { kubeflow: ['kf-user', 'admin'] } }),
    };
    const id = identityFromIntrospection(answer, config, 'access_token');
    assert.ok(typeof id !== 'string', String(id));
    assert.equal(id.user, 'alice');
    assert.deepEqual(id.groups, ['team-a', 'a/b', 'kf-user', 'admin']);
  });

  test('no source present → no groups (introspection never required them)', () => {
    const answer = { active: true, typ: 'Bearer', preferred_username: 'svc' };
    const id = identityFromIntrospection(answer, config, 'access_token');
    assert.ok(typeof id !== 'string', String(id));
    assert.deepEqual(id.groups, []);
  });
});
