/**
 * Each provider recipe of docs/providers.md, as written there, judges a token shaped like that
 * provider's: the real test provider (test/helpers/op.ts) serves the issuer (with Entra's and
 * Dex's issuer paths) and signs an ID token with the provider's claims (provider-shapes.ts,
 * shapes-*.ts); the assembled service, configured with the recipe's settings — only the issuer,
 * the client and the secret swapped for the test provider's — must find the expected user and
 * groups, as a bearer ID token through the HTTP judge.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request, secs, startJudge, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { googleIdTokenClaims, keycloakIdTokenClaims } from '../helpers/provider-shapes.js';
import { readRecipes } from '../helpers/recipes.js';
import { AUTH0_ROLES_CLAIM, auth0Shape } from '../helpers/shapes-auth0.js';
import { DEX_ISSUER_PATH, type DexUser, dexIdTokenClaims, dexSubject, KUBEFLOW_USER } from '../helpers/shapes-dex.js';
import { ADELE, ENTRA_V2_PATH, entraClaims, MEGAN } from '../helpers/shapes-entra.js';

const recipes = readRecipes();
const API = { accept: 'application/json' };

interface Stack {
  readonly op: TestOp;
  readonly judge: Judged;
  /** An ID token for the recipe's client with these claims, valid for 5 minutes. */
  idToken(claims: Record<string, unknown>): Promise<string>;
  /** The judge's answer to a bearer ID token. */
  check(token: string, path?: string): Promise<{ status: number; user: unknown; groups: unknown; body: string }>;
}

const stacks: Stack[] = [];
after(async () => {
  for (const s of stacks) {
    await s.judge.stop();
    await s.op.stop();
  }
});

/** The recipe's settings against a test provider: the issuer, client and secret are the provider's. */
async function stackFor(name: string, issuerPath?: string): Promise<Stack> {
  const r = recipes.get(name);
  assert.ok(r, `no recipe ${name}`);
  const op = await startOp(issuerPath !== undefined ? { issuerPath } : {});
  const { CLIENT_SECRET_FILE: _file, ...env } = r.env;
  const judge = await startJudge(op.issuer, {
    env: { ...env, OIDC_PROVIDER: op.issuer, CLIENT_ID: op.clientId, CLIENT_SECRET: op.clientSecret },
    ...(r.yaml !== undefined ? { yaml: r.yaml } : {}),
  });
  const s: Stack = {
    op,
    judge,
    idToken: (claims) => {
      const now = secs(Date.now());
      return op.sign({ aud: op.clientId, iat: now, exp: now + 300, ...claims });
    },
    check: async (token, path = '/notebooks') => {
      const res = await request(judge.app.ports.http, path, { authorization: `Bearer ${token}`, ...API });
      return { status: res.status, user: res.headers['kubeflow-userid'], groups: res.headers['kubeflow-groups'], body: res.body };
    },
  };
  stacks.push(s);
  return s;
}

describe('provider recipes judge tokens of their provider', () => {
  it('keycloak: the user from preferred_username, group paths without "/" and the client roles', async () => {
    const s = await stackFor('keycloak');
    const claims = keycloakIdTokenClaims('alice', {
      groups: ['/team-a', '/org/platform'],
      clientRoles: { kubeflow: ['admin'], other: ['x'] },
      // Keycloak's azp is the client the token was issued to: ours.
      azp: s.op.clientId,
    });
    const r = await s.check(await s.idToken({ sub: 'f3b1c2d4-0000-4000-8000-00000000a11c', ...claims }));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.user, 'alice');
    assert.equal(r.groups, 'team-a,org/platform,admin');
  });

  it('entra: the user from preferred_username, group object ids; a token with group overage is refused', async () => {
    const s = await stackFor('entra', ENTRA_V2_PATH);
    const ok = await s.check(await s.idToken(entraClaims(MEGAN)));
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.user, 'megan@contoso.onmicrosoft.com');
    assert.equal(ok.groups, MEGAN.groups.join(','));
    const overage = await s.check(await s.idToken(entraClaims(ADELE)));
    assert.equal(overage.status, 401, overage.body);
  });

  it('auth0: the user from email, groups from the namespaced roles claim', async () => {
    const s = await stackFor('auth0');
    const sub = 'auth0|64f1c0de2a1b3c4d5e6f7a8b';
    const claims = auth0Shape(() => ['kf-admin', 'kf-user']).claims?.(sub) ?? {};
    assert.ok(AUTH0_ROLES_CLAIM in claims);
    const r = await s.check(await s.idToken({ sub, ...claims }));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.user, `${sub}@example.com`);
    assert.equal(r.groups, 'kf-admin,kf-user');
  });

  it("google: the user from email, no groups; the recipe's rule lets the Workspace domain in and keeps gmail.com out", async () => {
    const s = await stackFor('google');
    const idToken = (email: string) => s.idToken({ sub: '107862533459286', azp: s.op.clientId, ...googleIdTokenClaims(email) });
    const ok = await s.check(await idToken('carol@example.org'));
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.user, 'carol@example.org');
    assert.equal(ok.groups, '');
    assert.equal((await s.check(await idToken('dave@gmail.com'))).status, 403);
  });
});

describe("Dex as Kubeflow ships it, with Kubeflow's settings (USERID_CLAIM=email, GROUPS_CLAIM=groups)", () => {
  const SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'];
  const withGroups: DexUser = { userId: 'uid=jane,ou=people', connectorId: 'ldap', email: 'jane@example.com', name: 'Jane', groups: ['ml-team', 'admins'] };

  it("Kubeflow's static user user@example.com: the user id is the email, not Dex's encoded sub; no groups", async () => {
    const s = await stackFor('dex', DEX_ISSUER_PATH);
    assert.match(s.op.issuer, /\/dex$/);
    const claims = dexIdTokenClaims(KUBEFLOW_USER, SCOPES);
    assert.equal(claims['sub'], dexSubject('15841185641784', 'local'));
    const r = await s.check(await s.idToken(claims));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.user, 'user@example.com');
    assert.equal(r.groups, '');
  });

  it('a connector with groups: they arrive with the groups scope, and are missing without it', async () => {
    const s = stacks.find((x) => x.op.issuer.endsWith(DEX_ISSUER_PATH)) ?? (await stackFor('dex', DEX_ISSUER_PATH));
    const full = await s.check(await s.idToken(dexIdTokenClaims(withGroups, [...SCOPES, 'federated:id'])));
    assert.equal(full.status, 200, full.body);
    assert.equal(full.user, 'jane@example.com');
    assert.equal(full.groups, 'ml-team,admins');
    const noGroupsScope = await s.check(await s.idToken(dexIdTokenClaims(withGroups, ['openid', 'profile', 'email'])));
    assert.equal(noGroupsScope.status, 200, noGroupsScope.body);
    assert.equal(noGroupsScope.groups, '');
  });
});
