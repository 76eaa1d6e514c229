/**
 * `jwtIssuers`: the extra issuers whose JWT access tokens are accepted, each with its own settings.
 * `JWT_ISSUERS` (environment, flag) is the short form — issuer URLs, each discovered, sharing the
 * global `AUDIENCES`, `USERID_CLAIM` and `GROUPS_CLAIM`; the config file also takes entries:
 * several `iss` values sharing one key set (Entra ID's v1 and v2 issuers of one tenant), their own
 * audiences and claim mapping, required claims, and a static `jwksUri` instead of discovery
 * (cluster issuers: EKS/AKS/GKE service-account tokens). `jwtIssuerEntry` builds an entry from code.
 */
import { groupSourcesProblem } from '../judge/claims.js';

/** A claim value a required claim may take. */
export type ClaimScalar = string | number | boolean;

export interface JwtIssuerEntry {
  /** The `iss` values this entry accepts; the first is the one discovered (unless `jwksUri`). */
  readonly issuers: readonly string[];
  /** Accepted `aud` values; absent: the global `AUDIENCES`. */
  readonly audiences?: readonly string[];
  /** Absent: the global `USERID_CLAIM` / `GROUPS_CLAIM`. */
  readonly userIdClaim?: string;
  readonly groupsClaim?: string;
  /** A token without the groups claim is refused (the access-token default), else it has no groups. */
  readonly groupsRequired: boolean;
  /** Claim name → the value (or one of the values) it must have; for a list claim, one element must be one of them. */
  readonly requiredClaims: Readonly<Record<string, readonly ClaimScalar[]>>;
  /** Static key set: no discovery at the issuer. */
  readonly jwksUri?: string;
}

/** The short form (an issuer URL: discovery, global settings) or an entry. */
export type JwtIssuerSetting = string | JwtIssuerEntry;

const KEYS = ['issuer', 'audiences', 'userIdClaim', 'groupsClaim', 'groupsRequired', 'requiredClaims', 'jwksUri'];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function httpUrl(v: unknown, here: string, errs: string[]): string | undefined {
  let u: URL | undefined;
  try {
    if (typeof v === 'string') u = new URL(v);
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username !== '' || u.password !== '' || u.hash !== '') {
    errs.push(`${here}: must be an http(s) URL without credentials or fragment`);
    return undefined;
  }
  return v as string;
}

function strings(v: unknown, here: string, errs: string[]): string[] | undefined {
  const l = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(l) || l.length === 0 || !l.every((x) => typeof x === 'string' && x.trim() !== '')) {
    errs.push(`${here}: must be a non-empty string or a list of non-empty strings`);
    return undefined;
  }
  return l.map((x: string) => x.trim());
}

function requiredClaims(v: unknown, here: string, errs: string[]): Record<string, readonly ClaimScalar[]> {
  if (v === undefined) return {};
  if (!isObj(v) || Object.keys(v).length === 0) {
    errs.push(`${here}: must map claim names to a value or a list of values`);
    return {};
  }
  const out: Record<string, readonly ClaimScalar[]> = {};
  for (const [name, want] of Object.entries(v)) {
    const l = Array.isArray(want) ? want : [want];
    if (l.length === 0 || !l.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) {
      errs.push(`${here}.${name}: must be a string, number or boolean, or a non-empty list of them`);
    } else out[name] = Object.freeze([...(l as ClaimScalar[])]);
  }
  return out;
}

function entry(v: Record<string, unknown>, here: string, errs: string[]): JwtIssuerEntry | undefined {
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) errs.push(`${here}.${k}: unknown option (known: ${KEYS.join(', ')})`);
  const before = errs.length;
  if (v['issuer'] === undefined) errs.push(`${here}.issuer: is required`);
  const issuers = v['issuer'] === undefined ? undefined : strings(v['issuer'], `${here}.issuer`, errs);
  for (const iss of issuers ?? []) httpUrl(iss, `${here}.issuer`, errs);
  const audiences = v['audiences'] === undefined ? undefined : strings(v['audiences'], `${here}.audiences`, errs);
  const claim = (k: 'userIdClaim' | 'groupsClaim'): string | undefined => {
    const c = v[k];
    if (c === undefined) return undefined;
    if (typeof c !== 'string' || c.trim() === '') errs.push(`${here}.${k}: must be a non-empty string`);
    else {
      const problem = groupSourcesProblem(c);
      if (problem !== undefined) errs.push(`${here}.${k}: ${problem}`);
    }
    return typeof c === 'string' ? c.trim() : undefined;
  };
  const userIdClaim = claim('userIdClaim');
  const groupsClaim = claim('groupsClaim');
  const gr = v['groupsRequired'];
  if (gr !== undefined && typeof gr !== 'boolean') errs.push(`${here}.groupsRequired: must be true or false`);
  const required = requiredClaims(v['requiredClaims'], `${here}.requiredClaims`, errs);
  const jwksUri = v['jwksUri'] === undefined ? undefined : httpUrl(v['jwksUri'], `${here}.jwksUri`, errs);
  if (errs.length > before || issuers === undefined) return undefined;
  return jwtIssuerEntry({
    issuers,
    ...(audiences ? { audiences } : {}),
    ...(userIdClaim ? { userIdClaim } : {}),
    ...(groupsClaim ? { groupsClaim } : {}),
    ...(gr === false ? { groupsRequired: false } : {}),
    requiredClaims: required,
    ...(jwksUri ? { jwksUri } : {}),
  });
}

/** An entry from code (the oauth2-proxy command's `extra_jwt_issuers=issuer=audience`): unset fields take the defaults. */
export function jwtIssuerEntry(
  e: Omit<JwtIssuerEntry, 'groupsRequired' | 'requiredClaims'> & Partial<Pick<JwtIssuerEntry, 'groupsRequired' | 'requiredClaims'>>,
): JwtIssuerEntry {
  return Object.freeze({
    ...e,
    issuers: Object.freeze([...e.issuers]),
    ...(e.audiences ? { audiences: Object.freeze([...e.audiences]) } : {}),
    groupsRequired: e.groupsRequired ?? true,
    requiredClaims: Object.freeze({ ...e.requiredClaims }),
  });
}

/** The checker `structured()` calls: a comma list or JSON/YAML list of issuer URLs and entries. */
export function parseJwtIssuers(v: unknown, at: string, errs: string[]): readonly JwtIssuerSetting[] {
  const name = at === '' ? 'jwtIssuers' : at;
  const items = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v;
  if (!Array.isArray(items)) {
    errs.push(`${name}: must be a list of issuer URLs or entries ({issuer, audiences, …})`);
    return [];
  }
  const out: JwtIssuerSetting[] = [];
  const seen = new Set<string>();
  const once = (iss: string, here: string): void => {
    if (seen.has(iss)) errs.push(`${here}: ${iss} is listed twice (one entry per issuer)`);
    seen.add(iss);
  };
  items.forEach((item, i) => {
    const here = `${name}[${i}]`;
    if (item === '') return;
    if (typeof item === 'string') {
      if (httpUrl(item, here, errs) !== undefined) out.push(item);
      once(item, here);
    } else if (isObj(item)) {
      const e = entry(item, here, errs);
      if (e) out.push(e);
      for (const iss of e?.issuers ?? []) once(iss, `${here}.issuer`);
    } else errs.push(`${here}: must be an issuer URL or a mapping with "issuer"`);
  });
  return Object.freeze(out);
}

/** Every `iss` value the setting accepts. */
export function issuerNames(settings: readonly JwtIssuerSetting[]): string[] {
  return settings.flatMap((s) => (typeof s === 'string' ? [s] : s.issuers));
}
