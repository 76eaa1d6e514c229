/**
 * Kubeflow ≥ 1.9 through `oidc-judge oauth2-proxy`: Kubeflow's shipped oauth2_proxy.cfg as is
 * (`set_authorization_header = true`, `set_xauthrequest = true`, `skip_jwt_bearer_tokens` from the
 * Deployment), mapped and started as the command does, over flags only where the test's provider
 * differs from Dex (issuer, login URL, no `prompt=none`). Checks arrive at the judge port as Envoy's
 * `envoyExtAuthzHttp` sends them (upstreams = static://200); the browser signs in on the web server
 * port, which the `/oauth2/` VirtualService routes to. After the sign-in, the allow answer carries
 * what `headersToUpstreamOnAllow` passes to the upstream: `Authorization: Bearer <ID token>`, which
 * Istio's RequestAuthentication (issuer the provider, audience the client id) accepts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startApp, type App } from '../../src/app/start.js';
import { oauth2ProxyCommand } from '../../src/compat/oauth2-proxy/command.js';
import { loadConfig } from '../../src/config/load.js';
import { startDevProvider, type DevProvider } from '../../src/demo/provider.js';
import { silentLogger } from '../../src/obs/log.js';
import { untilReady } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { send } from '../helpers/http-send.js';
import { bearerToken, requestAuthentication, type IstioJwtCheck } from '../helpers/istio-jwt.js';
import { ALICE, API, NAVIGATION, signIn } from '../helpers/login-stack.js';
import { freePort } from '../helpers/net.js';
import { KUBEFLOW_CFG } from '../compat/oauth2-proxy/fixture.js';

const CLIENT_ID = 'kubeflow-oidc-authservice';
const COOKIE = 'oauth2_proxy_kubeflow';

describe("oidc-judge oauth2-proxy with Kubeflow's oauth2_proxy.cfg", () => {
  let dir: string;
  let provider: DevProvider;
  let app: App;
  let browser: Browser;
  let origin: string;
  let host: string;
  let mapped: Readonly<Record<string, string | undefined>>;
  /** Istio RequestAuthentication `dex-jwt`, pointed at the test's provider. */
  let istio: IstioJwtCheck;
  /** A check as Envoy's HTTP ext_authz sends it to the judge port. */
  const check = (path: string, headers: Record<string, string> = {}) => send(app.ports.http, path, { headers: { host, ...headers } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oidc-judge-o2p-kf-'));
    const webPort = await freePort();
    host = `localhost:${webPort}`;
    origin = `http://${host}`;
    const secret = randomBytes(24).toString('base64url');
    provider = await startDevProvider({
      issuerHost: 'localhost',
      clients: [{ client_id: CLIENT_ID, client_secret: secret, client_name: 'kubeflow e2e', redirect_uris: [`${origin}/oauth2/callback`] }],
    });
    const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string };
    const argv = [
      '--http-address=127.0.0.1:0',
      `--config=${KUBEFLOW_CFG}`,
      `--oidc-issuer-url=${provider.issuer}`,
      `--login-url=${discovery.authorization_endpoint}`,
      '--prompt=',
    ];
    const env = {
      OAUTH2_PROXY_CLIENT_ID: CLIENT_ID,
      OAUTH2_PROXY_CLIENT_SECRET: secret,
      OAUTH2_PROXY_COOKIE_SECRET: '7d16fee92f8d11b8940b081b3f8b8acb',
      OAUTH2_PROXY_COOKIE_SECURE: 'false',
      OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY: 'false',
      OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS: 'true',
      OAUTH2_PROXY_EXTRA_JWT_ISSUERS: '',
      GRPC_PORT: '0',
      WEB_SERVER_PORT: String(webPort),
      READINESS_PROBE_PORT: '0',
      SESSION_STORE_PATH: join(dir, 'sessions.db'),
      DRAIN_TIMEOUT: '1',
      CHECK_TIMEOUT: '30000',
    };
    const cmd = oauth2ProxyCommand(argv, env, (p) => readFileSync(p, 'utf8'));
    assert.deepEqual(cmd.errors, []);
    mapped = cmd.env;
    app = await startApp(loadConfig({ env: cmd.env, readFile: (p) => readFileSync(p, 'utf8') }).config, { log: silentLogger });
    await untilReady(app.readiness);
    istio = await requestAuthentication(provider.issuer, CLIENT_ID);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await provider?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers checks as Envoy needs them: 302 to the provider, 401 on api_routes, 200 on skip_auth_routes', async () => {
    const nav = await check('/jupyter/', NAVIGATION);
    assert.equal(nav.status, 302);
    assert.equal(new URL(String(nav.headers.location)).origin, provider.issuer);
    assert.equal(new URL(String(nav.headers.location)).searchParams.get('redirect_uri'), `${origin}/oauth2/callback`);
    assert.equal((await check('/pipeline/apis/v2beta1/runs', NAVIGATION)).status, 401);
    assert.equal((await check('/ml_metadata.MetadataStoreService/GetArtifacts', NAVIGATION)).status, 401);
    const skipped = await check('/dex/auth?x=1', NAVIGATION);
    assert.equal(skipped.status, 200);
    assert.equal(skipped.headers['authorization'], undefined, 'no token on a skipped path');
  });

  it('signs in on the web server port; then checks allow with the identity and the ID token that Istio verifies', async () => {
    assert.equal(mapped['FORWARD_ID_TOKEN_HEADER'], 'Authorization', 'set_authorization_header = true, as Kubeflow ships it');
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/oauth2/start?rd=%2Foauth2%2Fuserinfo`);
      await signIn(page, ALICE, `${origin}/oauth2/userinfo`);
      assert.equal((JSON.parse(await page.locator('body').innerText()) as { email: string }).email, ALICE.email);
      const cookie = (await context.cookies(origin)).find((c) => c.name === COOKIE);
      assert.ok(cookie);
      assert.equal(cookie.secure, false, 'OAUTH2_PROXY_COOKIE_SECURE=false, as Kubeflow sets it');
      const withCookie = `${COOKIE}=${cookie.value}`;

      const allowed = await check('/jupyter/', { ...NAVIGATION, cookie: withCookie });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.headers['kubeflow-userid'], ALICE.email);
      assert.equal(allowed.headers['x-auth-request-email'], ALICE.email, 'set_xauthrequest = true');
      assert.match(String(allowed.headers['x-envoy-auth-headers-to-remove']), /cookie/);
      // What RequestAuthentication `dex-jwt` checks at the gateway, and the claims it maps to kubeflow-userid / -groups.
      const idToken = bearerToken(allowed.headers['authorization']);
      const { payload } = await istio(idToken);
      assert.equal(payload['email'], ALICE.email);
      assert.deepEqual(payload['groups'], [...ALICE.groups]);

      // A client's own Authorization (Envoy includes it in the check) does not change what goes upstream.
      const forged = await check('/notebook/ns/x/api/kernels', { ...API, cookie: withCookie, authorization: 'Bearer forged-by-the-client' });
      assert.equal(forged.status, 200);
      assert.equal(bearerToken(forged.headers['authorization']), idToken);
      // The ID token alone, as a bearer (skip_jwt_bearer_tokens): allowed, and passed on for Istio.
      const asBearer = await check('/pipeline/apis/v2beta1/runs', { ...API, authorization: `Bearer ${idToken}` });
      assert.equal(asBearer.status, 200);
      assert.equal(asBearer.headers['kubeflow-userid'], ALICE.email);
      assert.equal(bearerToken(asBearer.headers['authorization']), idToken);
    } finally {
      await context.close();
    }
  });
});
