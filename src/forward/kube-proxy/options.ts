/**
 * The Kubernetes impersonation proxy's options block (`mode: kube`): types and the validating
 * parser. Keys mirror kube-oidc-proxy's flags in camelCase (`--oidc-issuer-url` → `oidcIssuerUrl`),
 * so runtime/compat/kube-oidc-proxy.ts is a plain renaming. Values may come typed (YAML) or as strings
 * (flags, env): lists as CSV, `k=v` pairs as CSV or a mapping. Never throws, never reads files.
 */
import { claimNameProblem } from '../../judge/claims.js';
import { invalidCidrs } from '../../net/cidr.js';
import { OptionReader, type Raw } from '../../config/block.js';
import { type Field, csvList } from '../../config/field.js';
import { kubeBlock as block } from '../../config/forward-blocks/kube.js';
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

/** A list from a YAML list or a CSV string (empty entries dropped); [] when absent or refused. */
const list = (r: OptionReader, option: Field<readonly string[]>): string[] => [...(r.get(option) ?? [])];

/** `k=v` pairs (keys may repeat) from CSV, a list of `k=v`, or a mapping of key → value or list of values. */
function pairs(r: OptionReader, option: Field<unknown>): [string, string][] {
  const key = option.env;
  const v = r.get(option);
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
  let items: string[];
  try {
    items = csvList(v);
  } catch (e) {
    return r.fail(key, (e as Error).message) ?? [];
  }
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) return r.fail(key, `${JSON.stringify(item)} must be key=value`) ?? [];
    out.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
  }
  return out;
}

function parseOidc(r: OptionReader): KubeOidcOptions {
  const issuerUrl = r.get(block.oidcIssuerUrl) ?? '';
  const clientId = r.get(block.oidcClientId) ?? '';
  if ((issuerUrl === '') !== (clientId === ''))
    r.fail(issuerUrl === '' ? 'oidcIssuerUrl' : 'oidcClientId', 'oidcIssuerUrl and oidcClientId must be given together');
  else if (issuerUrl === '') r.fail('oidcIssuerUrl', 'is required (with oidcClientId)');
  const allowHttpIssuer = r.getOr(block.oidcAllowHttpIssuer);
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
  const signingAlgs = list(r, block.oidcSigningAlgs);
  for (const a of signingAlgs)
    if (!SIGNING_ALGS.includes(a)) r.fail('oidcSigningAlgs', `${JSON.stringify(a)} is not supported (one of ${SIGNING_ALGS.join(', ')})`);
  if (signingAlgs.length === 0) r.fail('oidcSigningAlgs', 'must name at least one algorithm');
  const caFile = r.get(block.oidcCaFile);
  const requiredClaims = pairs(r, block.oidcRequiredClaims);
  for (const [name] of requiredClaims) {
    const problem = claimNameProblem(name);
    if (problem !== undefined) r.fail('oidcRequiredClaims', problem);
  }
  return {
    issuerUrl,
    clientId,
    ...(caFile !== undefined ? { caFile } : {}),
    usernameClaim: r.getOr(block.oidcUsernameClaim),
    usernamePrefix: r.get(block.oidcUsernamePrefix),
    groupsClaim: r.getOr(block.oidcGroupsClaim),
    groupsPrefix: r.getOr(block.oidcGroupsPrefix),
    uidClaim: r.getOr(block.oidcUidClaim),
    signingAlgs,
    requiredClaims,
    allowHttpIssuer,
    retrySeconds: r.getOr(block.oidcRetrySeconds),
    jwksRefreshSeconds: r.getOr(block.oidcJwksRefreshSeconds),
    clockSkewSeconds: r.getOr(block.oidcClockSkewSeconds),
  };
}

/** The object without its undefined members (for `exactOptionalPropertyTypes`). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function parseClient(r: OptionReader): KubeClientConfig {
  const s = (option: Field<string>): string | undefined => r.get(option);
  const o = defined({
    kubeconfig: s(block.kubeconfig),
    serviceHost: s(block.kubeServiceHost),
    servicePort: s(block.kubeServicePort),
    serviceAccountDir: s(block.serviceAccountDir),
    server: s(block.kubeServer),
    caFile: s(block.kubeCaFile),
    tokenFile: s(block.kubeTokenFile),
    clientCertificate: s(block.kubeClientCertificate),
    clientKey: s(block.kubeClientKey),
  });
  if ((o.clientCertificate === undefined) !== (o.clientKey === undefined))
    r.fail('kubeClientCertificate', 'kubeClientCertificate and kubeClientKey must be given together');
  if (o.server !== undefined && !/^https?:\/\/[^/]/.test(o.server)) r.fail('kubeServer', 'must be an https (or http) URL');
  return {
    ...o,
    insecureSkipTlsVerify: r.getOr(block.kubeInsecureSkipTlsVerify),
    qps: r.getOr(block.kubeClientQps),
    burst: r.getOr(block.kubeClientBurst),
    timeoutSeconds: r.getOr(block.kubeClientTimeoutSeconds),
  };
}

function parseAudit(r: OptionReader): KubeAuditOptions | undefined {
  const path = r.get(block.auditLogPath);
  const maxSizeMb = r.getOr(block.auditLogMaxSizeMb);
  const maxBackups = r.getOr(block.auditLogMaxBackups);
  if (path === undefined || path === '') return undefined;
  return { path, maxSizeMb, maxBackups };
}

export function parseKubeOptions(raw: Raw, at: string, errs: string[]): KubeOptions {
  const r = new OptionReader(raw, at, errs);
  const oidc = parseOidc(r);
  const client = parseClient(r);
  const disableImpersonation = r.getOr(block.disableImpersonation);
  const inboundImpersonation = r.getOr(block.inboundImpersonation);
  const tokenPassthrough = r.getOr(block.tokenPassthrough);
  const tokenPassthroughAudiences = list(r, block.tokenPassthroughAudiences);
  const extraUserHeaders = pairs(r, block.extraUserHeaders);
  const extraUserHeaderClientIp = r.getOr(block.extraUserHeaderClientIp);
  const trustedProxies = list(r, block.trustedProxies);
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
    reviewCacheSeconds: r.getOr(block.reviewCacheSeconds),
    maxRequestBodyBytes: r.getOr(block.maxRequestBodyBytes),
    upstreamConnectTimeoutSeconds: r.getOr(block.upstreamConnectTimeoutSeconds),
    upstreamIdleTimeoutSeconds: r.getOr(block.upstreamIdleTimeoutSeconds),
    accessLog: r.getOr(block.accessLog),
    ...(audit !== undefined ? { audit } : {}),
  };
  r.done();
  return options;
}
