/**
 * Shapes of the structured settings (skip rules and route rules) and their validation.
 * They come from the YAML config file (`skipRules:`, `authzRules:`) or as JSON in
 * `SKIP_RULES` / `AUTHZ_RULES`. The match shapes are the core's (judge/match.ts, judge/skip.ts);
 * compilation into matchers lives there and in authz/rules.ts.
 */
import { RE2JS } from 're2js';
import { compileWhen } from '../authz/when/compile.js';
import { invalidCidrs } from '../net/cidr.js';
import { configuredDomain, isEmailDomain, parseEmail } from '../net/email-address.js';
import { claimNameProblem } from '../judge/claims.js';
import type { PathMatch, RequestMatch } from '../judge/match.js';
import type { SkipRule } from '../judge/skip.js';

export interface AllowSpec {
  /** Any authenticated user. */
  readonly authenticated?: boolean;
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  /** Compared case-insensitively with the `email` claim (or the user id when it is an e-mail). */
  readonly emails?: readonly string[];
  /** E-mail domains, case-insensitive. */
  readonly domains?: readonly string[];
  /** Claim name or dot path (judge/claims.ts) → RE2 pattern, anchored at both ends; every listed claim must match (arrays: any element). */
  readonly claims?: Readonly<Record<string, string>>;
  /**
   * Whether program credentials (`oidc-judge login`, auth method `program`) may pass this rule:
   * default true; `false` refuses them on the rule's routes whatever else they match.
   */
  readonly programs?: boolean;
}

export interface AuthzMatch extends RequestMatch {
  /**
   * Compare the path in exact letter case. By default an access rule's path also holds for the
   * same path in other case (`/ADMIN` is judged by the `/admin` rule), because many upstreams route
   * case-insensitively. Skip rules are always exact.
   */
  readonly caseSensitive?: boolean;
}

/**
 * How strongly the user must have signed in, on top of `allow` (every listed condition must hold);
 * checked against the ID token's claims recorded with the session, or a bearer JWT's own claims.
 */
export interface RequireSpec {
  /** `acr` must be one of these (in order of preference: they go out as `acr_values`). */
  readonly acr?: readonly string[];
  /** `amr` must hold every one of these. */
  readonly amr?: readonly string[];
  /** At most this many seconds since `auth_time`. */
  readonly maxAge?: number;
}

export interface AuthzRule {
  /** Only checks chosen for this provider (`providers:`; `default`: the environment's) are judged by this rule. */
  readonly provider?: string;
  readonly match: AuthzMatch;
  readonly allow: AllowSpec;
  readonly require?: RequireSpec;
  /**
   * What a person refused by this rule reads on the 403 page (and an API client in the JSON
   * `message`), in plain words: "Reports are for the finance team." Without it, a generic sentence;
   * which rule refused is in the decision log either way.
   */
  readonly description?: string;
  /** The client's address (net/client-address.ts) must be in one of these CIDR ranges (or be one of these addresses). */
  readonly sources?: readonly string[];
  /** A CEL condition over `request` and `identity` (authz/when/) that must also hold. */
  readonly when?: string;
}

/** A description longer than this is refused at start-up (it is shown on a page). */
export const MAX_DESCRIPTION = 300;

type Errors = string[];

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strList(v: unknown, at: string, errs: Errors, upper = false): string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') v = [v];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
    errs.push(`${at}: must be a non-empty list of non-empty strings`);
    return undefined;
  }
  return v.map((x: string) => (upper ? x.toUpperCase() : x));
}

export function checkRegex(pattern: string, at: string, errs: Errors): void {
  try {
    RE2JS.compile(pattern);
  } catch (e) {
    errs.push(`${at}: invalid regular expression ${JSON.stringify(pattern)} (${(e as Error).message})`);
  }
}

function pathMatch(v: unknown, at: string, errs: Errors): PathMatch | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') v = { prefix: v };
  if (!isObj(v)) {
    errs.push(`${at}: must be a string (prefix) or one of {prefix}, {exact}, {regex}`);
    return undefined;
  }
  const keys = Object.keys(v);
  const k = keys[0];
  const val = k === undefined ? undefined : v[k];
  if (keys.length !== 1 || (k !== 'prefix' && k !== 'exact' && k !== 'regex') || typeof val !== 'string' || val === '') {
    errs.push(`${at}: must have exactly one of prefix, exact, regex (a non-empty string)`);
    return undefined;
  }
  if (k === 'regex') {
    checkRegex(val, at + '.regex', errs);
    return { regex: val };
  }
  if (!val.startsWith('/')) errs.push(`${at}.${k}: must start with "/"`);
  return k === 'prefix' ? { prefix: val } : { exact: val };
}

