import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadKubeCredentials, serviceUrl, type LoadKubeOptions } from '../../src/kube/credentials.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** An in-memory file system: `files` by path, `mtimes` by path (files without one have none). */
function fs(
  files: Record<string, string>,
  mtimes: Record<string, number> = {},
): Pick<LoadKubeOptions, 'readFile' | 'statMtimeMs'> & { files: Record<string, string>; mtimes: Record<string, number>; reads: string[] } {
  const reads: string[] = [];
  return {
    files,
    mtimes,
    reads,
    readFile(p) {
      reads.push(p);
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return v;
    },
    statMtimeMs: (p) => mtimes[p],
  };
}

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

function kubeconfig(user: string, cluster = `server: https://api.example:6443\n      certificate-authority-data: ${b64(CA)}`): string {
  return `apiVersion: v1
kind: Config
current-context: prod
contexts:
  - name: dev
    context: { cluster: other, user: nobody }
  - name: prod
    context:
      cluster: main
      user: admin
clusters:
  - name: main
    cluster:
      ${cluster}
users:
  - name: admin
    user:
      ${user}
`;
}

describe('in-cluster credentials', () => {
  it('KUBERNETES_SERVICE_HOST/PORT plus the mounted token → in-cluster, with the CA and a Bearer token', () => {
    const f = fs({ [`${SA}/token`]: 'tok-1\n', [`${SA}/ca.crt`]: CA });
    const c = loadKubeCredentials({ serviceHost: '10.0.0.1', servicePort: '443', ...f })!;
    assert.equal(c.source, 'in-cluster');
    assert.equal(c.server, 'https://10.0.0.1:443');
    assert.equal(c.ca, CA);
    assert.equal(c.authorization(), 'Bearer tok-1');
  });

  it('not in a cluster: no service host, no port, or no token file → undefined', () => {
    const f = fs({ [`${SA}/token`]: 'tok' });
    assert.equal(loadKubeCredentials({ ...f }), undefined);
    assert.equal(loadKubeCredentials({ serviceHost: '10.0.0.1', servicePort: '', ...f }), undefined);
    assert.equal(loadKubeCredentials({ serviceHost: '10.0.0.1', servicePort: '443', ...fs({}) }), undefined);
    assert.equal(loadKubeCredentials({ kubeconfig: '', serviceHost: '', servicePort: '443', ...f }), undefined);
  });

  it('an IPv6 service host is bracketed; a custom service-account dir is used; no ca.crt → system roots', () => {
    const f = fs({ '/sa/token': 't' });
    const c = loadKubeCredentials({ serviceHost: 'fd00::1', servicePort: '443', serviceAccountDir: '/sa', ...f })!;
    assert.equal(c.server, 'https://[fd00::1]:443');
    assert.equal(c.ca, undefined);
    assert.equal(serviceUrl('kubernetes.default.svc', '443'), 'https://kubernetes.default.svc:443');
  });

  it('re-reads the token only when its mtime changed, and keeps the last token when the file vanishes', () => {
    const f = fs({ [`${SA}/token`]: 'one' }, { [`${SA}/token`]: 1 });
    const c = loadKubeCredentials({ serviceHost: 'h', servicePort: '1', ...f })!;
    assert.equal(c.authorization(), 'Bearer one');
    f.files[`${SA}/token`] = 'two';
    assert.equal(c.authorization(), 'Bearer one', 'same mtime: not re-read');
    assert.equal(c.authorization(true), 'Bearer two', 'forced re-read');
    f.files[`${SA}/token`] = 'three';
    f.mtimes[`${SA}/token`] = 2;
    assert.equal(c.authorization(), 'Bearer three');
    delete f.files[`${SA}/token`];
    f.mtimes[`${SA}/token`] = 3;
    assert.equal(c.authorization(), 'Bearer three');
  });

  it('without a stat, the token file is read on every call', () => {
    const f = fs({ [`${SA}/token`]: 'one' });
    const c = loadKubeCredentials({ serviceHost: 'h', servicePort: '1', readFile: f.readFile })!;
    f.files[`${SA}/token`] = 'two';
    assert.equal(c.authorization(), 'Bearer two');
  });
});

