import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeProxyOptionsFromFlags } from '../../../src/forward/runtime/compat/kube-oidc-proxy.js';
import { kubeMode } from '../../../src/forward/kube-proxy/mode.js';
import type { KubeOptions } from '../../../src/forward/kube-proxy/options.js';

const BASE = { oidcIssuerUrl: 'https://idp.example.com', oidcClientId: 'kube' };

function parse(raw: Record<string, unknown>): { options: KubeOptions; errs: string[] } {
  const errs: string[] = [];
  const options = kubeMode.parse(raw, 'forwarders[0]', errs);
  return { options, errs };
}

describe('kube options', () => {
  it("has kube-oidc-proxy's defaults", () => {
    const { options, errs } = parse(BASE);
    assert.deepEqual(errs, []);
    assert.equal(kubeMode.mode, 'kube');
    assert.deepEqual(options.oidc.signingAlgs, ['RS256']);
    assert.equal(options.oidc.usernameClaim, 'sub');
    assert.equal(options.oidc.usernamePrefix, undefined);
    assert.equal(options.oidc.groupsClaim, '');
    assert.equal(options.disableImpersonation, false);
    assert.equal(options.inboundImpersonation, 'reject');
    assert.equal(options.tokenPassthrough, false);
    assert.equal(options.accessLog, true);
    assert.equal(options.audit, undefined);
    assert.equal(options.maxRequestBodyBytes, 3 * 1024 * 1024);
  });

  it('reads typed YAML values and the string forms flags and env give', () => {
    const { options, errs } = parse({
      ...BASE,
      oidcSigningAlgs: 'RS256,ES256',
      oidcRequiredClaims: 'hd=example.com,tier=gold',
      extraUserHeaders: { key1: ['foo', 'bar'], key2: 'foo' },
      tokenPassthrough: 'true',
      tokenPassthroughAudiences: ['a', 'b'],
      kubeClientQps: '50',
      auditLogPath: '/var/log/audit.jsonl',
      auditLogMaxSizeMb: 100,
    });
    assert.deepEqual(errs, []);
    assert.deepEqual(options.oidc.signingAlgs, ['RS256', 'ES256']);
    assert.deepEqual(options.oidc.requiredClaims, [
      ['hd', 'example.com'],
      ['tier', 'gold'],
    ]);
    assert.deepEqual(options.extraUserHeaders, [
      ['key1', 'foo'],
      ['key1', 'bar'],
      ['key2', 'foo'],
    ]);
    assert.equal(options.tokenPassthrough, true);
    assert.equal(options.client.qps, 50);
    assert.deepEqual(options.audit, { path: '/var/log/audit.jsonl', maxSizeMb: 100, maxBackups: 5 });
  });

  it('reports every problem, naming the option', () => {
    const { errs } = parse({
      oidcIssuerUrl: 'http://idp.example.com',
      oidcSigningAlgs: 'HS256,none',
      disableImpersonation: true,
      extraUserHeaders: 'a=b',
      extraUserHeaderClientIp: true,
      inboundImpersonation: 'subjectaccessreview',
      trustedProxies: 'not-an-ip',
      tokenPassthroughAudiences: 'x',
      kubeClientCertificate: '/c.pem',
      surprise: 1,
    });
    const want = [
      'forwarders[0].oidcClientId: oidcIssuerUrl and oidcClientId must be given together',
      'forwarders[0].oidcIssuerUrl: must be an https URL (http only with oidcAllowHttpIssuer, for development)',
      'forwarders[0].oidcSigningAlgs: "HS256" is not supported',
      'forwarders[0].oidcSigningAlgs: "none" is not supported',
      'forwarders[0].kubeClientCertificate: kubeClientCertificate and kubeClientKey must be given together',
      'forwarders[0].trustedProxies: "not-an-ip" is not an IP address or CIDR range',
      'forwarders[0].tokenPassthroughAudiences: only with tokenPassthrough',
      'forwarders[0].extraUserHeaders: cannot be used with disableImpersonation',
      'forwarders[0].extraUserHeaderClientIp: cannot be used with disableImpersonation',
      'forwarders[0].inboundImpersonation: cannot be used with disableImpersonation',
      'forwarders[0].surprise: unknown option',
    ];
    for (const w of want)
      assert.ok(
        errs.some((e) => e.startsWith(w)),
        `${w}\n in ${errs.join('\n')}`,
      );
    assert.deepEqual(parse({}).errs, ['forwarders[0].oidcIssuerUrl: is required (with oidcClientId)']);
    assert.deepEqual(parse({ ...BASE, extraUserHeaders: 'novalue' }).errs, ['forwarders[0].extraUserHeaders: "novalue" must be key=value']);
    assert.deepEqual(parse({ ...BASE, oidcIssuerUrl: 'http://127.0.0.1:9', oidcAllowHttpIssuer: true }).errs, []);
  });
});

