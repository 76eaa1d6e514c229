/**
 * Building blocks shared by skip rules (judge/skip.ts) and route rules (authz/rules.ts): host,
 * method and path matchers compiled once from the configured `RequestMatch`, tested on a `Target`.
 */
import type { Target } from './ports.js';
import { configHost } from './host.js';
import { normalizePath } from './path.js';
import { fullMatch } from './regex.js';

/** A configured path condition (`skipRules:` and `authzRules:` in config/rules.ts). */
export type PathMatch = { readonly prefix: string } | { readonly exact: string } | { readonly regex: string };

/** The host, method and path conditions a skip or route rule names; absent parts match everything. */
export interface RequestMatch {
  /** Exact host (`app.example.com`) or a wildcard suffix (`*.example.com`); case-insensitive, port ignored. */
  readonly host?: string;
  /** Upper-case methods; absent = every method. */
  readonly methods?: readonly string[];
  readonly path?: PathMatch;
}

export type Test = (t: Target) => boolean;

/**
 * `app.example.com` (exact), `*.example.com` (any subdomain, not the apex) or `*` (any).
 * Case-insensitive, port ignored, read like a request's host (judge/host.ts: IDN as punycode).
 */
export function hostTest(pattern: string): Test {
  if (pattern === '*') return () => true;
  if (pattern.startsWith('*.')) {
    const suffix = '.' + configHost(pattern.slice(2)); // `.example.com`
    return (t) => t.hostname.length > suffix.length && t.hostname.endsWith(suffix);
  }
  const exact = configHost(pattern);
  return (t) => t.hostname === exact;
}

export function methodTest(methods: readonly string[]): Test {
  const set = new Set(methods.map((m) => m.toUpperCase()));
  return (t) => set.has(t.method);
}

/**
 * A configured path in the form request paths are compared in: normalized like a request path.
 * For prefixes the trailing slash is dropped (`/dex/` and `/dex` both mean "`/dex` and below"),
 * and `/` becomes the empty string (everything).
 */
export function configPath(p: string): string {
  return normalizePath(p).path;
}
export function configPrefix(p: string): string {
  return configPath(p).replace(/\/+$/, '');
}

/** Segment-aware prefix test: `/dex` matches `/dex`, `/dex/`, `/dex/x`, never `/dexfoo`. `prefix` comes from `configPrefix`. */
export function underPrefix(path: string, prefix: string): boolean {
  return prefix === '' || (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f));
}

export function pathTest(m: PathMatch): Test {
  if ('exact' in m) {
    const exact = configPath(m.exact);
    return (t) => t.path === exact;
  }
  if ('prefix' in m) {
    const prefix = configPrefix(m.prefix);
    return (t) => underPrefix(t.path, prefix);
  }
  const re = fullMatch(m.regex);
  return (t) => re.test(t.path);
}

/** A path test on a path string; `fold`: compared case-insensitively (the caller passes the lower-cased path). */
export type PathFit = (path: string) => boolean;

export function pathFit(m: PathMatch, fold: boolean): PathFit {
  if ('exact' in m) {
    const exact = fold ? configPath(m.exact).toLowerCase() : configPath(m.exact);
    return (p) => p === exact;
  }
  if ('prefix' in m) {
    const prefix = fold ? configPrefix(m.prefix).toLowerCase() : configPrefix(m.prefix);
    return (p) => underPrefix(p, prefix);
  }
  const re = fullMatch(fold ? `(?i)${m.regex}` : m.regex);
  return (p) => re.test(p);
}

/** Whether comparing `m` case-insensitively can give another answer than comparing it exactly on a lower-case path. */
export function caseMatters(m: PathMatch): boolean {
  const s = 'exact' in m ? m.exact : 'prefix' in m ? m.prefix : m.regex;
  return 'regex' in m ? s !== s.toLowerCase() || s.includes('\\') || s.includes('[:') : s !== s.toLowerCase();
}

/** The host and method conditions of a `RequestMatch` as one test; absent parts match everything. */
export function hostMethodTest(m: RequestMatch): Test | undefined {
  const h = m.host === undefined ? undefined : hostTest(m.host);
  const me = m.methods === undefined ? undefined : methodTest(m.methods);
  if (h === undefined) return me;
  if (me === undefined) return h;
  return (t) => h(t) && me(t);
}

/** All the conditions of a `RequestMatch` (host, methods, path) as one test; absent parts match everything. */
export function requestTest(m: RequestMatch): Test {
  const tests: Test[] = [];
  if (m.host !== undefined) tests.push(hostTest(m.host));
  if (m.methods !== undefined) tests.push(methodTest(m.methods));
  if (m.path !== undefined) tests.push(pathTest(m.path));
  const [a, b, c] = tests;
  if (a === undefined) return () => true;
  if (b === undefined) return a;
  if (c === undefined) return (t) => a(t) && b(t);
  return (t) => a(t) && b(t) && c(t);
}