describe('kubeconfig', () => {
  it('current-context picks cluster and user; *-data fields are base64 PEM; the kubeconfig wins over in-cluster', () => {
    const f = fs({
      '/k/config': kubeconfig(`token: static-token\n      client-certificate-data: ${b64(CERT)}\n      client-key-data: ${b64(KEY)}`),
      [`${SA}/token`]: 'in-cluster',
    });
    const c = loadKubeCredentials({ kubeconfig: '/k/config', serviceHost: 'h', servicePort: '1', ...f })!;
    assert.equal(c.source, 'kubeconfig');
    assert.equal(c.server, 'https://api.example:6443');
    assert.equal(c.ca, CA);
    assert.equal(c.cert, CERT);
    assert.equal(c.key, KEY);
    assert.equal(c.insecureSkipTlsVerify, undefined);
    assert.equal(c.authorization(), 'Bearer static-token');
  });

  it('file references resolve against the kubeconfig’s directory; tokenFile is re-read on change', () => {
    const f = fs(
      {
        '/k/config': kubeconfig(
          'tokenFile: tokens/t\n      client-certificate: /abs/c.crt\n      client-key: c.key',
          'server: https://api.example/k8s/clusters/c-1/\n      certificate-authority: ca.pem\n      insecure-skip-tls-verify: true',
        ),
        '/k/tokens/t': 'file-token\n',
        '/abs/c.crt': CERT,
        '/k/c.key': KEY,
        '/k/ca.pem': CA,
      },
      { '/k/tokens/t': 1 },
    );
    const c = loadKubeCredentials({ kubeconfig: '/k/config', ...f })!;
    assert.equal(c.server, 'https://api.example/k8s/clusters/c-1');
    assert.equal(c.ca, CA);
    assert.equal(c.cert, CERT);
    assert.equal(c.key, KEY);
    assert.equal(c.insecureSkipTlsVerify, true);
    assert.equal(c.authorization(), 'Bearer file-token');
    f.files['/k/tokens/t'] = 'rotated';
    f.mtimes['/k/tokens/t'] = 2;
    assert.equal(c.authorization(), 'Bearer rotated');
  });

  it('a client certificate alone means no Authorization header', () => {
    const f = fs({ '/k/config': kubeconfig(`client-certificate-data: ${b64(CERT)}\n      client-key-data: ${b64(KEY)}`) });
    assert.equal(loadKubeCredentials({ kubeconfig: '/k/config', ...f })!.authorization(), undefined);
  });

  it('a `:`-separated list merges as kubectl does: first current-context and first entry of a name win', () => {
    const first = 'current-context: prod\nusers: [{name: admin, user: {token: from-first}}]\n';
    const f = fs({ '/a/config': first, '/b/config': kubeconfig('token: from-second') });
    const c = loadKubeCredentials({ kubeconfig: '/missing/config:/a/config:/b/config', ...f })!;
    assert.equal(c.server, 'https://api.example:6443');
    assert.equal(c.authorization(), 'Bearer from-first');
  });

  const broken: [string, Record<string, string>, RegExp][] = [
    ['a missing file', {}, /kubeconfig \/k\/config: cannot read it \(ENOENT\)/],
    ['invalid YAML', { '/k/config': 'clusters: [' }, /kubeconfig \/k\/config: not valid YAML/],
    ['not a mapping', { '/k/config': '- a\n- b\n' }, /kubeconfig \/k\/config: not a kubeconfig/],
    ['no current-context', { '/k/config': 'clusters: []\n' }, /kubeconfig \/k\/config: no current-context/],
    ['an unknown context', { '/k/config': 'current-context: x\ncontexts: []\n' }, /context "x" not found/],
    ['an unknown cluster', { '/k/config': 'current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: []\n' }, /cluster "c" not found/],
    ['a cluster without server', { '/k/config': kubeconfig('token: t', 'insecure-skip-tls-verify: true') }, /cluster "main" has no server/],
    ['a server that is not a URL', { '/k/config': kubeconfig('token: t', 'server: "not a url"') }, /server "not a url" is not a URL/],
    [
      'an unreadable CA file',
      { '/k/config': kubeconfig('token: t', 'server: https://a\n      certificate-authority: nope.pem') },
      /cannot read certificate-authority \/k\/nope\.pem \(ENOENT\)/,
    ],
    [
      'CA data that is not base64 PEM',
      { '/k/config': kubeconfig('token: t', 'server: https://a\n      certificate-authority-data: aGVsbG8=') },
      /"certificate-authority-data" is not base64 of a PEM/,
    ],
    ['an exec plugin', { '/k/config': kubeconfig('exec: {command: aws}') }, /user "admin": "exec" is not supported/],
    [
      'a certificate without a key',
      { '/k/config': kubeconfig(`client-certificate-data: ${b64(CERT)}`) },
      /client-certificate and client-key must be given together/,
    ],
    ['an unreadable tokenFile', { '/k/config': kubeconfig('tokenFile: gone') }, /cannot read tokenFile \/k\/gone/],
    ['a token that is not a string', { '/k/config': kubeconfig('token: [1]') }, /"token" must be a string/],
  ];
  for (const [what, files, message] of broken) {
    it(`throws naming the file and the problem: ${what}`, () => {
      assert.throws(
        () => loadKubeCredentials({ kubeconfig: '/k/config', ...fs(files) }),
        (e: Error) => message.test(e.message) && e.message.includes('/k/config'),
      );
    });
  }
});