function requestMatch(v: Record<string, unknown>, at: string, errs: Errors, extra: readonly string[]): RequestMatch {
  for (const key of Object.keys(v)) {
    if (!['host', 'methods', 'path', ...extra].includes(key)) errs.push(`${at}: unknown key "${key}"`);
  }
  const out: { host?: string; methods?: string[]; path?: PathMatch } = {};
  if (v['host'] !== undefined) {
    if (typeof v['host'] !== 'string' || v['host'] === '') errs.push(`${at}.host: must be a non-empty string`);
    else out.host = v['host'].toLowerCase();
  }
  const methods = strList(v['methods'], at + '.methods', errs, true);
  if (methods) out.methods = methods;
  const path = pathMatch(v['path'], at + '.path', errs);
  if (path) out.path = path;
  return out;
}

export function parseSkipRules(v: unknown, at: string, errs: Errors): SkipRule[] {
  if (!Array.isArray(v)) {
    errs.push(`${at}: must be a list of rules`);
    return [];
  }
  return v.map((r, i) => {
    const here = `${at}[${i}]`;
    if (typeof r === 'string') r = { path: r };
    if (!isObj(r)) {
      errs.push(`${here}: must be an object`);
      return {};
    }
    const m: SkipRule = requestMatch(r, here, errs, ['preflight', 'assertion']);
    for (const flag of ['preflight', 'assertion'] as const)
      if (r[flag] !== undefined && typeof r[flag] !== 'boolean') errs.push(`${here}.${flag}: must be true or false`);
    return { ...m, ...(r['preflight'] === true ? { preflight: true } : {}), ...(r['assertion'] === true ? { assertion: true } : {}) };
  });
}

