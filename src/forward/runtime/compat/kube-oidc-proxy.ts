/**
 * kube-oidc-proxy's command line, translated into a `mode: kube` forwarders block (pure: no files,
 * no environment). Flag names are accepted with or without the leading `--`; a boolean flag given
 * without a value (`''`) is true; repeatable flags take comma-separated values, as pflag does.
 * Flags we implement differently or not at all are reported: `errors` for those whose absence
 * would change what is allowed or where requests go, `warnings` for the harmless ones.
 */

export interface KubeOidcProxyFlags {
  /** The `forwarders:` block: `mode`, `name`, `listen`, `tls` and the kube options. */
  readonly block: Record<string, unknown>;
  /** `--readiness-probe-port` (default 8080): the runtime's health port. */
  readonly readinessProbePort: number;
  /** The same as the runtime's `--health-listen` value (`:8080`, every interface, as kube-oidc-proxy's probe). */
  readonly healthListen: string;
  readonly errors: string[];
  readonly warnings: string[];
}

/** Flags that map one-to-one onto an option of the kube block. */
const RENAMED: Readonly<Record<string, string>> = {
  'oidc-issuer-url': 'oidcIssuerUrl',
  'oidc-client-id': 'oidcClientId',
  'oidc-ca-file': 'oidcCaFile',
  'oidc-username-claim': 'oidcUsernameClaim',
  'oidc-username-prefix': 'oidcUsernamePrefix',
  'oidc-groups-claim': 'oidcGroupsClaim',
  'oidc-groups-prefix': 'oidcGroupsPrefix',
  'oidc-signing-algs': 'oidcSigningAlgs',
  'oidc-required-claim': 'oidcRequiredClaims',
  'oidc-allow-http-issuer': 'oidcAllowHttpIssuer',
  'disable-impersonation': 'disableImpersonation',
  'token-passthrough': 'tokenPassthrough',
  'token-passthrough-audiences': 'tokenPassthroughAudiences',
  'extra-user-headers': 'extraUserHeaders',
  'extra-user-header': 'extraUserHeaders',
  'extra-user-header-client-ip': 'extraUserHeaderClientIp',
  kubeconfig: 'kubeconfig',
  server: 'kubeServer',
  'certificate-authority': 'kubeCaFile',
  'client-certificate': 'kubeClientCertificate',
  'client-key': 'kubeClientKey',
  'insecure-skip-tls-verify': 'kubeInsecureSkipTlsVerify',
  'token-file': 'kubeTokenFile',
  'kube-client-qps': 'kubeClientQps',
  'kube-client-burst': 'kubeClientBurst',
  'audit-log-path': 'auditLogPath',
  'audit-log-maxsize': 'auditLogMaxSizeMb',
  'audit-log-maxbackup': 'auditLogMaxBackups',
};

const BOOLEAN = new Set(['disable-impersonation', 'token-passthrough', 'extra-user-header-client-ip', 'insecure-skip-tls-verify', 'oidc-allow-http-issuer']);

/** Accepted and ignored, with the reason. */
const IGNORED: Readonly<Record<string, string>> = {
  'flush-interval': 'every chunk is forwarded as it arrives (as with a negative flush interval)',
  'tls-min-version': 'TLS 1.2 is the minimum',
  'tls-cipher-suites': "Node's default cipher suites are used",
  'http2-max-streams-per-connection': 'the listener speaks HTTP/1.1',
  'audit-log-maxage': 'rotation is by size (--audit-log-maxsize, --audit-log-maxbackup)',
  'audit-log-compress': 'rotated audit files are not compressed',
  'audit-log-mode': 'audit events are written as they happen',
  'audit-policy-file': 'every request is audited at level Metadata',
  namespace: 'the proxy does not use a default namespace',
  v: 'use LOG_LEVEL',
  vmodule: 'use LOG_LEVEL',
  'log-dir': 'logs go to stdout',
  logtostderr: 'logs go to stdout',
  alsologtostderr: 'logs go to stdout',
  'shutdown-delay-duration': 'the runtime drains on SIGTERM',
};

