/**
 * `oidc-judge check-config --online`: the configuration read, then everything it names that the
 * service will reach, reached once — the CA bundle, the provider's discovery document and keys,
 * every extra JWT issuer's keys, the session store (a write, with its credentials), the Kubernetes
 * API (may this account create TokenReviews?), the introspection endpoint and the external
 * authorizer. One line per check, in that order; the caller exits non-zero when one failed. A check
 * that does not apply says so (`skip`); no check prints a secret (URLs lose their credentials).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeCredentials } from '../kube/credentials.js';
import { HttpClient, loggableUrl } from '../net/http-client.js';
import { discoveryUrl, parseMetadata } from '../oidc/discovery.js';
import { openSessionStore } from '../sessions/open.js';

export type CheckOutcome = 'ok' | 'fail' | 'skip';

export interface CheckLine {
  readonly outcome: CheckOutcome;
  readonly name: string;
  readonly detail: string;
}

export interface OnlineIo {
  readonly readFile: (path: string) => string;
  readonly now: () => number;
  /** Where in-cluster credentials are (default: the standard mount point). */
  readonly serviceAccountDir?: string;
  /** Deadline of each network check, in milliseconds (default 5000). */
  readonly timeoutMs?: number;
}

/** An error about `url`, naming it once (the HTTP client's messages already do). */
function about(url: string, e: unknown): string {
  const where = loggableUrl(url);
  const message = (e as Error).message;
  return message.includes(where) ? message : `${where}: ${message}`;
}

/** The line as printed: outcome, padded, then name and detail. */
export function formatCheck(c: CheckLine): string {
  return `${c.outcome === 'fail' ? 'FAIL' : c.outcome.padEnd(4)}  ${c.name}: ${c.detail}`;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function caBundle(config: Config, io: OnlineIo): { line: CheckLine; pem?: string } {
  const name = 'CA bundle';
  if (config.caBundle === '') return { line: { outcome: 'skip', name, detail: 'CA_BUNDLE is not set (the system roots only)' } };
  let pem: string;
  try {
    pem = io.readFile(config.caBundle);
  } catch (e) {
    return { line: { outcome: 'fail', name, detail: `cannot read ${config.caBundle} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` } };
  }
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return { line: { outcome: 'fail', name, detail: `${config.caBundle} holds no PEM certificate` } };
  let expired = 0;
  for (const [i, block] of blocks.entries()) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch (e) {
      return { line: { outcome: 'fail', name, detail: `${config.caBundle}: certificate ${i + 1} does not parse (${(e as Error).message})` } };
    }
    if (Date.parse(cert.validTo) < io.now()) expired++;
  }
  const note = expired > 0 ? ` (${expired} expired)` : '';
  return { line: { outcome: 'ok', name, detail: `${config.caBundle}: ${blocks.length} certificate${blocks.length === 1 ? '' : 's'}${note}` }, pem };
}

/** The issuer's discovery document, then its keys: two lines. */
async function provider(label: string, issuer: string, http: HttpClient): Promise<CheckLine[]> {
  let jwksUri: string;
  try {
    const doc = await http.getJson(discoveryUrl(issuer));
    jwksUri = parseMetadata(doc.json, issuer).jwks_uri;
  } catch (e) {
    return [
      { outcome: 'fail', name: `${label} discovery`, detail: about(discoveryUrl(issuer), e) },
      { outcome: 'skip', name: `${label} keys`, detail: 'no discovery document' },
    ];
  }
  return [{ outcome: 'ok', name: `${label} discovery`, detail: `${loggableUrl(discoveryUrl(issuer))}: issuer matches` }, await keys(label, jwksUri, http)];
}

async function keys(label: string, jwksUri: string, http: HttpClient): Promise<CheckLine> {
  const name = `${label} keys`;
  try {
    const { json } = await http.getJson(jwksUri);
    const list = (json as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list) || list.length === 0) return { outcome: 'fail', name, detail: `${loggableUrl(jwksUri)}: no keys in the JWKS` };
    const algs = [...new Set(list.map((k: { alg?: unknown; kty?: unknown }) => (typeof k.alg === 'string' ? k.alg : String(k.kty))))];
    return { outcome: 'ok', name, detail: `${loggableUrl(jwksUri)}: ${list.length} key${list.length === 1 ? '' : 's'} (${algs.join(', ')})` };
  } catch (e) {
    return { outcome: 'fail', name, detail: about(jwksUri, e) };
  }
}

