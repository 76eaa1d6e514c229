/**
 * A provider given by its endpoints instead of discovery (`endpoints:` of a `providers:` entry,
 * `OIDC_ENDPOINTS` for the default): browsers sign in and its bearer tokens are verified with the
 * keys at its `jwks_uri`, and its discovery document is never asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app/start.js';
import { silentLogger } from '../../src/obs/log.js';
import { accessToken, request, testConfig, untilReady } from '../helpers/app.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { opLogin } from '../helpers/op-login.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

describe('a provider with explicit endpoints', () => {
  let op: TestOp;
  let other: TestOp;
  let upstream: Upstream;
  let app: App;
  let port: number;

  before(async () => {
    port = await freePort();
    op = await startOp({
      ...opLogin({ redirectUris: [`http://b.test:${port}/authservice/oidc/b/callback`] }).options,
      clientId: 'client-b',
      clientSecret: 'secret-b-0123456789',
    });
    [other, upstream] = await Promise.all([startOp(), startUpstream()]);
    const config = testConfig(other.issuer, {
      env: { INGRESS_PORT: String(port), INGRESS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
      yaml: `
providers:
  - id: b
    issuer: ${op.issuer}
    endpoints:
      authorization_endpoint: ${op.issuer}/auth
      token_endpoint: ${op.issuer}/token
      jwks_uri: ${op.issuer}/jwks
      userinfo_endpoint: ${op.issuer}/me
    clientId: client-b
    clientSecret: secret-b-0123456789
    scopes: [openid, email]
    hosts: [b.test]
`,
    });
    app = await startApp(config, { log: silentLogger });
    await untilReady(app.readiness);
  });
  after(async () => {
    await app?.stop();
    await Promise.all([op?.stop(), other?.stop(), upstream?.close()]);
  });

  it('signs in and verifies its tokens without discovery', async () => {
    const { res } = await new HttpBrowser().follow(`http://b.test:${port}/hello`);
    assert.equal(res.status, 200, `${res.status} at ${res.url.href}`);
    assert.equal((JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['kubeflow-userid']?.[0], 'alice@example.com');
    const token = await request(port, '/api', { host: `b.test:${port}`, authorization: `Bearer ${await accessToken(op)}`, accept: 'application/json' });
    assert.equal(token.status, 200);
    assert.equal(op.discoveryRequests, 0);
    assert.ok(other.discoveryRequests > 0, 'the default provider is discovered as before');
  });
});