/** Refused: honouring them silently would change who is let in, where requests go, or lose audit events. */
const REFUSED: Readonly<Record<string, string>> = {
  token: 'a token on the command line is not supported; use --token-file or a kubeconfig',
  context: 'only the kubeconfig current-context is used',
  cluster: 'only the kubeconfig current-context is used',
  user: 'only the kubeconfig current-context is used',
  as: 'not supported (kube-oidc-proxy removes it too)',
  'as-group': 'not supported (kube-oidc-proxy removes it too)',
  'tls-sni-cert-key': 'SNI certificates are not supported; give one --tls-cert-file/--tls-private-key-file pair',
  'audit-webhook-config-file': 'the audit webhook sink is not supported; use --audit-log-path',
  'audit-dynamic-configuration': 'not supported',
};

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds from `30`, `30s`, `1m30s`, `500ms`; undefined when unreadable. */
function seconds(v: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return total;
}

function hostPort(host: string, port: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function kubeProxyOptionsFromFlags(flags: Readonly<Record<string, string>>): KubeOidcProxyFlags {
  const errors: string[] = [];
  const warnings: string[] = [];
  const block: Record<string, unknown> = { mode: 'kube', name: 'kube-oidc-proxy' };
  const f = new Map<string, string>();
  for (const [k, v] of Object.entries(flags)) f.set(k.replace(/^-{1,2}/, ''), v);
  if (f.has('P')) f.set('readiness-probe-port', f.get('P')!);
  f.delete('P');

  for (const [name, value] of f) {
    const option = RENAMED[name];
    if (option !== undefined) {
      block[option] = BOOLEAN.has(name) && value === '' ? 'true' : value;
    } else if (name in IGNORED) warnings.push(`--${name}: ignored (${IGNORED[name]})`);
    else if (name in REFUSED) errors.push(`--${name}: ${REFUSED[name]}`);
    else if (name.startsWith('audit-webhook-')) errors.push(`--${name}: the audit webhook sink is not supported; use --audit-log-path`);
    else if (name.startsWith('audit-log-batch-') || name.startsWith('audit-log-truncate-'))
      warnings.push(`--${name}: ignored (audit events are written one by one, untruncated)`);
    else if (
      ![
        'bind-address',
        'secure-port',
        'cert-dir',
        'tls-cert-file',
        'tls-private-key-file',
        'readiness-probe-port',
        'request-timeout',
        'audit-log-format',
      ].includes(name)
    ) {
      errors.push(`--${name}: unknown kube-oidc-proxy flag`);
    }
  }

  const securePort = f.get('secure-port') ?? '6443';
  const probe = f.get('readiness-probe-port') ?? '8080';
  for (const [flag, v] of [
    ['secure-port', securePort],
    ['readiness-probe-port', probe],
  ] as const) {
    if (!/^\d+$/.test(v) || Number(v) > 65_535) errors.push(`--${flag}: must be a port number`);
  }
  if (securePort === probe) errors.push(`--secure-port: unable to securely serve on port ${securePort} (used by the readiness probe)`);
  block['listen'] = hostPort(f.get('bind-address') ?? '0.0.0.0', securePort);

  const cert = f.get('tls-cert-file');
  const key = f.get('tls-private-key-file');
  if ((cert === undefined) !== (key === undefined)) errors.push('--tls-cert-file and --tls-private-key-file must be given together');
  else if (cert !== undefined && key !== undefined) block['tls'] = { certFile: cert, keyFile: key };
  else {
    const dir = (f.get('cert-dir') ?? '/var/run/kubernetes').replace(/\/+$/, '');
    block['tls'] = { certFile: `${dir}/kube-oidc-proxy.crt`, keyFile: `${dir}/kube-oidc-proxy.key` };
    warnings.push(`no --tls-cert-file: serving ${dir}/kube-oidc-proxy.crt and .key, which must exist (no self-signed pair is generated)`);
  }

  const timeout = f.get('request-timeout');
  if (timeout !== undefined) {
    const s = seconds(timeout);
    if (s === undefined) errors.push('--request-timeout: must be a duration such as 10s or 1m');
    else block['kubeClientTimeoutSeconds'] = s === 0 ? 300 : Math.min(s, 300);
  }
  const format = f.get('audit-log-format');
  if (format !== undefined && format !== 'json') errors.push('--audit-log-format: only json is supported');

  return { block, readinessProbePort: Number(probe), healthListen: `:${probe}`, errors, warnings };
}
