/**
 * `oidc-judge oauth2-proxy` end to end: an oauth2_proxy.cfg (one upstream, so the judge fronts it on
 * http_address) plus OAUTH2_PROXY_* variables, mapped and loaded as the command does, started
 * against the development OpenID Provider, signed in with Chromium. oauth2-proxy's endpoints answer
 * with its statuses: /oauth2/auth 401 → 202, /oauth2/start 302 to the provider, the callback at
 * /oauth2/callback, /oauth2/userinfo 401 → JSON, /oauth2/sign_out 302 to `rd`; api_routes get 401
 * where a navigation would be redirected; skip_auth_routes pass unauthenticated. The command itself
 * refuses unsupported options by name before listening. Kubeflow's own cfg: kubeflow-oauth2-proxy.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startApp, type App } from '../../src/app/start.js';
import { oauth2ProxyCommand } from '../../src/compat/oauth2-proxy/command.js';
import { loadConfig } from '../../src/config/load.js';
import { startDevProvider, type DevProvider } from '../../src/demo/provider.js';
import { silentLogger } from '../../src/obs/log.js';
import { projectRoot } from '../../src/paths.js';
import { untilReady } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { send } from '../helpers/http-send.js';
import { ALICE, NAVIGATION, signIn } from '../helpers/login-stack.js';
import { freePort } from '../helpers/net.js';
import { startUpstream, type Echo, type Upstream } from '../helpers/upstream.js';
import { KUBEFLOW_CFG } from '../compat/oauth2-proxy/fixture.js';

const CLIENT_ID = 'kubeflow-oidc-authservice';
const COOKIE = 'oauth2_proxy_kubeflow';

describe('oidc-judge oauth2-proxy, end to end', () => {
  let dir: string;
  let upstream: Upstream;
  let provider: DevProvider;
  let app: App;
  let browser: Browser;
  let port: number;
  let origin: string;
  let warnings: readonly string[];
  const judgePort = (): number => app.ports.http;
  const front = (path: string, headers: Record<string, string> = {}) => send(port, path, { headers: { host: `localhost:${port}`, ...headers } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oidc-judge-o2p-'));
    upstream = await startUpstream();
    port = await freePort();
    origin = `http://localhost:${port}`;
    const secret = randomBytes(24).toString('base64url');
    provider = await startDevProvider({
      issuerHost: 'localhost',
      clients: [{ client_id: CLIENT_ID, client_secret: secret, client_name: 'oauth2-proxy e2e', redirect_uris: [`${origin}/oauth2/callback`] }],
    });
    const cfg = join(dir, 'oauth2_proxy.cfg');
    writeFileSync(
      cfg,
      [
        'provider = "oidc"',
        `oidc_issuer_url = "${provider.issuer}"`,
        'scope = "openid email profile groups"',
        'email_domains = [ "*" ]',
        `upstreams = [ "${upstream.url}" ]`,
        'skip_auth_routes = [ "^/public/" ]',
        'api_routes = [ "/api/" ]',
        'skip_jwt_bearer_tokens = true',
        'cookie_name = "oauth2_proxy_kubeflow"',
        'cookie_expire = "24h"',
        'code_challenge_method = "S256"',
        'redirect_url = "/oauth2/callback"',
        '',
      ].join('\n'),
    );
    const cmd = oauth2ProxyCommand([`--config=${cfg}`, `--http-address=127.0.0.1:${port}`], env(secret), (p) => readFileSync(p, 'utf8'));
    assert.deepEqual(cmd.errors, []);
    const loaded = loadConfig({ env: cmd.env, readFile: (p) => readFileSync(p, 'utf8') });
    warnings = [...cmd.warnings, ...loaded.warnings];
    app = await startApp(loaded.config, { log: silentLogger });
    await untilReady(app.readiness);
    browser = await launchBrowser();
  });

  /** The Deployment's variables, plus our own for a test (ports, store, deadline). */
  const env = (secret: string): Record<string, string> => ({
    OAUTH2_PROXY_CLIENT_ID: CLIENT_ID,
    OAUTH2_PROXY_CLIENT_SECRET: secret,
    OAUTH2_PROXY_COOKIE_SECRET: randomBytes(16).toString('hex'),
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    WEB_SERVER_PORT: '0',
    READINESS_PROBE_PORT: '0',
    SESSION_STORE_PATH: join(dir, 'sessions.db'),
    DRAIN_TIMEOUT: '1',
    CHECK_TIMEOUT: '30000',
  });

  after(async () => {
    await browser?.close();
    await app?.stop();
    await provider?.stop();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what it does not use', () => {
    assert.ok(warnings.some((w) => w.startsWith('OAUTH2_PROXY_COOKIE_SECRET: not used')));
  });

  it('/oauth2/auth on the judge port: 401 without a session', async () => {
    const r = await send(judgePort(), '/oauth2/auth', { headers: { 'x-original-uri': '/app', ...NAVIGATION } });
    assert.equal(r.status, 401);
  });

  it('/oauth2/start?rd= and a navigation without a session are sent to the provider with our callback', async () => {
    for (const path of ['/oauth2/start?rd=%2Fapp%2Fx', '/app/x']) {
      const r = await front(path, NAVIGATION);
      assert.equal(r.status, 302, path);
      const to = new URL(String(r.headers.location));
      assert.equal(to.origin, provider.issuer, path);
      assert.equal(to.searchParams.get('redirect_uri'), `${origin}/oauth2/callback`);
      assert.equal(to.searchParams.get('client_id'), CLIENT_ID);
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    }
  });

  it('api_routes answer 401 to a navigation; skip_auth_routes pass unauthenticated; userinfo is 401', async () => {
    assert.equal((await front('/pipeline/api/v1/runs', NAVIGATION)).status, 401);
    const pub = await front('/public/logo.svg');
    assert.equal(pub.status, 200);
    assert.equal((JSON.parse(pub.body) as Echo).url, '/public/logo.svg');
    assert.equal((await front('/oauth2/userinfo')).status, 401);
  });

  it('signs in through /oauth2/start and the callback; userinfo, /oauth2/auth 202, then sign_out', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/oauth2/start?rd=%2Fapp%2Fhello`);
      await signIn(page, ALICE, `${origin}/app/hello`);
      const echo = JSON.parse(await page.locator('body').innerText()) as Echo;
      assert.deepEqual(echo.headers['kubeflow-userid'], [ALICE.email]);

      const cookie = (await context.cookies(origin)).find((c) => c.name === COOKIE);
      assert.ok(cookie, 'the session cookie carries cookie_name');
      const withCookie = { cookie: `${COOKIE}=${cookie.value}` };

      const info = await front('/oauth2/userinfo', withCookie);
      assert.equal(info.status, 200);
      assert.equal(info.headers['cache-control'], 'no-store');
      assert.deepEqual(JSON.parse(info.body), { user: ALICE.sub, email: ALICE.email, groups: [...ALICE.groups], preferredUsername: ALICE.preferredUsername });

      // On the judge port userinfo is not answered (a 200 there reads as "allow" to Envoy): the prefix
      // is let through, to the web server the /oauth2/ route leads to.
      const judged = await send(judgePort(), '/oauth2/userinfo', { headers: withCookie });
      assert.equal(judged.status, 200);
      assert.equal(judged.body, '');

      const auth = await send(judgePort(), '/oauth2/auth', { headers: { ...withCookie, 'x-original-uri': '/app' } });
      assert.equal(auth.status, 202);
      assert.equal(auth.headers['kubeflow-userid'], ALICE.email);

      // To a skipped page: anywhere else, the provider's own session would sign the browser in again at once.
      await page.goto(`${origin}/oauth2/sign_out?rd=%2Fpublic%2Fbye`);
      await page.waitForURL(`${origin}/public/bye`);
      assert.equal((JSON.parse(await page.locator('body').innerText()) as Echo).url, '/public/bye');
      assert.equal(
        (await context.cookies(origin)).find((c) => c.name === COOKIE),
        undefined,
      );
      assert.equal((await send(judgePort(), '/oauth2/auth', { headers: withCookie })).status, 401);
    } finally {
      await context.close();
    }
  });

  it('--config-test prints the effective configuration, secrets redacted, and the warnings', () => {
    const r = spawnSync(process.execPath, [join(projectRoot, 'dist/src/cli.js'), 'oauth2-proxy', `--config=${KUBEFLOW_CFG}`, '--config-test'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        OAUTH2_PROXY_CLIENT_ID: 'kf',
        OAUTH2_PROXY_CLIENT_SECRET: 'very-secret-value',
        OAUTH2_PROXY_SERVICE_HOST: '10.0.0.1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(cfg['compatEndpoints'], 'oauth2-proxy');
    assert.equal(cfg['sessionCookieName'], COOKIE);
    assert.equal(cfg['clientSecret'], '[redacted]');
    assert.ok(!r.stdout.includes('very-secret-value') && !r.stderr.includes('very-secret-value'));
    assert.match(r.stderr, /warning: .*skip_oidc_discovery: discovery is not skipped/);
  });

  it('the command refuses unsupported options by name, before listening', () => {
    const cfg = join(dir, 'bad.cfg');
    writeFileSync(cfg, 'provider = "github"\nwhitelist_domains = [ ".example.com" ]\nemail_domains = [ "*" ]\n');
    const r = spawnSync(process.execPath, [join(projectRoot, 'dist/src/cli.js'), 'oauth2-proxy', `--config=${cfg}`, '--reverse-proxy'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        OAUTH2_PROXY_HTPASSWD_FILE: '/x',
        OAUTH2_PROXY_CLIENT_ID: 'c',
        OAUTH2_PROXY_OIDC_ISSUER_URL: 'https://idp.example',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /unsupported oauth2-proxy options \(refused rather than ignored\): whitelist_domains \(.*bad\.cfg:2\), OAUTH2_PROXY_HTPASSWD_FILE, --reverse-proxy/,
    );
    assert.match(r.stderr, /bad\.cfg:1 provider: "github" is not supported/);
  });
});
