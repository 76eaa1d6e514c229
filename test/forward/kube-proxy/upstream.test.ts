import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubeCredentialsFor } from '../../../src/forward/kube-proxy/upstream.js';
import { send } from '../../helpers/http-send.js';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.js';
import { startKubeStack, CLIENT_ID } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';

let op: TestOp;
let api: KubeApi;
let dir: string;
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
  api = await startKubeApi();
  dir = mkdtempSync(join(tmpdir(), 'oidc-judge-kube-upstream-'));
});
after(async () => {
  await api.close();
  await op.stop();
  rmSync(dir, { recursive: true, force: true });
});

const io = { readFile: (p: string): string => readFileSync(p, 'utf8') };
const NO_DEFAULTS = { kubeServer: undefined, kubeCaFile: undefined, kubeTokenFile: undefined };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kube proxy: its own Kubernetes credentials', () => {
  it('uses the in-cluster service account (host, port, token and CA files) by default', async () => {
    const c = kubeCredentialsFor(
      {
        serviceHost: '127.0.0.1',
        servicePort: String(api.port),
        serviceAccountDir: api.serviceAccountDir,
        insecureSkipTlsVerify: false,
        qps: 0,
        burst: 10,
        timeoutSeconds: 10,
      },
      io,
    );
    assert.equal(c.source, 'in-cluster');
    assert.equal(c.server, `https://127.0.0.1:${api.port}`);
    assert.equal(c.ca, api.caPem);
    assert.equal(c.authorization(), `Bearer ${api.token}`);
    // As in a pod: the service's address from the environment the runtime passes in.
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) };
    const s = await startKubeStack({ op, existingApi: api, env, options: { ...NO_DEFAULTS, serviceAccountDir: api.serviceAccountDir } });
    try {
      assert.equal((await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${await s.token()}` } })).status, 200);
      assert.equal(s.seen.at(-1)!.bearer, api.token);
    } finally {
      await s.close();
    }
  });

  it("falls back to the API service's cluster name in a pod whose service host and port were not passed in", () => {
    const c = kubeCredentialsFor({ serviceAccountDir: api.serviceAccountDir, insecureSkipTlsVerify: false, qps: 0, burst: 10, timeoutSeconds: 10 }, io);
    assert.equal(c.source, 'in-cluster');
    assert.equal(c.server, 'https://kubernetes.default.svc');
    assert.equal(c.ca, api.caPem);
    assert.equal(c.authorization(), `Bearer ${api.token}`);
  });

  it('says what is missing when there are no credentials at all, and names unreadable override files', () => {
    const none = { insecureSkipTlsVerify: false, qps: 0, burst: 10, timeoutSeconds: 10, serviceAccountDir: join(dir, 'nothing') };
    assert.throws(() => kubeCredentialsFor(none, io), /no Kubernetes credentials/);
    assert.throws(
      () => kubeCredentialsFor({ ...none, server: api.url, caFile: join(dir, 'missing.pem') }, io),
      /^Error: kubeCaFile: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });

  it("presents a kubeconfig's client certificate when impersonating, and never on the passthrough path", async () => {
    const { cert, key } = await api.makeClientCert('system:serviceaccount:oidc-judge:proxy');
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: c',
        'contexts: [{name: c, context: {cluster: k, user: u}}]',
        `clusters: [{name: k, cluster: {server: "${api.url}", certificate-authority: "${api.caFile}"}}]`,
        `users: [{name: u, user: {client-certificate-data: ${b64(cert)}, client-key-data: ${b64(key)}}}]`,
      ].join('\n'),
    );
    const s = await startKubeStack({ op, existingApi: api, options: { ...NO_DEFAULTS, kubeconfig, tokenPassthrough: true } });
    try {
      assert.equal((await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${await s.token()}` } })).status, 200);
      const impersonated = s.seen.at(-1)!;
      assert.equal(impersonated.clientCertCN, 'system:serviceaccount:oidc-judge:proxy');
      assert.equal(impersonated.bearer, undefined);
      assert.deepEqual(impersonated.distinct['impersonate-user'], ['alice@example.com']);
      const sa = await api.issueToken({ namespace: 'ci', name: 'bot' });
      assert.equal((await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${sa}` } })).status, 200);
      const passed = s.seen.at(-1)!;
      assert.equal(passed.clientCertCN, undefined);
      assert.equal(passed.bearer, sa);
      // The TokenReview itself went out with the proxy's certificate.
      assert.equal(api.requests.find((r) => r.path.endsWith('/tokenreviews'))!.clientCertCN, 'system:serviceaccount:oidc-judge:proxy');
    } finally {
      await s.close();
    }
  });
});
