/**
 * The one list of request headers and cookies the upstream must never trust or see, used by every
 * front door (gRPC and HTTP ext_authz, nginx, Traefik, the ingress forwarder) and every forwarder
 * mode: identity headers of the judge and of the tools people migrate from, URL-rewriting headers,
 * forwarding facts a client could forge, and the judge's own cookies. Names compare in every case
 * and every `-`/`_` spelling (`X_Auth_Request_User` is `x-auth-request-user`: CGI, PHP, WSGI and
 * many frameworks read both as one). Everything is compiled once; a check scans the request's
 * header names once (`scan`).
 */
import { headerLayout, type IdentityHeaderSettings } from './upstream/header-presets.js';

/** Identity headers other tools set (oauth2-proxy, Authelia, vouch, Apache/nginx conventions, the verify forwarder). */
export const FOREIGN_IDENTITY_HEADERS: readonly string[] = Object.freeze([
  'x-auth-subject',
  'x-auth-issuer',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'remote-user',
  'remote-groups',
  'remote-email',
  'remote-name',
  'x-remote-user',
  'x-vouch-user',
  'x-authenticated-user',
]);

/** Headers naming another URL than the one judged (IIS, Symfony, Zend, Traefik's and nginx's check conventions). */
export const REWRITE_HEADERS: readonly string[] = Object.freeze([
  'x-rewrite-url',
  'x-original-url',
  'x-original-uri',
  'x-original-method',
  'x-original-host',
  'x-forwarded-uri',
  'x-forwarded-method',
]);

/** Prefixes stripped whole (`*` entries of the list): the name has to be seen in the request to be removed. */
export const STRIP_PREFIXES: readonly string[] = Object.freeze(['x-auth-request-*', 'x-forwarded-*', 'x-original-*']);

/**
 * Forwarding facts the proxy in front sets itself (Envoy, Istio, nginx, Traefik): kept under the
 * `x-forwarded-*` prefix, in this spelling only. Sanitizing them is the proxy's job (Envoy
 * `use_remote_address`, `xff_num_trusted_hops`, `forward_client_cert_details`; Traefik
 * `forwardedHeaders.trustedIPs`; nginx `proxy_set_header`); the forwarders set their own.
 */
export const PROXY_FACTS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-client-cert',
]);

/** The judge's cookies: the session cookie and the login-binding cookies (matched by name prefix). */
export interface JudgeCookies {
  readonly names: readonly string[];
  readonly prefixes: readonly string[];
}

/**
 * Prefixes of every login-attempt cookie name (`oidc_state_csrf_<tag>`, and
 * `__Host-oidc_state_csrf_<tag>` when the session cookie is a `__Host-` one; see oidc/flow.ts).
 */
export const LOGIN_COOKIES_PREFIX = 'oidc_state_csrf';
export const HOST_LOGIN_COOKIES_PREFIX = `__Host-${LOGIN_COOKIES_PREFIX}`;

/** The cookies the judge reads and writes, for a session cookie name: never sent upstream unless kept. */
export function judgeCookies(sessionCookieName: string, more: readonly string[] = []): JudgeCookies {
  return { names: [sessionCookieName, ...more.filter((n) => n !== sessionCookieName)], prefixes: [LOGIN_COOKIES_PREFIX, HOST_LOGIN_COOKIES_PREFIX] };
}

export interface StripOptions {
  /** Header names the judge sets upstream (identity headers): never removed by this list. */
  readonly own?: readonly string[];
  /** `STRIP_HEADERS`: more names, or prefixes ending in `*`. */
  readonly extra?: readonly string[];
  /** Cookies kept from the upstream; absent or empty: every cookie goes (`UPSTREAM_KEEP_AUTH_COOKIES`). */
  readonly cookies?: JudgeCookies;
}

/** What one request needs beyond the fixed lists; `undefined` from `scan` means nothing. */
export interface Scanned {
  /** Names present in the request that match a prefix (or an odd spelling) and are not in `spellings`. */
  readonly extra: readonly string[] | undefined;
  /** The `Cookie` header as the upstream must get it (`undefined`: none left); only when the request had one. */
  readonly cookie: string | undefined;
  /** Whether `cookie` differs from what the client sent. */
  readonly cookieChanged: boolean;
}

