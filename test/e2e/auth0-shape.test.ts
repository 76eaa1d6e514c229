/**
 * An Auth0-shaped provider (test/helpers/shapes-auth0.ts): the access token is a JWT for the API
 * only when the login asks for it with `audience` — which `OIDC_AUTH_PARAMS` adds to every login —
 * and opaque otherwise; roles come in a namespaced claim that `GROUPS_CLAIM` reads by its exact
 * name. Also: `OIDC_AUTH_URL`'s own query is kept on the authorization request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { HttpBrowser, type Response } from '../helpers/http-browser.js';
import { CALLBACK_PATH, startOpStack, type OpStack } from '../helpers/op-stack.js';
import { AUTH0_API, AUTH0_ROLES_CLAIM, auth0Shape } from '../helpers/shapes-auth0.js';

const SESSION = 'authservice_session';

/** Signs in from a navigation to `path`; resolves with the provider's authorization URL and the answer back at `path`. */
async function signIn(stack: OpStack, b: HttpBrowser, path: string): Promise<{ auth: URL; back: Response }> {
  const start = await b.request(stack.url(path));
  assert.equal(start.status, 302);
  const auth = start.location!;
  const { stoppedAt } = await b.follow(auth, (u) => u.pathname === CALLBACK_PATH);
  assert.ok(stoppedAt, 'the provider came back to the callback');
  const cb = await b.request(stoppedAt);
  assert.equal(cb.status, 302, cb.body.slice(0, 200));
  const back = await b.request(cb.location!);
  return { auth, back };
}

async function sessionOf(stack: OpStack, b: HttpBrowser) {
  const id = b.cookie('localhost', SESSION);
  assert.ok(id, 'a session cookie');
  const s = await stack.app.sessions.load(id, { fresh: true });
  assert.ok(s, 'the session is stored');
  return s;
}

const shape = auth0Shape(() => ['admin', 'reader']);

describe('Auth0 shape: OIDC_AUTH_PARAMS=audience=… gets a JWT access token for the API', () => {
  let stack: OpStack;
  before(async () => {
    // Auth0 also accepts the API's token at /userinfo (its `aud` names both); oidc-provider serves
    // userinfo to its own tokens only, so the claims come from the ID token here.
    stack = await startOpStack({
      login: shape,
      env: { OIDC_AUTH_PARAMS: `audience=${AUTH0_API}`, GROUPS_CLAIM: AUTH0_ROLES_CLAIM, CLAIMS_SOURCE: 'id_token' },
    });
  });
  after(() => stack.stop());

  it('the login carries the audience; the session holds a JWT for that API; roles from the namespaced claim', async () => {
    const b = new HttpBrowser();
    const { auth, back } = await signIn(stack, b, '/app');
    assert.equal(auth.searchParams.get('audience'), AUTH0_API);
    assert.equal(stack.login.requests.at(-1)?.get('audience'), AUTH0_API, 'the provider received it');
    assert.equal(back.status, 200);
    const s = await sessionOf(stack, b);
    const claims = decodeJwt(s.accessToken!);
    assert.ok([claims.aud].flat().includes(AUTH0_API), `aud ${String(claims.aud)}`);
    assert.deepEqual(s.groups, ['admin', 'reader']);
    const echo = JSON.parse(back.body) as { headers: Record<string, string[]> };
    assert.deepEqual(echo.headers['kubeflow-groups'], ['admin,reader']);
  });

  it('GET <prefix>/login passes login_hint and domain_hint on, next to the configured parameters', async () => {
    const b = new HttpBrowser();
    const r = await b.request(stack.url('/authservice/login?login_hint=alice%40example.com&domain_hint=example.com&rd=/app'));
    assert.equal(r.status, 302);
    const auth = r.location!;
    assert.equal(auth.searchParams.get('login_hint'), 'alice@example.com');
    assert.equal(auth.searchParams.get('domain_hint'), 'example.com');
    assert.equal(auth.searchParams.get('audience'), AUTH0_API);
    const bad = (await b.request(stack.url(`/authservice/login?login_hint=${'x'.repeat(300)}`))).location!;
    assert.equal(bad.searchParams.get('login_hint'), null, 'too long: dropped');
  });
});

describe('Auth0 shape without an audience: an opaque access token; OIDC_AUTH_URL keeps its query', () => {
  let stack: OpStack;
  before(async () => {
    stack = await startOpStack({ login: shape, env: (issuer) => ({ OIDC_AUTH_URL: `${issuer}/auth?p=b2c_1_signin` }) });
  });
  after(() => stack.stop());

  it('no audience asked, an opaque access token; the configured query comes first, the protocol parameters after it', async () => {
    const b = new HttpBrowser();
    const { auth, back } = await signIn(stack, b, '/app');
    assert.equal(auth.searchParams.get('audience'), null);
    assert.match(auth.search, /^\?p=b2c_1_signin&redirect_uri=/);
    for (const p of ['redirect_uri', 'scope', 'response_type', 'state', 'nonce', 'code_challenge']) assert.equal(auth.searchParams.getAll(p).length, 1, p);
    assert.equal(back.status, 200);
    const s = await sessionOf(stack, b);
    assert.equal(s.accessToken!.split('.').length, 1, 'not a JWT');
    assert.deepEqual(s.claims[AUTH0_ROLES_CLAIM], ['admin', 'reader'], 'the namespaced claim kept under its name');
  });
});
