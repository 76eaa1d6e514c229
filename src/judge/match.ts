/**
 * Building blocks shared by skip rules (judge/skip.ts) and route rules (authz/rules.ts): host,
 * method and path matchers compiled once from the configured `RequestMatch`, tested on a `Target`.
 */
import type { Target } from '../authz/types.js';
import type { PathMatch, RequestMatch } from '../config/rules.js';
import { hostnameOf, normalizePath } from './path.js';
import { fullMatch } from './regex.js';

export type Test = (t: Target) => boolean;

/** `app.example.com` (exact), `*.example.com` (any subdomain, not the apex) or `*` (any). Case-insensitive, port ignored. */
export function hostTest(pattern: string): Test {
  if (pattern === '*') return () => true;
  if (pattern.startsWith('*.')) {
    const suffix = hostnameOf(pattern.slice(1)); // `.example.com`
    return (t) => t.hostname.length > suffix.length && t.hostname.endsWith(suffix);
  }
  const exact = hostnameOf(pattern);
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
  return (
    prefix === '' ||
    (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f))
  );
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
