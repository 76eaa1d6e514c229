/**
 * A browser sign-in (plain HTTP browser, authorization-code flow) at a provider shaped like Dex as
 * Kubeflow ships it (test/helpers/shapes-dex.ts: issuer `<origin>/dex`, `sub` the encoded
 * user and connector ids, `groups` only with the `groups` scope), with the Dex recipe of
 * docs/providers.md — Kubeflow's settings, USERID_CLAIM=email and GROUPS_CLAIM=groups. The
 * upstream receives Kubeflow's static user by email, and a connector user's groups.
 * The recipe's OIDC_AUTH_URL (`/dex/auth`, through Kubeflow's gateway) is left out: here the
 * browser reaches the provider directly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpBrowser } from '../helpers/http-browser.js';
import { CALLBACK_PATH, startOpStack, type OpStack } from '../helpers/op-stack.js';
import { readRecipes } from '../helpers/recipes.js';
import { DEX_ISSUER_PATH, type DexUser, dexShape, dexSubject, KUBEFLOW_USER } from '../helpers/shapes-dex.js';

const JANE: DexUser = { userId: 'uid=jane,ou=people', connectorId: 'ldap', email: 'jane@example.com', name: 'Jane', groups: ['ml-team', 'admins'] };

/** Signs `user` in from a navigation to `path`; resolves with the headers the upstream received. */
async function signIn(stack: OpStack, user: DexUser, path: string): Promise<Record<string, string[]>> {
  stack.login.next = { sub: dexSubject(user.userId, user.connectorId) };
  const b = new HttpBrowser();
  const start = await b.request(stack.url(path));
  assert.equal(start.status, 302);
  const { stoppedAt } = await b.follow(start.location!, (u) => u.pathname === CALLBACK_PATH);
  assert.ok(stoppedAt, 'the provider came back to the callback');
  const cb = await b.request(stoppedAt);
  assert.equal(cb.status, 302, cb.body.slice(0, 200));
  const back = await b.request(cb.location!);
  assert.equal(back.status, 200, back.body.slice(0, 200));
  return (JSON.parse(back.body) as { headers: Record<string, string[]> }).headers;
}

describe("sign-in at a Dex-shaped provider with Kubeflow's settings (the dex recipe)", () => {
  let stack: OpStack;
  let scopes: string[] = [];
  before(async () => {
    const { CLIENT_SECRET_FILE: _f, CLIENT_ID: _c, OIDC_PROVIDER: _p, OIDC_AUTH_URL: _a, ...env } = readRecipes().get('dex')!.env;
    scopes = env['OIDC_SCOPES']!.split(',');
    stack = await startOpStack({ issuerPath: DEX_ISSUER_PATH, login: dexShape([KUBEFLOW_USER, JANE]), env });
  });
  after(() => stack?.stop());

  it("asks for the groups scope; Kubeflow's static user arrives as user@example.com (not Dex's encoded sub), without groups", async () => {
    assert.match(stack.op.issuer, /\/dex$/);
    assert.ok(scopes.includes('groups'));
    const headers = await signIn(stack, KUBEFLOW_USER, '/notebooks');
    assert.deepEqual(stack.login.requests.at(-1)?.get('scope')?.split(' ').sort(), [...scopes].sort());
    assert.deepEqual(headers['kubeflow-userid'], ['user@example.com']);
    assert.deepEqual(headers['kubeflow-groups'], ['']);
  });

  it("a connector user's groups reach the upstream", async () => {
    const headers = await signIn(stack, JANE, '/pipelines');
    assert.deepEqual(headers['kubeflow-userid'], ['jane@example.com']);
    assert.deepEqual(headers['kubeflow-groups'], ['ml-team,admins']);
  });
});
