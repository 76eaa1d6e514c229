/**
 * Bearer tokens shaped like Keycloak's and Google's, through the assembled service's HTTP judge, in
 * front of the real OpenID Provider (test/helpers/op.ts): the provider itself mints the Keycloak-
 * shaped JWT access token (client_credentials, with Keycloak's claims added), and signs the
 * Google-shaped ID token with its published key. The judge reads the user id, the groups (three
 * sources merged, `/` stripped) and a rule's nested client role where Keycloak puts them, and a
 * rule on Google's `hd`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, secs, startJudge, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { googleIdTokenClaims, keycloakAccessTokenClaims } from '../helpers/provider-shapes.js';

const API = { accept: 'application/json' };

/** Keycloak: /admin needs the `admin` role of the `kubeflow` client; /realm a realm role; the rest anyone signed in. */
const RULES = `
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { claims: { "resource_access.kubeflow.roles": admin } }
  - match: { path: { prefix: /realm } }
    allow: { claims: { "realm_access.roles": "kf-.*" } }
  - match: { path: { prefix: /workspace } }
    allow: { claims: { hd: "example\\\\.org" } }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;

const ENV = {
  HTTP_CHECK_PATH_PREFIX: '/check',
  USERID_CLAIM: 'preferred_username',
  GROUPS_CLAIM: 'groups,realm_access.roles,resource_access.kubeflow.roles',
  GROUPS_STRIP_PREFIX: '/',
  CLAIM_HEADERS: 'resource_access.kubeflow.roles:x-kubeflow-roles,hd:x-hosted-domain',
};

async function judgeOf(op: TestOp, env: Record<string, string> = {}): Promise<Judged> {
  return startJudge(op.issuer, { env: { ...ENV, ...env }, yaml: RULES });
}

describe('Keycloak-shaped JWT access tokens minted by the real provider', () => {
  let admin: TestOp;
  let editor: TestOp;
  let judge: Judged;
  let editorJudge: Judged;
  let adminToken: string;
  let editorToken: string;

  before(async () => {
    // The provider adds these claims to every access token it mints: one provider per user.
    admin = await startOp({
      accessTokenClaims: keycloakAccessTokenClaims('alice', {
        groups: ['/team-a', '/org/platform'],
        realmRoles: ['offline_access', 'kf-user'],
        clientRoles: { kubeflow: ['admin', 'kf-user'] },
      }),
    });
    editor = await startOp({
      accessTokenClaims: keycloakAccessTokenClaims('bob', {
        groups: ['/team-b'],
        realmRoles: ['offline_access'],
        clientRoles: { kubeflow: ['editor'], other: ['admin'] },
      }),
    });
    judge = await judgeOf(admin);
    editorJudge = await judgeOf(editor);
    adminToken = await admin.clientCredentialsToken();
    editorToken = await editor.clientCredentialsToken();
  });
  after(async () => {
    await judge?.stop();
    await editorJudge?.stop();
    await admin?.stop();
    await editor?.stop();
  });

  it('user id from preferred_username; groups merged from three sources in order, "/" stripped, no duplicates', async () => {
    const r = await request(judge.app.ports.http, '/check/notebooks', { authorization: `Bearer ${adminToken}`, ...API });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['kubeflow-userid'], 'alice');
    assert.equal(r.headers['kubeflow-groups'], 'team-a,org/platform,offline_access,kf-user,admin');
    assert.equal(r.headers['x-kubeflow-roles'], 'admin,kf-user');
    assert.equal(r.headers['auth-method'], 'header');
  });

  it('a rule on a nested client role: the client admin passes, a user with that role for another client does not', async () => {
    const ok = await request(judge.app.ports.http, '/check/admin/users', { authorization: `Bearer ${adminToken}`, ...API });
    assert.equal(ok.status, 200, ok.body);
    const refused = await request(editorJudge.app.ports.http, '/check/admin/users', { authorization: `Bearer ${editorToken}`, ...API });
    assert.equal(refused.status, 403, refused.body);
    assert.equal(refused.headers['kubeflow-userid'], undefined);
    const elsewhere = await request(editorJudge.app.ports.http, '/check/notebooks', { authorization: `Bearer ${editorToken}`, ...API });
    assert.equal(elsewhere.status, 200, elsewhere.body);
    assert.equal(elsewhere.headers['kubeflow-groups'], 'team-b,offline_access,editor');
  });

  it('a rule on a nested realm role', async () => {
    assert.equal((await request(judge.app.ports.http, '/check/realm', { authorization: `Bearer ${adminToken}`, ...API })).status, 200);
    assert.equal((await request(editorJudge.app.ports.http, '/check/realm', { authorization: `Bearer ${editorToken}`, ...API })).status, 403);
  });

  it('without the nested sources (GROUPS_CLAIM=groups), only the group paths count: the sources are what changed', async () => {
    const flat = await judgeOf(admin, { GROUPS_CLAIM: 'groups', GROUPS_STRIP_PREFIX: '' });
    try {
      const r = await request(flat.app.ports.http, '/check/notebooks', { authorization: `Bearer ${adminToken}`, ...API });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers['kubeflow-groups'], '/team-a,/org/platform');
    } finally {
      await flat.stop();
    }
  });
});

describe('Google-shaped tokens (hd, email_verified, no groups)', () => {
  let op: TestOp;
  let judge: Judged;

  before(async () => {
    op = await startOp({ accessTokenClaims: googleIdTokenClaims('carol@example.org') });
    judge = await judgeOf(op, { USERID_CLAIM: 'email' });
  });
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  /** An ID token as Google issues it (aud = the client, azp = the client), signed with the provider's published key. */
  const idToken = (email: string): Promise<string> => {
    const now = secs(Date.now());
    return op.sign({ sub: '1078', aud: op.clientId, azp: op.clientId, iat: now, exp: now + 300, ...googleIdTokenClaims(email) });
  };

  it('an ID token as a bearer: the user from email, no groups, and a rule on hd', async () => {
    const carol = { authorization: `Bearer ${await idToken('carol@example.org')}`, ...API };
    const r = await request(judge.app.ports.http, '/check/workspace/docs', carol);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['kubeflow-userid'], 'carol@example.org');
    assert.equal(r.headers['kubeflow-groups'], '');
    assert.equal(r.headers['x-hosted-domain'], 'example.org');
    const gmail = await request(judge.app.ports.http, '/check/workspace/docs', { authorization: `Bearer ${await idToken('dave@gmail.com')}`, ...API });
    assert.equal(gmail.status, 403, gmail.body);
  });

  it('a JWT access token without any groups source is refused (access tokens need groups, as in oidc-authservice)', async () => {
    const r = await request(judge.app.ports.http, '/check/workspace/docs', { authorization: `Bearer ${await op.clientCredentialsToken()}`, ...API });
    assert.equal(r.status, 401, r.body);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
  });
});