/** A write the store must accept, with the configured credentials: a one-time marker that expires in a minute. */
async function store(config: Config, io: OnlineIo): Promise<CheckLine> {
  const name = 'session store';
  const where = config.sessionStoreType === 'redis' ? `redis ${config.sessionStoreRedisAddr}` : `sqlite ${config.sessionStorePath}`;
  let opened;
  try {
    opened = openSessionStore(config, io.readFile);
  } catch (e) {
    return { outcome: 'fail', name, detail: `${where}: ${(e as Error).message}` };
  }
  try {
    const now = io.now();
    const wrote = await withDeadline(opened.claimOnce(`check-config:${randomBytes(9).toString('base64url')}`, now + 60_000, now), io.timeoutMs ?? 5000);
    return wrote ? { outcome: 'ok', name, detail: `${where}: answers and takes writes` } : { outcome: 'fail', name, detail: `${where}: refused a new record` };
  } catch (e) {
    return { outcome: 'fail', name, detail: `${where}: ${(e as Error).message}` };
  } finally {
    await opened.close().catch(() => undefined);
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** May this account create TokenReviews? (SelfSubjectAccessReview, which every account may ask.) */
async function kubernetes(config: Config, io: OnlineIo): Promise<CheckLine> {
  const name = 'Kubernetes API';
  if (!config.kubernetesAuthnEnabled) return { outcome: 'skip', name, detail: 'KUBERNETES_AUTHN_ENABLED=false' };
  let creds;
  try {
    creds = loadKubeCredentials({
      kubeconfig: config.kubeconfig,
      ...(io.serviceAccountDir !== undefined ? { serviceAccountDir: io.serviceAccountDir } : {}),
      serviceHost: config.kubernetesServiceHost,
      servicePort: config.kubernetesServicePort,
      readFile: io.readFile,
    });
  } catch (e) {
    return { outcome: 'fail', name, detail: `KUBECONFIG: ${(e as Error).message}` };
  }
  if (creds === undefined) return { outcome: 'skip', name, detail: 'no KUBECONFIG and not in a cluster (service-account tokens are off)' };
  const kube = new KubeClient(creds, { timeoutMs: io.timeoutMs ?? 5000 });
  try {
    const res = await kube.post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create' } },
    });
    const status = (res.json as { status?: { allowed?: unknown; reason?: unknown } } | undefined)?.status;
    if (res.status < 200 || res.status > 299) return { outcome: 'fail', name, detail: `${loggableUrl(creds.server)} answered ${res.status}` };
    if (status?.allowed === true) return { outcome: 'ok', name, detail: `${loggableUrl(creds.server)}: may create tokenreviews` };
    const why = typeof status?.reason === 'string' && status.reason !== '' ? ` (${status.reason})` : '';
    return { outcome: 'fail', name, detail: `${loggableUrl(creds.server)}: may not create tokenreviews${why}; grant system:auth-delegator` };
  } catch (e) {
    return { outcome: 'fail', name, detail: about(creds.server, e) };
  } finally {
    kube.close();
  }
}

/** An endpoint that must answer at all (any HTTP status below 500): reachable, TLS trusted. */
async function reachable(name: string, setting: string, url: string, http: HttpClient): Promise<CheckLine> {
  if (url === '') return { outcome: 'skip', name, detail: `${setting} is not set` };
  try {
    const res = await http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    if (res.status >= 500) return { outcome: 'fail', name, detail: `${loggableUrl(url)} answered ${res.status}` };
    return { outcome: 'ok', name, detail: `${loggableUrl(url)} answers (${res.status} to an empty request)` };
  } catch (e) {
    return { outcome: 'fail', name, detail: about(url, e) };
  }
}

export async function onlineChecks(config: Config, io: OnlineIo): Promise<CheckLine[]> {
  const ca = caBundle(config, io);
  const http = new HttpClient({ timeoutMs: io.timeoutMs ?? 5000, ...(ca.pem !== undefined ? { caPem: ca.pem } : {}), maxRedirects: 0 });
  try {
    const lines: CheckLine[] = [ca.line, ...(await provider('provider', config.oidcProvider, http))];
    for (const entry of config.jwtIssuers) {
      // A plain URL is discovered; an entry is discovered at its first issuer unless it names its keys.
      const issuer = typeof entry === 'string' ? entry : entry.issuers[0]!;
      const jwksUri = typeof entry === 'string' ? undefined : entry.jwksUri;
      if (jwksUri !== undefined) lines.push(await keys(`issuer ${issuer}`, jwksUri, http));
      else lines.push(...(await provider(`issuer ${issuer}`, issuer, http)));
    }
    lines.push(await store(config, io), await kubernetes(config, io));
    lines.push(await reachable('introspection', 'INTROSPECTION_URL', config.introspectionUrl, http));
    lines.push(await reachable('external authorizer', 'EXTERNAL_AUTHZ_URL', config.externalAuthzUrl, http));
    return lines;
  } finally {
    http.close();
  }
}
