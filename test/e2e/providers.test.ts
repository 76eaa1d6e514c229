/**
 * Several providers in one judge (`providers:`), with three real OpenID Providers: `a` serves host
 * a.test, `b` serves b.test (and *.b.test), both serve shared.test (the sign-in chooser), and the
 * environment's provider (`default`) everything else. Browsers sign in through the ingress
 * forwarder; Envoy's checks come over gRPC. Sessions, bearer tokens, access rules and back-channel
 * logouts stay with their provider.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app/start.js';
import { silentLogger } from '../../src/obs/log.js';
import { accessToken, JudgeClient, metric, optionValue, request, testConfig, untilReady } from '../helpers/app.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { opLogin } from '../helpers/op-login.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** A provider's own callback (its default `redirectUrl`). */
const callback = (id: string): string => `/authservice/oidc/${id}/callback`;
const API = { accept: 'application/json' } as const;
const LOGOUT_EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };

async function provider(port: number, name: string): Promise<TestOp> {
  const login = opLogin({ redirectUris: [`http://${name}.test:${port}${callback(name)}`, `http://shared.test:${port}${callback(name)}`] });
  return startOp({ ...login.options, clientId: `client-${name}`, clientSecret: `secret-${name}-0123456789` });
}

function providersYaml(a: string, b: string, more = ''): string {
  return `
providers:${more}
  - id: a
    issuer: ${a}
    clientId: client-a
    clientSecret: secret-a-0123456789
    scopes: [openid, email, profile]
    clientName: Team A
    hosts: [a.test, shared.test]
  - id: b
    issuer: ${b}
    clientId: client-b
    clientSecret: secret-b-0123456789
    scopes: [openid, email, profile]
    clientName: Partner B
    hosts: [b.test, "*.b.test", shared.test]
authzRules:
  - provider: b
    match: { path: { prefix: /admin } }
    allow: { users: [nobody@example.com] }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;
}

/** The user the upstream saw, from the echo body. */
const userSeen = (body: string): string | undefined => (JSON.parse(body) as { headers: Record<string, string[]> }).headers['kubeflow-userid']?.[0];

describe('several providers: chosen by host, isolated from one another', () => {
  let opA: TestOp;
  let opB: TestOp;
  let opDefault: TestOp;
  let upstream: Upstream;
  let app: App;
  let grpc: JudgeClient;
  let port: number;
  const url = (host: string, path: string): string => `http://${host}:${port}${path}`;

  before(async () => {
    port = await freePort();
    [opA, opB, opDefault, upstream] = await Promise.all([provider(port, 'a'), provider(port, 'b'), startOp(), startUpstream()]);
    const config = testConfig(opDefault.issuer, {
      env: { INGRESS_PORT: String(port), INGRESS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
      // `ap`: a.test's /partner, signed in at the default's provider (a path-scoped provider).
      yaml: providersYaml(
        opA.issuer,
        opB.issuer,
        `
  - id: ap
    issuer: ${opDefault.issuer}
    clientId: judge-client
    clientSecret: judge-client-secret
    groupsAllowlist: [devs]
    hosts: [a.test]
    paths: [/partner]`,
      ),
    });
    app = await startApp(config, { log: silentLogger });
    grpc = new JudgeClient(app.ports.grpc);
    await untilReady(app.readiness);
  });
  after(async () => {
    grpc?.close();
    await app?.stop();
    await Promise.all([opA?.stop(), opB?.stop(), opDefault?.stop(), upstream?.close()]);
  });

  /** Signs in through the forwarder at `host` and returns the browser and its session cookie. */
  async function signedIn(host: string, cookie: string): Promise<{ browser: HttpBrowser; id: string }> {
    const browser = new HttpBrowser();
    const { res } = await browser.follow(url(host, '/hello'));
    assert.equal(res.status, 200, `${host}: ${res.status} at ${res.url.href}`);
    assert.equal(userSeen(res.body), 'alice@example.com');
    const id = browser.cookie(host, cookie);
    assert.ok(id, `no ${cookie} on ${host}: ${JSON.stringify(browser.cookies(host))}`);
    return { browser, id };
  }

  it('signs in at each host’s own provider, each session in its own cookie', async () => {
    const first = await new HttpBrowser().request(url('a.test', '/x'));
    assert.equal(first.status, 302);
    assert.equal(first.location?.origin, new URL(opA.issuer).origin);
    assert.equal(first.location?.searchParams.get('client_id'), 'client-a');
    const toB = await new HttpBrowser().request(url('www.b.test', '/x'));
    assert.equal(toB.location?.origin, new URL(opB.issuer).origin);
    const toDefault = await new HttpBrowser().request(url('other.test', '/x'));
    assert.equal(toDefault.location?.origin, new URL(opDefault.issuer).origin);
    await signedIn('a.test', 'authservice_session_a');
    await signedIn('b.test', 'authservice_session_b');
  });

  it('refuses a session from A on B, whichever cookie carries it (forwarder and gRPC)', async () => {
    const { id } = await signedIn('a.test', 'authservice_session_a');
    for (const name of ['authservice_session_b', 'authservice_session_a', 'authservice_session']) {
      const res = await request(port, '/hello', { host: `b.test:${port}`, cookie: `${name}=${id}`, ...API });
      assert.equal(res.status, 401, name);
      const checked = await grpc.check('/hello', { cookie: `${name}=${id}`, ...API }, { host: 'b.test' });
      assert.equal(checked.denied_response?.status?.code, 401, `gRPC ${name}`);
    }
    const nav = await request(port, '/hello', {
      host: `b.test:${port}`,
      cookie: `authservice_session_b=${id}`,
      accept: 'text/html',
      'sec-fetch-mode': 'navigate',
    });
    assert.equal(nav.status, 302);
    assert.equal(new URL(nav.headers.location!).origin, new URL(opB.issuer).origin);
    // On its own host it still vouches, over gRPC too.
    const ok = await grpc.check('/hello', { cookie: `authservice_session_a=${id}` }, { host: 'a.test' });
    assert.equal(ok.status.code, 0);
    assert.equal(optionValue(ok.ok_response?.headers, 'kubeflow-userid'), 'alice@example.com');
  });

  it('matches bearer tokens to their provider by issuer: B’s token is refused on A’s hosts', async () => {
    const tokenB = await accessToken(opB);
    const onA = await grpc.check('/api', { authorization: `Bearer ${tokenB}`, ...API }, { host: 'a.test' });
    assert.equal(onA.denied_response?.status?.code, 401);
    const onB = await grpc.check('/api', { authorization: `Bearer ${tokenB}` }, { host: 'b.test' });
    assert.equal(onB.status.code, 0);
    const tokenA = await accessToken(opA);
    const aOnA = await request(port, '/api', { host: `a.test:${port}`, authorization: `Bearer ${tokenA}`, ...API });
    assert.equal(aOnA.status, 200);
    const aOnB = await request(port, '/api', { host: `b.test:${port}`, authorization: `Bearer ${tokenA}`, ...API });
    assert.equal(aOnB.status, 401);
  });

  it('chooses by path within a host: the most specific place wins', async () => {
    const fromDefault = await accessToken(opDefault);
    assert.equal((await grpc.check('/partner/x', { authorization: `Bearer ${fromDefault}` }, { host: 'a.test' })).status.code, 0);
    assert.equal((await grpc.check('/other', { authorization: `Bearer ${fromDefault}`, ...API }, { host: 'a.test' })).denied_response?.status?.code, 401);
    const fromA = await accessToken(opA);
    assert.equal((await grpc.check('/partner/x', { authorization: `Bearer ${fromA}`, ...API }, { host: 'a.test' })).denied_response?.status?.code, 401);
    const nav = await new HttpBrowser().request(url('a.test', '/partner/x'));
    assert.equal(nav.location?.origin, new URL(opDefault.issuer).origin);
    assert.equal(nav.location?.searchParams.get('redirect_uri'), url('a.test', callback('ap')));
  });

  it('logs out of the host’s provider only', async () => {
    const a = await signedIn('a.test', 'authservice_session_a');
    const b = await signedIn('b.test', 'authservice_session_b');
    const out = await b.browser.request(url('b.test', '/authservice/logout'), {
      method: 'POST',
      headers: { ...API, origin: `http://b.test:${port}`, 'sec-fetch-site': 'same-origin' },
    });
    // A form's POST (the browser's navigation) is answered 303 to the after-logout page.
    assert.equal(out.status, 303, out.body);
    assert.equal((await request(port, '/hello', { host: `b.test:${port}`, cookie: `authservice_session_b=${b.id}`, ...API })).status, 401);
    assert.equal((await a.browser.request(url('a.test', '/hello'), { headers: API })).status, 200);
  });

  it('applies access rules that name a provider to that provider’s checks only', async () => {
    const onB = await grpc.check('/admin', { authorization: `Bearer ${await accessToken(opB)}`, ...API }, { host: 'b.test' });
    assert.equal(onB.denied_response?.status?.code, 403);
    const onA = await grpc.check('/admin', { authorization: `Bearer ${await accessToken(opA)}`, ...API }, { host: 'a.test' });
    assert.equal(onA.status.code, 0);
  });

  it('keeps a provider’s own GROUPS_ALLOWLIST (groupsAllowlist) to its checks', async () => {
    // The same token: refused on ap's place (groupsAllowlist [devs]), allowed on the default's (GROUPS_ALLOWLIST *).
    const guest = { authorization: `Bearer ${await accessToken(opDefault, 'carol@example.com', ['guests'])}`, ...API };
    assert.equal((await grpc.check('/partner/x', guest, { host: 'a.test' })).denied_response?.status?.code, 403);
    assert.equal((await grpc.check('/x', guest, { host: 'other.test' })).status.code, 0);
  });

  it('ends only B’s sessions on a back-channel logout from B', async () => {
    const a = await signedIn('a.test', 'authservice_session_a');
    const b = await signedIn('b.test', 'authservice_session_b');
    const now = Math.floor(Date.now() / 1000);
    const token = await opB.sign({ aud: 'client-b', sub: 'alice', iat: now, exp: now + 120, jti: `jti-${now}-${Math.random()}`, events: LOGOUT_EVENT });
    const res = await request(
      app.ports.web,
      '/authservice/oidc/backchannel-logout',
      {
        host: '127.0.0.1',
        'content-type': 'application/x-www-form-urlencoded',
      },
      { method: 'POST', body: new URLSearchParams({ logout_token: token }).toString() },
    );
    assert.equal(res.status, 200, res.body);
    const bAfter = await b.browser.request(url('b.test', '/hello'), { headers: API });
    assert.equal(bAfter.status, 401);
    const aAfter = await a.browser.request(url('a.test', '/hello'), { headers: API });
    assert.equal(aAfter.status, 200);
  });

  it('shows the chooser on a host several providers serve, starts one with ?provider= and remembers it', async () => {
    const api = await request(port, '/page', { host: `shared.test:${port}`, ...API });
    assert.equal(api.status, 401);
    assert.deepEqual((JSON.parse(api.body) as { providers: string[] }).providers, ['a', 'b']);
    const browser = new HttpBrowser();
    const page = await browser.request(url('shared.test', '/page?q=1'));
    assert.equal(page.status, 401);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /Sign in with Partner B/);
    const links = [...page.body.matchAll(/href="([^"]*login\?provider=[^"]*)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
    assert.equal(links.length, 2);
    const toB = links.find((l) => l.includes('provider=b'))!;
    const { res } = await browser.follow(url('shared.test', toB));
    assert.equal(res.status, 200, `${res.status} at ${res.url.href}`);
    assert.equal(res.url.pathname + res.url.search, '/page?q=1');
    assert.equal(userSeen(res.body), 'alice@example.com');
    assert.equal(browser.cookie('shared.test', 'authservice_session-provider'), 'b');
    // Remembered: the next check on the host is B's (its session vouches, over gRPC too).
    const again = await browser.request(url('shared.test', '/other'), { headers: API });
    assert.equal(again.status, 200);
    const cookie = `authservice_session-provider=b; authservice_session_b=${browser.cookie('shared.test', 'authservice_session_b')}`;
    assert.equal((await grpc.check('/other', { cookie }, { host: 'shared.test' })).status.code, 0);
    // The judge's cookies, the choice included, never reach the upstream.
    assert.doesNotMatch(JSON.stringify(JSON.parse(again.body).headers), /authservice_session/);
  });

  it('shows the chooser on the login path too (nginx’s unencoded rd kept whole)', async () => {
    const back = `http://shared.test:${port}/deep?a=1&b=2`;
    const page = await new HttpBrowser().request(url('shared.test', `/authservice/login?rd=${back}`));
    assert.equal(page.status, 401);
    assert.ok(page.body.includes(`provider=a&amp;rd=${encodeURIComponent(back)}`), page.body);
  });

  it('refuses ?provider= for a provider that does not serve the host', async () => {
    const res = await request(port, '/authservice/login?provider=b', { host: `a.test:${port}` });
    assert.equal(res.status, 400);
    const none = await request(port, '/authservice/login?provider=zzz', { host: `shared.test:${port}` });
    assert.equal(none.status, 400);
  });

  it('shows each host’s provider’s pages (client name, theme)', async () => {
    const onB = await new HttpBrowser().request(url('b.test', '/authservice/site/after_logout'));
    assert.equal(onB.status, 200);
    assert.match(onB.body, /logged out from Partner B/);
    const elsewhere = await new HttpBrowser().request(url('other.test', '/authservice/site/after_logout'));
    assert.match(elsewhere.body, /logged out from AuthService/);
  });

  it('counts checks per provider', async () => {
    await request(port, '/x', { host: `a.test:${port}`, ...API });
    assert.ok((await metric(app.ports.health, 'oidc_judge_provider_checks_total', { provider: 'a' })) >= 1);
    assert.equal(await metric(app.ports.health, 'oidc_judge_provider_up', { provider: 'b' }), 1);
  });
});

describe('several providers: one provider down', () => {
  it('answers 503 on the down provider’s hosts while the other keeps serving and signing in', async () => {
    const port = await freePort();
    const [opA, opB, upstream] = await Promise.all([provider(port, 'a'), provider(port, 'b'), startUpstream()]);
    await opA.stop();
    const config = testConfig(opB.issuer, {
      env: { INGRESS_PORT: String(port), INGRESS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
      yaml: providersYaml(opA.issuer, opB.issuer),
    });
    const app = await startApp(config, { log: silentLogger });
    try {
      await untilReady(app.readiness);
      const onA = await new HttpBrowser().request(`http://a.test:${port}/hello`);
      assert.equal(onA.status, 503);
      const tokenOnA = await request(port, '/api', { host: `a.test:${port}`, authorization: `Bearer ${await accessToken(opA)}`, ...API });
      assert.equal(tokenOnA.status, 503);
      const browser = new HttpBrowser();
      const { res } = await browser.follow(`http://b.test:${port}/hello`);
      assert.equal(res.status, 200);
      assert.equal(userSeen(res.body), 'alice@example.com');
      assert.equal(await metric(app.ports.health, 'oidc_judge_provider_up', { provider: 'a' }), 0);
      assert.equal((await request(app.ports.health, '/readyz', { host: '127.0.0.1' })).status, 200);
    } finally {
      await app.stop();
      await Promise.all([opB.stop(), upstream.close()]);
    }
  });
});
