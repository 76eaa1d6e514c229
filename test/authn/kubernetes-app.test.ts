/**
 * Kubernetes service-account tokens through the assembled service (HTTP judge, real OpenID
 * Provider) with credentials from a kubeconfig pointing at the Kubernetes API double.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app/start.js';
import { accessToken, AUDIENCE, request, startJudge, testConfig, type Judged } from '../helpers/app.js';
import { capturingLogger } from '../helpers/bearer.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' };

describe('Kubernetes service-account tokens in the assembled service', () => {
  let op: TestOp;
  let api: KubeApi;
  let judge: Judged;
  let dir: string;
  const check = (token: string): ReturnType<typeof request> => request(judge.app.ports.http, '/check/api/things', { authorization: `Bearer ${token}`, ...API });

  before(async () => {
    op = await startOp();
    api = await startKubeApi();
    dir = mkdtempSync(join(tmpdir(), 'judge-kubeconfig-'));
    writeFileSync(
      join(dir, 'config'),
      `apiVersion: v1
kind: Config
current-context: test
contexts: [{ name: test, context: { cluster: double, user: judge } }]
clusters: [{ name: double, cluster: { server: "${api.url}", certificate-authority: ${api.caFile} } }]
users: [{ name: judge, user: { tokenFile: ${join(api.serviceAccountDir, 'token')} } }]
`,
    );
    judge = await startJudge(op.issuer, { env: { KUBERNETES_AUTHN_ENABLED: 'true', KUBECONFIG: join(dir, 'config'), HTTP_CHECK_PATH_PREFIX: '/check' } });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a valid token → 200 with the service account as user and its groups', async () => {
    const token = await api.issueToken({ namespace: 'kubeflow', name: 'ml-pipeline', audiences: [AUDIENCE] });
    const r = await check(token);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['kubeflow-userid'], 'system:serviceaccount:kubeflow:ml-pipeline');
    assert.equal(r.headers['kubeflow-groups'], 'system:serviceaccounts,system:serviceaccounts:kubeflow,system:authenticated');
    assert.equal(r.headers['auth-method'], 'header');
    const seen = api.requests.at(-1)!;
    assert.deepEqual((seen.body as { spec: unknown }).spec, { token, audiences: [AUDIENCE] });
    assert.equal(seen.bearer, api.token);
  });

  it('an expired token → 401; a token for another audience → 401 as no authenticator accepts it', async () => {
    const expired = await api.issueToken({ audiences: [AUDIENCE], expiresInSeconds: -5 });
    const r = await check(expired);
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /invalid_token/);
    const other = await api.issueToken({ audiences: ['vault'] });
    assert.equal((await check(other)).status, 401);
  });

  it('an OIDC access token is not reviewed and still authenticates', async () => {
    const n = api.requests.length;
    const r = await check(await accessToken(op, 'alice@example.com', ['devs']));
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(api.requests.length, n);
  });

  it('API server down → 503 for a service-account token', async () => {
    const token = await api.issueToken({ audiences: [AUDIENCE], name: 'late' });
    await api.close();
    const r = await check(token);
    assert.equal(r.status, 503, r.body);
  });
});

describe('Kubernetes service-account authenticator setup', () => {
  it('neither kubeconfig nor cluster: the service starts, the authenticator is off, one INFO line says so', async () => {
    const { log, lines } = capturingLogger('INFO');
    const config = testConfig('https://idp.invalid', { env: { KUBERNETES_AUTHN_ENABLED: 'true' } });
    const app = await startApp(config, { log });
    await app.stop();
    const off = lines.filter((l) => l.includes('Kubernetes service-account tokens'));
    assert.equal(off.length, 1);
    assert.match(off[0]!, /"level":"info"/);
    assert.match(off[0]!, /off .*KUBERNETES_SERVICE_HOST is not set/);
  });

  it('a broken kubeconfig stops the start with an error naming KUBECONFIG and the file', async () => {
    const config = testConfig('https://idp.invalid', { env: { KUBERNETES_AUTHN_ENABLED: 'true', KUBECONFIG: '/nonexistent/kubeconfig' } });
    const { log } = capturingLogger('INFO');
    await assert.rejects(startApp(config, { log }), /KUBECONFIG: kubeconfig \/nonexistent\/kubeconfig: cannot read it/);
  });
});
