import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, HttpClientError } from '../../src/kube/client.js';
import { fileCredentials, loadKubeCredentials, type KubeCredentials } from '../../src/kube/credentials.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';

const readFile = (p: string): string => readFileSync(p, 'utf8');
const statMtimeMs = (p: string): number | undefined => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};
const review = (token: string): unknown => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['a'] } });

describe('KubeClient against the Kubernetes API double (HTTPS)', () => {
  let api: KubeApi;
  let inCluster: () => KubeCredentials;
  const port = (): string => new URL(api.url).port;

  before(async () => {
    api = await startKubeApi();
    inCluster = () => loadKubeCredentials({ serviceHost: '127.0.0.1', servicePort: port(), serviceAccountDir: api.serviceAccountDir, readFile, statMtimeMs })!;
  });
  after(() => api.close());

  it('posts JSON with the in-cluster token and CA, and returns the parsed answer', async () => {
    const client = new KubeClient(inCluster());
    const subject = await api.issueToken({ audiences: ['a'] });
    const res = await client.post('/apis/authentication.k8s.io/v1/tokenreviews', review(subject), { timeoutMs: 5000 });
    assert.equal(res.status, 201);
    assert.equal((res.json as { status: { authenticated: boolean } }).status.authenticated, true);
    const seen = api.requests.at(-1)!;
    assert.equal(seen.bearer, api.token);
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.deepEqual((seen.body as { spec: unknown }).spec, { token: subject, audiences: ['a'] });
    client.close();
  });

  it('re-reads a rotated token file (mtime changed) before the next call', async () => {
    const client = new KubeClient(inCluster());
    await client.get('/openid/v1/jwks');
    const before = api.token;
    const next = await api.issueToken({ namespace: 'oidc-judge', name: 'oidc-judge' });
    api.setToken(next);
    const res = await client.get('/openid/v1/jwks');
    assert.equal(res.status, 200);
    assert.notEqual(before, next);
    assert.equal(api.requests.at(-1)!.bearer, next);
    client.close();
  });

  it('on 401 re-reads the token once and retries when it changed (rotation missed by mtime)', async () => {
    // A stat that never sees the change: only the 401 makes the client read the file again.
    const creds = fileCredentials(
      { source: 'in-cluster', server: api.url, tokenPath: join(api.serviceAccountDir, 'token'), ca: api.caPem },
      { readFile, statMtimeMs: () => 1 },
    );
    const client = new KubeClient(creds);
    const old = api.token;
    assert.equal((await client.get('/openid/v1/jwks')).status, 200);
    api.setToken(await api.issueToken({ namespace: 'oidc-judge', name: 'oidc-judge' }));
    const n = api.requests.length;
    const res = await client.get('/openid/v1/jwks');
    assert.equal(res.status, 200);
    assert.deepEqual(
      api.requests.slice(n).map((r) => r.bearer),
      [old, api.token],
    );
    client.close();
  });

  it('returns a 401 as is when the re-read token did not change (one request, no loop)', async () => {
    const creds = fileCredentials({ source: 'in-cluster', server: api.url, token: 'not-a-valid-token', ca: api.caPem }, { readFile });
    const client = new KubeClient(creds);
    const n = api.requests.length;
    const res = await client.get('/openid/v1/jwks');
    assert.equal(res.status, 401);
    assert.equal((res.json as { kind: string }).kind, 'Status');
    assert.equal(api.requests.length - n, 1);
    client.close();
  });

  it('trusts only the cluster CA: without it the TLS handshake fails; insecure-skip-tls-verify connects', async () => {
    const token = api.token;
    const noCa = new KubeClient(fileCredentials({ source: 'kubeconfig', server: api.url, token }, { readFile }));
    await assert.rejects(noCa.get('/openid/v1/jwks'), (e: unknown) => e instanceof HttpClientError && e.code === 'network' && !e.message.includes(token));
    noCa.close();
    const insecure = new KubeClient(fileCredentials({ source: 'kubeconfig', server: api.url, token, insecureSkipTlsVerify: true }, { readFile }));
    assert.equal((await insecure.get('/openid/v1/jwks')).status, 200);
    insecure.close();
  });

  it('authenticates with a kubeconfig client certificate (no bearer sent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    try {
      const { cert, key } = await api.makeClientCert('alice', ['admins']);
      writeFileSync(join(dir, 'client.crt'), cert);
      writeFileSync(join(dir, 'client.key'), key);
      writeFileSync(
        join(dir, 'config'),
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: c',
          'contexts: [{name: c, context: {cluster: k, user: u}}]',
          `clusters: [{name: k, cluster: {server: "${api.url}", certificate-authority-data: ${Buffer.from(api.caPem).toString('base64')}}}]`,
          'users: [{name: u, user: {client-certificate: client.crt, client-key: client.key}}]',
        ].join('\n'),
      );
      const creds = loadKubeCredentials({ kubeconfig: join(dir, 'config'), readFile })!;
      assert.equal(creds.authorization(), undefined);
      const client = new KubeClient(creds);
      assert.equal((await client.get('/openid/v1/jwks')).status, 200);
      const seen = api.requests.at(-1)!;
      assert.equal(seen.clientCertCN, 'alice');
      assert.equal(seen.bearer, undefined);
      client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a response larger than the limit with an error (no silent truncation)', async () => {
    const client = new KubeClient(inCluster(), { maxBytes: 1024 });
    api.setDocument('jwks', { kind: 'raw', body: JSON.stringify({ keys: ['x'.repeat(4096)] }) });
    try {
      await assert.rejects(client.get('/openid/v1/jwks'), (e: unknown) => e instanceof HttpClientError && e.code === 'too-large');
    } finally {
      api.setDocument('jwks', { kind: 'default' });
      client.close();
    }
  });

  it('gives up after its deadline when the API server does not answer', async () => {
    const client = new KubeClient(inCluster());
    api.setDocument('discovery', { kind: 'hang' });
    try {
      await assert.rejects(
        client.get('/.well-known/openid-configuration', { timeoutMs: 50 }),
        (e: unknown) => e instanceof HttpClientError && e.code === 'timeout',
      );
    } finally {
      api.setDocument('discovery', { kind: 'default' });
      client.close();
    }
  });

  it('keeps the base path of the server URL and hands back non-JSON bodies raw', async () => {
    api.fallback = (_req, res, rec) => void res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello ${rec.path}`);
    try {
      const creds = fileCredentials({ source: 'kubeconfig', server: `${api.url}/k8s/clusters/c-1/`, token: api.token, ca: api.caPem }, { readFile });
      const client = new KubeClient(creds);
      const res = await client.get('/api/v1/namespaces?limit=1');
      assert.equal(res.json, undefined);
      assert.equal(res.body.toString(), 'hello /k8s/clusters/c-1/api/v1/namespaces?limit=1');
      client.close();
    } finally {
      api.fallback = undefined;
    }
  });
});
