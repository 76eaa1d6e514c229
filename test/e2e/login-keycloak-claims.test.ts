/**
 * A real Chromium sign-in against a provider issuing Keycloak-shaped ID tokens (the development
 * provider with Keycloak's claims added: `preferred_username`, group paths `/team-a`, realm roles
 * under `realm_access.roles`, client roles under `resource_access.kubeflow.roles`), session claims
 * from the ID token only: the upstream behind the built-in forwarder receives the user from
 * `preferred_username` and the groups merged from the group paths (prefix `/` stripped) and the
 * realm roles; an access rule on the nested client role lets the client admin in and keeps the
 * other user out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { DemoUser } from '../../src/demo/users.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { ALICE, BOB, echoOn, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { keycloakUserClaims } from '../helpers/provider-shapes.js';

const RULES = `
authzRules:
  - match: { path: { prefix: /kf-admin } }
    allow: { claims: { "resource_access.kubeflow.roles": admin } }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;

/** Alice administers the kubeflow client; Bob only edits. Both have Keycloak's default realm role. */
function keycloakClaims(user: DemoUser): Record<string, unknown> {
  return user.sub === ALICE.sub
    ? keycloakUserClaims('alice', { groups: ['/team-a', '/team-a/ml'], realmRoles: ['offline_access', 'kf-user'], clientRoles: { kubeflow: ['admin'] } })
    : keycloakUserClaims('bob', { groups: ['/team-b'], realmRoles: ['offline_access'], clientRoles: { kubeflow: ['editor'] } });
}

describe('browser login with Keycloak-shaped ID token claims', () => {
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    stack = await startLoginStack({
      env: {
        CLAIMS_SOURCE: 'id_token',
        USERID_CLAIM: 'preferred_username',
        GROUPS_CLAIM: 'groups,realm_access.roles',
        GROUPS_STRIP_PREFIX: '/',
        CLAIM_HEADERS: 'resource_access.kubeflow.roles:x-kubeflow-roles',
      },
      yaml: RULES,
      extraClaims: keycloakClaims,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function signedIn(user: DemoUser, path: string): Promise<Page> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url(path));
    await signIn(page, user, stack.url(path));
    return page;
  }

  it('the upstream receives the user from preferred_username and the groups from the group paths ("/" stripped) and realm_access.roles', async () => {
    const page = await signedIn(ALICE, '/notebooks?ns=team-a');
    const echo = await echoOn(page);
    assert.equal(echo.url, '/notebooks?ns=team-a');
    assert.deepEqual(echo.headers['kubeflow-userid'], ['alice']);
    assert.deepEqual(echo.headers['kubeflow-groups'], ['team-a,team-a/ml,offline_access,kf-user']);
    assert.deepEqual(echo.headers['x-kubeflow-roles'], ['admin']);
    assert.deepEqual(echo.headers['auth-method'], ['cookie']);
    await page.context().close();
  });

  it('a rule on the nested client role: the client admin reaches /kf-admin, the editor gets 403', async () => {
    const alice = await signedIn(ALICE, '/kf-admin/settings');
    assert.deepEqual((await echoOn(alice)).headers['kubeflow-userid'], ['alice']);
    await alice.context().close();

    const bob = await (await newContext(browser)).newPage();
    await bob.goto(stack.url('/kf-admin/settings'));
    const refused = await signIn(bob, BOB);
    assert.equal(refused.status(), 403);
    assert.equal(new URL(refused.url()).pathname, '/kf-admin/settings');
    const elsewhere = await bob.goto(stack.url('/notebooks'));
    assert.equal(elsewhere?.status(), 200);
    assert.deepEqual((await echoOn(bob)).headers['kubeflow-groups'], ['team-b,offline_access']);
    await bob.context().close();
  });
});
