/**
 * The Kubernetes impersonation proxy's options block (`mode: kube`): types and the validating
 * parser. Keys mirror kube-oidc-proxy's flags in camelCase (`--oidc-issuer-url` → `oidcIssuerUrl`),
 * so runtime/compat/kube-oidc-proxy.ts is a plain renaming. Values may come typed (YAML) or as strings
 * (flags, env): lists as CSV, `k=v` pairs as CSV or a mapping. Never throws, never reads files.
 */
import { invalidCidrs } from '../../net/cidr.js';
import { OptionReader, type Raw } from '../../config/block.js';
import type { KubeOidcConfig } from './oidc.js';

export type InboundImpersonation = 'reject' | 'subjectaccessreview';

/** The OIDC flags: what the verifier reads (`KubeOidcConfig`), plus how to reach the issuer. */
export interface KubeOidcOptions extends KubeOidcConfig {
  readonly caFile?: string;
  /** Development and tests only: an `http://` issuer. */
  readonly allowHttpIssuer: boolean;
}

/** Where the proxy's own Kubernetes credentials come from: a kubeconfig, else in-cluster; kubectl-style overrides on top. */
export interface KubeClientConfig {
  readonly kubeconfig?: string;
  /** In-cluster: `KUBERNETES_SERVICE_HOST` / `_PORT` (the composition root passes them in). */
  readonly serviceHost?: string;
  readonly servicePort?: string;
  readonly serviceAccountDir?: string;
  readonly server?: string;
  readonly caFile?: string;
  readonly tokenFile?: string;
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** TokenReview / SubjectAccessReview calls per second (0: unlimited) and burst. */
  readonly qps: number;
  readonly burst: number;
  readonly timeoutSeconds: number;
}

export interface KubeAuditOptions {
  /** A file (JSON lines), or `-` for the service log. */
  readonly path: string;
  /** Rotate when the file passes this size (0: never). */
  readonly maxSizeMb: number;
  readonly maxBackups: number;
}

export interface KubeOptions {
  readonly oidc: KubeOidcOptions;
  readonly client: KubeClientConfig;
  /** Forward with the user's own token and no impersonation. */
  readonly disableImpersonation: boolean;
  readonly inboundImpersonation: InboundImpersonation;
  readonly tokenPassthrough: boolean;
  readonly tokenPassthroughAudiences: readonly string[];
  readonly extraUserHeaders: readonly (readonly [string, string])[];
  readonly extraUserHeaderClientIp: boolean;
  readonly trustedProxies: readonly string[];
  /** Successful TokenReview and SubjectAccessReview answers are reused this long (0: never). */
  readonly reviewCacheSeconds: number;
  readonly maxRequestBodyBytes: number;
  readonly upstreamConnectTimeoutSeconds: number;
  /** 0: none (watches and `logs -f` may be quiet for long). */
  readonly upstreamIdleTimeoutSeconds: number;
  readonly accessLog: boolean;
  readonly audit?: KubeAuditOptions;
}

const SIGNING_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

/** A list from a YAML list or a CSV string; empty entries dropped. */
function list(r: OptionReader, key: string): string[] {
  const v = r.value(key);
  if (v === undefined) return [];
  const items = typeof v === 'string' ? v.split(',') : v;
  if (!Array.isArray(items) || !items.every((x) => typeof x === 'string'))
    return r.fail(key, 'must be a list of strings (or one comma-separated string)') ?? [];
  return items.map((s: string) => s.trim()).filter((s) => s !== '');
}

/** `k=v` pairs (keys may repeat) from CSV, a list of `k=v`, or a mapping of key → value or list of values. */
function pairs(r: OptionReader, key: string): [string, string][] {
  const v = r.value(key);
  if (v === undefined) return [];
  const out: [string, string][] = [];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) {
      const vals = Array.isArray(val) ? val : [val];
      if (k === '' || !vals.every((x) => typeof x === 'string')) return r.fail(key, `${JSON.stringify(k)} must map to a string or a list of strings`) ?? [];
      for (const x of vals as string[]) out.push([k, x]);
    }
    return out;
  }
  for (const item of list(r, key)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return r.fail(key, `${JSON.stringify(item)} must be key=value`) ?? [];
    out.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
  }
  return out;
}

