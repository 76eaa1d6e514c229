/**
 * `providers:` — more OpenID Providers beside the environment's (`OIDC_PROVIDER`, the provider
 * `default`), each with its client, scopes, parameters, claim mapping, cookie, pages and where it
 * applies (hosts, path prefixes). Each option is checked with the same field builder as the global
 * setting it stands for, so a provider's value is held to the same rules; whatever an entry does not
 * set is the global setting (providers/config.ts). Secrets come inline or from `clientSecretFile`
 * (read by the loader, which alone reads files).
 */
import { parseAuthParams, authUrlQueryProblems, type AuthParams } from './auth-params.js';
import { claimSources } from './claim-field.js';
import { list, str, url, type Field } from './field.js';

export interface ProviderEntry {
  readonly id: string;
  readonly issuer: string;
  readonly clientId: string;
  /** Inline or read from `clientSecretFile` by the loader; '' until then. */
  readonly clientSecret: string;
  readonly clientSecretFile?: string;
  /** Overrides the discovered authorization endpoint (as `OIDC_AUTH_URL`). */
  readonly authUrl?: string;
  /** Explicit endpoints instead of discovery (as `OIDC_ENDPOINTS`). */
  readonly endpoints?: Endpoints;
  readonly scopes?: readonly string[];
  readonly authParams?: AuthParams;
  readonly userIdClaim?: string;
  readonly groupsClaim?: string;
  readonly audiences?: readonly string[];
  readonly cookieName?: string;
  readonly cookieDomain?: string;
  readonly cookiePath?: string;
  readonly redirectUrl?: string;
  readonly afterLoginUrl?: string;
  readonly afterLogoutUrl?: string;
  readonly theme?: string;
  readonly clientName?: string;
  /** The per-provider form of `GROUPS_ALLOWLIST`. */
  readonly groupsAllowlist?: readonly string[];
  /** Exact names and `*.example.com` wildcards, lower-case; empty: any host. */
  readonly hosts: readonly string[];
  /** Path prefixes (segment-aware), without a trailing `/`; empty: any path. */
  readonly paths: readonly string[];
}

/** The provider the environment configures; an entry may not take its id. */
export const DEFAULT_PROVIDER = 'default';

const ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const HOST = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const COOKIE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Each option: the field builder of the global setting it stands for. */
const OPTIONS: Readonly<Record<string, Field<unknown>>> = {
  issuer: url('issuer', ''),
  clientId: str('clientId', '', { nonEmpty: true }),
  clientSecret: str('clientSecret', ''),
  clientSecretFile: str('clientSecretFile', '', { nonEmpty: true }),
  authUrl: url('authUrl', '', { relative: true }),
  scopes: list('scopes', '', { spaces: true }),
  userIdClaim: claimSources('userIdClaim', '', { emptyOk: false }),
  groupsClaim: claimSources('groupsClaim', ''),
  audiences: list('audiences', ''),
  cookieName: str('cookieName', '', { nonEmpty: true }),
  cookieDomain: str('cookieDomain', ''),
  cookiePath: str('cookiePath', '', { nonEmpty: true }),
  redirectUrl: url('redirectUrl', '', { relative: true }),
  afterLoginUrl: url('afterLoginUrl', '', { relative: true }),
  afterLogoutUrl: url('afterLogoutUrl', '', { relative: true }),
  theme: str('theme', '', { nonEmpty: true }),
  clientName: str('clientName', '', { nonEmpty: true }),
  groupsAllowlist: list('groupsAllowlist', ''),
  hosts: list('hosts', ''),
  paths: list('paths', ''),
};
const KNOWN = [...Object.keys(OPTIONS), 'id', 'authParams', 'endpoints'];

/** Discovery metadata members given by hand (`OIDC_ENDPOINTS`, a provider's `endpoints`): no discovery then. */
export type Endpoints = Readonly<Record<string, string>>;
const ENDPOINT_MEMBERS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'revocation_endpoint'];
const REQUIRED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'];