export function parseAuthzRules(v: unknown, at: string, errs: Errors): AuthzRule[] {
  if (!Array.isArray(v)) {
    errs.push(`${at}: must be a list of rules`);
    return [];
  }
  return v.map((r, i) => {
    const here = `${at}[${i}]`;
    if (!isObj(r) || !isObj(r['match']) || !isObj(r['allow'])) {
      errs.push(`${here}: must be an object with "match" and "allow" objects`);
      return { match: {}, allow: {} };
    }
    for (const key of Object.keys(r))
      if (!['provider', 'match', 'allow', 'require', 'description', 'sources', 'when'].includes(key)) errs.push(`${here}: unknown key "${key}"`);
    const provider = r['provider'];
    if (provider !== undefined && (typeof provider !== 'string' || provider === '')) errs.push(`${here}.provider: must be a provider id`);
    const description = r['description'];
    if (description !== undefined && (typeof description !== 'string' || description.trim() === '' || description.length > MAX_DESCRIPTION)) {
      errs.push(`${here}.description: must be a non-empty string of at most ${MAX_DESCRIPTION} characters`);
    }
    const sources = strList(r['sources'], `${here}.sources`, errs);
    for (const bad of invalidCidrs(sources ?? [])) errs.push(`${here}.sources: ${JSON.stringify(bad)} is not an IP address or CIDR range`);
    if (r['when'] !== undefined) {
      const compiled = compileWhen(r['when']);
      if ('problem' in compiled) errs.push(`${here}.when: ${compiled.problem}`);
    }
    const conditions = { ...(sources ? { sources } : {}), ...(typeof r['when'] === 'string' ? { when: r['when'] } : {}) };
    const m = r['match'];
    const match: AuthzMatch = requestMatch(m, here + '.match', errs, ['caseSensitive']);
    if (m['caseSensitive'] !== undefined && typeof m['caseSensitive'] !== 'boolean') errs.push(`${here}.match.caseSensitive: must be true or false`);
    const a = r['allow'];
    const allow: {
      authenticated?: boolean;
      users?: string[];
      groups?: string[];
      emails?: string[];
      domains?: string[];
      claims?: Record<string, string>;
      programs?: boolean;
    } = {};
    for (const key of Object.keys(a)) {
      if (!['authenticated', 'users', 'groups', 'emails', 'domains', 'claims', 'programs'].includes(key)) {
        errs.push(`${here}.allow: unknown key "${key}"`);
      }
    }
    if (a['authenticated'] !== undefined) {
      if (typeof a['authenticated'] !== 'boolean') errs.push(`${here}.allow.authenticated: must be true or false`);
      else allow.authenticated = a['authenticated'];
    }
    for (const k of ['users', 'groups', 'emails', 'domains'] as const) {
      const l = strList(a[k], `${here}.allow.${k}`, errs);
      if (l) allow[k] = k === 'emails' || k === 'domains' ? l.map((x) => x.toLowerCase()) : l;
      // An entry no verified address can ever match is a typo, not a rule: say so at start-up.
      if (l && k === 'emails')
        for (const e of l.filter((x) => parseEmail(x) === undefined)) errs.push(`${here}.allow.emails: ${JSON.stringify(e)} is not a plain e-mail address`);
      if (l && k === 'domains')
        for (const d of l.filter((x) => !isEmailDomain(configuredDomain(x))))
          errs.push(`${here}.allow.domains: ${JSON.stringify(d)} is not a domain name (like example.com)`);
    }
    if (a['claims'] !== undefined) {
      const c = a['claims'];
      if (!isObj(c) || Object.keys(c).length === 0 || Object.values(c).some((x) => typeof x !== 'string')) {
        errs.push(`${here}.allow.claims: must map claim names to patterns (strings)`);
      } else {
        for (const [name, pat] of Object.entries(c)) {
          const problem = claimNameProblem(name);
          if (problem !== undefined) errs.push(`${here}.allow.claims: ${problem}`);
          checkRegex(pat as string, `${here}.allow.claims.${name}`, errs);
        }
        allow.claims = c as Record<string, string>;
      }
    }
    if (a['programs'] !== undefined) {
      if (typeof a['programs'] !== 'boolean') errs.push(`${here}.allow.programs: must be true or false`);
      else allow.programs = a['programs'];
    }
    const names = Object.keys(allow).filter((k) => k !== 'programs');
    if (names.length === 0 || (allow.authenticated === false && names.length === 1)) {
      errs.push(`${here}.allow: names nobody (give authenticated, users, groups, emails, domains or claims)`);
    }
    const require = r['require'] === undefined ? undefined : requireSpec(r['require'], `${here}.require`, errs);
    return {
      ...(typeof provider === 'string' && provider !== '' ? { provider } : {}),
      match: m['caseSensitive'] === true ? { ...match, caseSensitive: true } : match,
      allow,
      ...(require ? { require } : {}),
      ...(typeof description === 'string' && description.trim() !== '' ? { description: description.trim() } : {}),
      ...conditions,
    };
  });
}

/** Longest `maxAge` (a year): anything longer is a unit mistake. */
const MAX_AGE_LIMIT = 31_536_000;

function requireSpec(v: unknown, at: string, errs: Errors): RequireSpec | undefined {
  if (!isObj(v)) {
    errs.push(`${at}: must be an object with acr, amr and/or maxAge`);
    return undefined;
  }
  for (const key of Object.keys(v)) if (!['acr', 'amr', 'maxAge'].includes(key)) errs.push(`${at}: unknown key "${key}"`);
  const out: { acr?: string[]; amr?: string[]; maxAge?: number } = {};
  for (const k of ['acr', 'amr'] as const) {
    const l = strList(v[k], `${at}.${k}`, errs);
    // They travel in a space-separated acr_values: a value with a space could not be asked for.
    if (l?.some((x) => /[\s"\\]/.test(x))) errs.push(`${at}.${k}: values must not contain spaces, quotes or backslashes`);
    else if (l) out[k] = l;
  }
  if (v['maxAge'] !== undefined) {
    const n = v['maxAge'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_AGE_LIMIT)
      errs.push(`${at}.maxAge: must be a whole number of seconds (0–${MAX_AGE_LIMIT})`);
    else out.maxAge = n;
  }
  if (Object.keys(v).length === 0) errs.push(`${at}: names no requirement (give acr, amr or maxAge)`);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `API_ROUTES`: RE2 patterns (full match) of the path and query; a string is one pattern. */
export function parseApiRoutes(v: unknown, at: string, errs: Errors): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === '')) {
    errs.push(`${at}: must be a list of regular expressions`);
    return [];
  }
  for (const [i, re] of (list as string[]).entries()) checkRegex(re, `${at}[${i}]`, errs);
  return list as string[];
}