function parseOidc(r: OptionReader): KubeOidcOptions {
  const issuerUrl = r.str('oidcIssuerUrl') ?? '';
  const clientId = r.str('oidcClientId') ?? '';
  if ((issuerUrl === '') !== (clientId === ''))
    r.fail(issuerUrl === '' ? 'oidcIssuerUrl' : 'oidcClientId', 'oidcIssuerUrl and oidcClientId must be given together');
  else if (issuerUrl === '') r.fail('oidcIssuerUrl', 'is required (with oidcClientId)');
  const allowHttpIssuer = r.bool('oidcAllowHttpIssuer', false);
  if (issuerUrl !== '') {
    let u: URL | undefined;
    try {
      u = new URL(issuerUrl);
    } catch {
      r.fail('oidcIssuerUrl', 'must be an absolute URL');
    }
    if (u !== undefined && u.protocol !== 'https:' && !(allowHttpIssuer && u.protocol === 'http:'))
      r.fail('oidcIssuerUrl', 'must be an https URL (http only with oidcAllowHttpIssuer, for development)');
    if (u !== undefined && (u.search !== '' || u.hash !== '' || u.username !== '')) r.fail('oidcIssuerUrl', 'must not carry a query, fragment or credentials');
  }
  const signingAlgs = r.has('oidcSigningAlgs') ? list(r, 'oidcSigningAlgs') : ['RS256'];
  for (const a of signingAlgs)
    if (!SIGNING_ALGS.includes(a)) r.fail('oidcSigningAlgs', `${JSON.stringify(a)} is not supported (one of ${SIGNING_ALGS.join(', ')})`);
  if (signingAlgs.length === 0) r.fail('oidcSigningAlgs', 'must name at least one algorithm');
  const caFile = r.str('oidcCaFile', { nonEmpty: true });
  return {
    issuerUrl,
    clientId,
    ...(caFile !== undefined ? { caFile } : {}),
    usernameClaim: r.str('oidcUsernameClaim', { nonEmpty: true }) ?? 'sub',
    usernamePrefix: r.str('oidcUsernamePrefix'),
    groupsClaim: r.str('oidcGroupsClaim') ?? '',
    groupsPrefix: r.str('oidcGroupsPrefix') ?? '',
    uidClaim: r.str('oidcUidClaim') ?? '',
    signingAlgs,
    requiredClaims: pairs(r, 'oidcRequiredClaims'),
    allowHttpIssuer,
    retrySeconds: r.num('oidcRetrySeconds', { min: 0.01, max: 3600, def: 10 }) ?? 10,
    jwksRefreshSeconds: r.num('oidcJwksRefreshSeconds', { min: 1, max: 86_400, def: 600 }) ?? 600,
    clockSkewSeconds: r.num('oidcClockSkewSeconds', { min: 0, max: 300, def: 5 }) ?? 5,
  };
}