export interface Strip {
  /** Every `-`/`_` spelling of every fixed name, minus `own`: removed on every allow and skip. */
  readonly spellings: readonly string[];
  /** Whether a lower-case request header name is one the upstream must not get. */
  stripped(lowerName: string): boolean;
  /** One pass over a request's (lower-case) header names. */
  scan(headers: Readonly<Record<string, string | undefined>>): Scanned | undefined;
  /** A `Cookie` value without the judge's cookies; `undefined` when none is left. */
  withoutJudgeCookies(value: string): string | undefined;
  /** The judge's cookies as configured (empty lists when kept). */
  readonly cookies: JudgeCookies;
}

/** `_` → `-`: the one spelling names compare in. */
export function canonical(lowerName: string): string {
  return lowerName.indexOf('_') < 0 ? lowerName : lowerName.replace(/_/g, '-');
}

/** Every `-`/`_` spelling of a lower-case name (2^k for k separators; only the two uniform ones past 6). */
export function spellings(name: string): string[] {
  const lower = name.toLowerCase();
  const seps: number[] = [];
  for (let i = 0; i < lower.length; i++) if (lower[i] === '-' || lower[i] === '_') seps.push(i);
  if (seps.length > 6) return [...new Set([lower, lower.replace(/_/g, '-'), lower.replace(/-/g, '_')])];
  const out = new Set<string>();
  for (let mask = 0; mask < 1 << seps.length; mask++) {
    const chars = [...lower];
    seps.forEach((pos, bit) => {
      chars[pos] = mask & (1 << bit) ? '_' : '-';
    });
    out.add(chars.join(''));
  }
  return [...out];
}

const NO_COOKIES: JudgeCookies = Object.freeze({ names: Object.freeze([]), prefixes: Object.freeze([]) });

export function compileStrip(o: StripOptions = {}): Strip {
  const own = new Set((o.own ?? []).map((n) => canonical(n.toLowerCase())));
  const entries = [...FOREIGN_IDENTITY_HEADERS, ...REWRITE_HEADERS, ...STRIP_PREFIXES, ...(o.extra ?? [])]
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  const exact = new Set(
    entries
      .filter((e) => !e.endsWith('*'))
      .map(canonical)
      .filter((n) => !own.has(n)),
  );
  const prefixes = [...new Set(entries.filter((e) => e.endsWith('*')).map((e) => canonical(e.slice(0, -1))))];
  const list = Object.freeze([...new Set([...exact].flatMap(spellings))]);
  const listed = new Set(list);
  const cookies = o.cookies ?? NO_COOKIES;
  const cookieNames = new Set(cookies.names);
  // A front door's CLEAN mark covers the built-in prefixes only: more prefixes (or names a spelling
  // list cannot cover) need the pass over the names.
  const trustClean = prefixes.every((p) => BUILTIN_PREFIXES.has(p)) && [...exact].every((n) => (n.match(/-/g)?.length ?? 0) <= 6);
  const keepCookies = cookies.names.length === 0 && cookies.prefixes.length === 0;

  function stripped(lower: string): boolean {
    const c = canonical(lower);
    if (own.has(c)) return false;
    if (exact.has(c)) return true;
    // A proxy's forwarding fact is kept in its own spelling only: `x_forwarded_for` is a client's.
    if (PROXY_FACTS.has(lower)) return false;
    for (const p of prefixes) if (c.startsWith(p)) return true;
    return false;
  }

  function isJudgeCookie(name: string): boolean {
    if (cookieNames.has(name)) return true;
    for (const p of cookies.prefixes) if (name.startsWith(p)) return true;
    return false;
  }

  /** `value` itself when it holds none of the judge's cookies (so an unchanged header compares equal). */
  function withoutJudgeCookies(value: string): string | undefined {
    const kept: string[] = [];
    let dropped = false;
    for (const part of value.split(';')) {
      const pair = part.trim();
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (isJudgeCookie((eq < 0 ? pair : pair.slice(0, eq)).trim())) dropped = true;
      else kept.push(pair);
    }
    if (!dropped) return kept.length === 0 ? undefined : value;
    return kept.length === 0 ? undefined : kept.join('; ');
  }

  // Header names and Cookie values repeat check after check: their verdicts are remembered (bounded).
  const verdicts = new Map<string, boolean>();
  const cookiesSeen = new Map<string, string | undefined>();
  function strippedSeen(name: string): boolean {
    let v = verdicts.get(name);
    if (v === undefined) {
      v = stripped(name);
      if (verdicts.size < MEMO) verdicts.set(name, v);
    }
    return v;
  }
  function cookieLeft(value: string): string | undefined {
    if (keepCookies) return value;
    const hit = cookiesSeen.get(value);
    if (hit !== undefined || cookiesSeen.has(value)) return hit;
    const left = withoutJudgeCookies(value);
    if (cookiesSeen.size >= MEMO) cookiesSeen.clear();
    cookiesSeen.set(value, left);
    return left;
  }

  return {
    spellings: list,
    stripped,
    cookies: keepCookies ? NO_COOKIES : cookies,
    withoutJudgeCookies,
    scan(headers) {
      const cookie0 = headers['cookie'];
      // The front door saw no name a prefix could strip while it built the record: no second pass.
      if (trustClean && (headers as Record<symbol, unknown>)[CLEAN] === true) {
        if (cookie0 === undefined) return undefined;
        const left = cookieLeft(cookie0);
        return { extra: undefined, cookie: left, cookieChanged: left !== cookie0 };
      }
      let extra: string[] | undefined;
      // Object.keys of the (prototype-less, dictionary-mode) record costs less than for…in.
      const names = Object.keys(headers);
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        if (name.charCodeAt(0) === 0x3a /* : */ || name === 'cookie' || listed.has(name)) continue;
        if (strippedSeen(name)) (extra ??= []).push(name);
      }
      const cookie = headers['cookie'];
      if (cookie === undefined) return extra === undefined ? undefined : { extra, cookie: undefined, cookieChanged: false };
      const left = cookieLeft(cookie);
      return { extra, cookie: left, cookieChanged: left !== cookie };
    },
  };
}