describe('kube-oidc-proxy flags', () => {
  it('translates its flag names into a kube block', () => {
    const { block, errors, warnings, readinessProbePort, healthListen } = kubeProxyOptionsFromFlags({
      '--oidc-issuer-url': 'https://idp.example.com',
      '--oidc-client-id': 'kube',
      '--oidc-ca-file': '/ca.pem',
      '--oidc-username-claim': 'email',
      '--oidc-username-prefix': '-',
      '--oidc-groups-claim': 'groups',
      '--oidc-groups-prefix': 'oidc:',
      '--oidc-signing-algs': 'RS256,ES256',
      '--oidc-required-claim': 'hd=example.com',
      '--token-passthrough': '',
      '--token-passthrough-audiences': 'api',
      '--extra-user-headers': 'key1=foo,key1=bar',
      '--extra-user-header-client-ip': 'true',
      '--secure-port': '8443',
      '--bind-address': '::',
      '--tls-cert-file': '/tls/crt',
      '--tls-private-key-file': '/tls/key',
      '-P': '9090',
      '--kubeconfig': '/kube/config',
      '--request-timeout': '30s',
      '--kube-client-qps': '100',
      '--flush-interval': '-1s',
      '--audit-log-path': '-',
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, ['--flush-interval: ignored (every chunk is forwarded as it arrives (as with a negative flush interval))']);
    assert.equal(readinessProbePort, 9090);
    assert.equal(healthListen, ':9090');
    assert.deepEqual(block, {
      mode: 'kube',
      name: 'kube-oidc-proxy',
      oidcIssuerUrl: 'https://idp.example.com',
      oidcClientId: 'kube',
      oidcCaFile: '/ca.pem',
      oidcUsernameClaim: 'email',
      oidcUsernamePrefix: '-',
      oidcGroupsClaim: 'groups',
      oidcGroupsPrefix: 'oidc:',
      oidcSigningAlgs: 'RS256,ES256',
      oidcRequiredClaims: 'hd=example.com',
      tokenPassthrough: 'true',
      tokenPassthroughAudiences: 'api',
      extraUserHeaders: 'key1=foo,key1=bar',
      extraUserHeaderClientIp: 'true',
      kubeconfig: '/kube/config',
      kubeClientQps: '100',
      auditLogPath: '-',
      listen: '[::]:8443',
      tls: { certFile: '/tls/crt', keyFile: '/tls/key' },
      kubeClientTimeoutSeconds: 30,
    });
    // The block is a valid kube block once the runtime's keys are removed.
    const { mode: _m, name: _n, listen: _l, tls: _t, ...rest } = block;
    assert.deepEqual(parse(rest).errs, []);
  });

  it('refuses flags whose absence would change behaviour, and clashing ports', () => {
    const { errors } = kubeProxyOptionsFromFlags({
      'oidc-issuer-url': 'https://i',
      'oidc-client-id': 'c',
      token: 'abc',
      context: 'prod',
      'audit-webhook-config-file': '/w',
      'secure-port': '8080',
      'no-such-flag': 'x',
      'tls-cert-file': '/c',
    });
    assert.deepEqual(errors.sort(), [
      '--audit-webhook-config-file: the audit webhook sink is not supported; use --audit-log-path',
      '--context: only the kubeconfig current-context is used',
      '--no-such-flag: unknown kube-oidc-proxy flag',
      '--secure-port: unable to securely serve on port 8080 (used by the readiness probe)',
      '--tls-cert-file and --tls-private-key-file must be given together',
      '--token: a token on the command line is not supported; use --token-file or a kubeconfig',
    ]);
  });

  it("defaults to kube-oidc-proxy's listen address and certificate directory", () => {
    const { block, warnings } = kubeProxyOptionsFromFlags({});
    assert.equal(block['listen'], '0.0.0.0:6443');
    assert.deepEqual(block['tls'], { certFile: '/var/run/kubernetes/kube-oidc-proxy.crt', keyFile: '/var/run/kubernetes/kube-oidc-proxy.key' });
    assert.equal(warnings.length, 1);
  });
});