/** The checker of `OIDC_ENDPOINTS` and of a provider's `endpoints`: http(s) URLs by metadata member name; empty: discovery. */
export function parseEndpoints(v: unknown, at: string, errs: string[]): Endpoints {
  const name = at === '' ? 'endpoints' : at;
  if (v === '' || (isObj(v) && Object.keys(v).length === 0)) return Object.freeze({});
  if (!isObj(v)) {
    errs.push(`${name}: must map ${REQUIRED_ENDPOINTS.join(', ')} (and optionally the other endpoints) to URLs`);
    return Object.freeze({});
  }
  const out: Record<string, string> = {};
  for (const [k, u] of Object.entries(v)) {
    if (!ENDPOINT_MEMBERS.includes(k)) errs.push(`${name}.${k}: unknown endpoint (known: ${ENDPOINT_MEMBERS.join(', ')})`);
    else {
      let ok = false;
      try {
        const url = typeof u === 'string' ? new URL(u) : undefined;
        ok = url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '' && url.hash === '';
      } catch {
        ok = false;
      }
      if (ok) out[k] = u as string;
      else errs.push(`${name}.${k}: must be an http(s) URL without credentials or fragment`);
    }
  }
  for (const k of REQUIRED_ENDPOINTS) if (!(k in v)) errs.push(`${name}.${k}: is required with explicit endpoints`);
  return Object.freeze(out);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A path prefix: starts with `/`, no trailing `/` (except `/` itself, which means any path). */
function pathPrefix(p: string): string | undefined {
  if (!p.startsWith('/') || p.includes('?') || p.includes('#') || p.includes('//')) return undefined;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function entry(v: Record<string, unknown>, here: string, errs: string[]): ProviderEntry | undefined {
  for (const k of Object.keys(v)) if (!KNOWN.includes(k)) errs.push(`${here}.${k}: unknown option (known: ${KNOWN.join(', ')})`);
  const before = errs.length;
  const id = v['id'];
  if (typeof id !== 'string' || !ID.test(id)) errs.push(`${here}.id: must be 1–32 lower-case letters, digits, "-" or "_"`);
  else if (id === DEFAULT_PROVIDER) errs.push(`${here}.id: "${DEFAULT_PROVIDER}" is the provider of the environment (OIDC_PROVIDER); choose another id`);
  const out: Record<string, unknown> = { id };
  for (const [k, f] of Object.entries(OPTIONS)) {
    if (v[k] === undefined) continue;
    try {
      out[k] = f.fromBlock(v[k]);
    } catch (e) {
      errs.push(`${here}.${k}: ${(e as Error).message}`);
    }
  }
  for (const k of ['issuer', 'clientId']) if (v[k] === undefined) errs.push(`${here}.${k}: is required`);
  if ((v['clientSecret'] === undefined) === (v['clientSecretFile'] === undefined)) errs.push(`${here}: give one of clientSecret and clientSecretFile`);
  if (v['authParams'] !== undefined) out['authParams'] = parseAuthParams(v['authParams'], `${here}.authParams`, errs);
  if (v['endpoints'] !== undefined) out['endpoints'] = parseEndpoints(v['endpoints'], `${here}.endpoints`, errs);
  if (typeof out['authUrl'] === 'string') for (const p of authUrlQueryProblems(out['authUrl'])) errs.push(`${here}.authUrl: ${p}`);
  if (typeof out['cookieName'] === 'string' && !COOKIE.test(out['cookieName'])) errs.push(`${here}.cookieName: not a valid cookie name`);
  if (typeof out['cookiePath'] === 'string' && !out['cookiePath'].startsWith('/')) errs.push(`${here}.cookiePath: must start with "/"`);
  const hosts = ((out['hosts'] as string[] | undefined) ?? []).map((h) => h.toLowerCase().replace(/\.$/, ''));
  for (const h of hosts) if (!HOST.test(h)) errs.push(`${here}.hosts: ${JSON.stringify(h)} is not a host name or a "*.<domain>" wildcard`);
  const paths: string[] = [];
  for (const p of (out['paths'] as string[] | undefined) ?? []) {
    const prefix = pathPrefix(p);
    if (prefix === undefined) errs.push(`${here}.paths: ${JSON.stringify(p)} must be a path starting with "/", without query`);
    else paths.push(prefix);
  }
  if (hosts.length === 0 && paths.length === 0) errs.push(`${here}: says nowhere it applies (give hosts, paths or both)`);
  if (errs.length > before) return undefined;
  const scopes = out['scopes'] as readonly string[] | undefined;
  return Object.freeze({
    ...out,
    clientSecret: (out['clientSecret'] as string | undefined) ?? '',
    ...(scopes !== undefined && !scopes.includes('openid') ? { scopes: Object.freeze(['openid', ...scopes]) } : {}),
    hosts: Object.freeze([...new Set(hosts)]),
    paths: Object.freeze([...new Set(paths)]),
  }) as ProviderEntry;
}

/** The checker `structured()` calls: a list of provider entries (config file, or JSON in `PROVIDERS`). */
export function parseProviders(v: unknown, at: string, errs: string[]): readonly ProviderEntry[] {
  const name = at === '' ? 'providers' : at;
  if (typeof v === 'string' && v.trim() === '') return Object.freeze([]);
  if (!Array.isArray(v)) {
    errs.push(`${name}: must be a list of providers ({id, issuer, clientId, clientSecret, hosts, paths, …})`);
    return Object.freeze([]);
  }
  const out: ProviderEntry[] = [];
  const ids = new Set<string>();
  v.forEach((item, i) => {
    const here = `${name}[${i}]`;
    if (!isObj(item)) {
      errs.push(`${here}: must be a mapping with id, issuer, clientId, …`);
      return;
    }
    const e = entry(item, here, errs);
    if (e === undefined) return;
    if (ids.has(e.id)) errs.push(`${here}.id: "${e.id}" is used twice`);
    ids.add(e.id);
    out.push(e);
  });
  return Object.freeze(out);
}

/** The session cookie of a provider: its own `cookieName`, else `<SESSION_COOKIE_NAME>_<id>`. */
export function providerCookieName(e: Pick<ProviderEntry, 'id' | 'cookieName'>, base: string): string {
  return e.cookieName ?? `${base}_${e.id}`;
}

/** Two providers whose session cookies would be the same cookie (same name): each problem once. */
export function cookieCollisions(entries: readonly ProviderEntry[], baseCookie: string): string[] {
  const seen = new Map<string, string>([[baseCookie, DEFAULT_PROVIDER]]);
  const out: string[] = [];
  for (const e of entries) {
    const name = providerCookieName(e, baseCookie);
    const other = seen.get(name);
    if (other !== undefined) out.push(`providers: "${e.id}" and "${other}" would share the session cookie ${name}; give each its own cookieName`);
    else seen.set(name, e.id);
  }
  return out;
}