/** Entries remembered of header names and Cookie values. */
const MEMO = 4096;

const BUILTIN_PREFIXES: ReadonlySet<string> = new Set(STRIP_PREFIXES.map((p) => canonical(p.slice(0, -1))));

/**
 * Set (to `true`) by a front door on a header record when none of its names is a `candidate`: the
 * judge then needs no pass of its own over the names (enumerating a prototype-less record costs
 * more than the rest of a cached check). A record without it gets the pass.
 */
export const CLEAN: unique symbol = Symbol('oidc-judge.strip-clean');

const builtinVerdicts = new Map<string, boolean>();
/**
 * Whether a lower-case name could be stripped by a built-in prefix (every one starts with `x`)
 * without being on the fixed spellings list: the front doors ask it of each name as they build the
 * record. Cheap: one character test for most names, a remembered answer for the rest.
 */
export function candidate(lowerName: string): boolean {
  if (lowerName.charCodeAt(0) !== 0x78 /* x */) return false;
  let v = builtinVerdicts.get(lowerName);
  if (v === undefined) {
    v = BUILTIN.stripped(lowerName) && !BUILTIN.spellings.includes(lowerName);
    if (builtinVerdicts.size < MEMO) builtinVerdicts.set(lowerName, v);
  }
  return v;
}

/** The settings the strip list is made of (a `Config` has them all). */
export interface StripSettings extends IdentityHeaderSettings {
  readonly stripHeaders: readonly string[];
  readonly upstreamKeepAuthCookies: boolean;
  readonly sessionCookieName: string;
  /** More of the judge's cookies: the other providers' session cookies and the provider choice (`providers:`). */
  readonly moreJudgeCookies?: readonly string[];
}

/** The strip list of a configuration: the one place every front door gets it from. */
export function stripFor(c: StripSettings): Strip {
  return compileStrip({
    own: headerLayout(c).names,
    extra: c.stripHeaders,
    ...(c.upstreamKeepAuthCookies ? {} : { cookies: judgeCookies(c.sessionCookieName, c.moreJudgeCookies) }),
  });
}

/** The built-in list alone (no identity names, no STRIP_HEADERS): what `candidate` and the forwarders use. */
const BUILTIN = compileStrip();