/** The object without its undefined members (for `exactOptionalPropertyTypes`). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function parseClient(r: OptionReader): KubeClientConfig {
  const s = (key: string): string | undefined => r.str(key, { nonEmpty: true });
  const o = defined({
    kubeconfig: s('kubeconfig'),
    serviceHost: s('kubeServiceHost'),
    servicePort: s('kubeServicePort'),
    serviceAccountDir: s('serviceAccountDir'),
    server: s('kubeServer'),
    caFile: s('kubeCaFile'),
    tokenFile: s('kubeTokenFile'),
    clientCertificate: s('kubeClientCertificate'),
    clientKey: s('kubeClientKey'),
  });
  if ((o.clientCertificate === undefined) !== (o.clientKey === undefined))
    r.fail('kubeClientCertificate', 'kubeClientCertificate and kubeClientKey must be given together');
  if (o.server !== undefined && !/^https?:\/\/[^/]/.test(o.server)) r.fail('kubeServer', 'must be an https (or http) URL');
  return {
    ...o,
    insecureSkipTlsVerify: r.bool('kubeInsecureSkipTlsVerify', false),
    qps: r.num('kubeClientQps', { min: 0, max: 100_000, def: 0 }) ?? 0,
    burst: r.num('kubeClientBurst', { min: 1, max: 100_000, def: 10, integer: true }) ?? 10,
    timeoutSeconds: r.num('kubeClientTimeoutSeconds', { min: 0.1, max: 300, def: 10 }) ?? 10,
  };
}

function parseAudit(r: OptionReader): KubeAuditOptions | undefined {
  const path = r.str('auditLogPath');
  const maxSizeMb = r.num('auditLogMaxSizeMb', { min: 0, max: 1_000_000, def: 0 }) ?? 0;
  const maxBackups = r.num('auditLogMaxBackups', { min: 0, max: 1000, def: 5, integer: true }) ?? 5;
  if (path === undefined || path === '') return undefined;
  return { path, maxSizeMb, maxBackups };
}

export function parseKubeOptions(raw: Raw, at: string, errs: string[]): KubeOptions {
  const r = new OptionReader(raw, at, errs);
  const oidc = parseOidc(r);
  const client = parseClient(r);
  const disableImpersonation = r.bool('disableImpersonation', false);
  const inboundImpersonation = r.oneOf('inboundImpersonation', ['reject', 'subjectaccessreview'] as const, 'reject') ?? 'reject';
  const tokenPassthrough = r.bool('tokenPassthrough', false);
  const tokenPassthroughAudiences = list(r, 'tokenPassthroughAudiences');
  const extraUserHeaders = pairs(r, 'extraUserHeaders');
  const extraUserHeaderClientIp = r.bool('extraUserHeaderClientIp', false);
  const trustedProxies = list(r, 'trustedProxies');
  for (const bad of invalidCidrs(trustedProxies)) r.fail('trustedProxies', `${JSON.stringify(bad)} is not an IP address or CIDR range`);
  if (tokenPassthroughAudiences.length > 0 && !tokenPassthrough) r.fail('tokenPassthroughAudiences', 'only with tokenPassthrough');
  if (disableImpersonation) {
    if (extraUserHeaders.length > 0) r.fail('extraUserHeaders', 'cannot be used with disableImpersonation');
    if (extraUserHeaderClientIp) r.fail('extraUserHeaderClientIp', 'cannot be used with disableImpersonation');
    if (inboundImpersonation !== 'reject')
      r.fail('inboundImpersonation', 'cannot be used with disableImpersonation (the API server checks impersonation itself)');
  }
  const audit = parseAudit(r);
  const options: KubeOptions = {
    oidc,
    client,
    disableImpersonation,
    inboundImpersonation,
    tokenPassthrough,
    tokenPassthroughAudiences,
    extraUserHeaders,
    extraUserHeaderClientIp,
    trustedProxies,
    reviewCacheSeconds: r.num('reviewCacheSeconds', { min: 0, max: 3600, def: 10 }) ?? 10,
    maxRequestBodyBytes: r.num('maxRequestBodyBytes', { min: 1, max: 2 ** 40, def: 3 * 1024 * 1024, integer: true }) ?? 3 * 1024 * 1024,
    upstreamConnectTimeoutSeconds: r.num('upstreamConnectTimeoutSeconds', { min: 0.1, max: 300, def: 5 }) ?? 5,
    upstreamIdleTimeoutSeconds: r.num('upstreamIdleTimeoutSeconds', { min: 0, max: 86_400, def: 0 }) ?? 0,
    accessLog: r.bool('accessLog', true),
    ...(audit !== undefined ? { audit } : {}),
  };
  r.done();
  return options;
}
