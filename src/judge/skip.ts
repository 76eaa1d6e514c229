/**
 * Everything that lets a request through without authentication, compiled once at start-up:
 * the path of `AUTHSERVICE_URL_PREFIX` (always skipped, as in oidc-authservice, so the service's
 * own pages and callback get through), `SKIP_AUTH_URLS` (path prefixes) and `skipRules` (host,
 * methods, path prefix/exact/regex, CORS preflight).
 *
 * Unlike oidc-authservice's raw `HasPrefix`, prefixes are segment-aware (`/dex` skips `/dex` and
 * `/dex/…`, never `/dexfoo`) and compared with the normalized path; an ambiguous path (see
 * judge/path.ts) never matches — it must authenticate. A rule limited to some methods does not
 * match a request carrying a method override (`X-HTTP-Method-Override`, `_method=`) that names
 * another method, which the upstream might obey.
 *
 * Prefix rules live in a segment trie and exact paths in a Map, so a check costs one walk down the
 * path's segments however many rules there are; regexes run only when configured.
 */
import type { Target } from './ports.js';
import { pathOf } from '../net/url-path.js';
import { configPath, configPrefix, hostTest, methodTest, pathTest, type RequestMatch, type Test } from './match.js';
import { overridesMethod } from './method-override.js';
import type { JudgeRequest } from './request.js';

/** One `skipRules:` entry (validated in config/rules.ts). */
export interface SkipRule extends RequestMatch {
  /** Matches CORS preflights only: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
  readonly preflight?: boolean;
  /** `ASSERTION_HEADER`: a caller the authenticators vouch for gets the signed assertion here too (others pass without one). */
  readonly assertion?: boolean;
}

export interface SkipOptions {
  /** `AUTHSERVICE_URL_PREFIX`: a path or an absolute URL; its path is always skipped. */
  readonly authserviceUrlPrefix: string;
  readonly skipAuthUrls: readonly string[];
  readonly skipRules: readonly SkipRule[];
}

export interface SkipMatcher {
  /** The label of a rule that lets this request through unauthenticated (for logs), or undefined. */
  matches(target: Target, req: JudgeRequest): string | undefined;
  /** Labels of the rules that ask for the assertion of a caller who has credentials (`assertion: true`); absent or empty: none. */
  readonly asserting?: ReadonlySet<string>;
}

/** A rule reduced to what is left to check once its path matched. */
interface Cond {
  readonly label: string;
  readonly host: Test | undefined;
  readonly methods: Test | undefined;
  readonly preflight: boolean;
}

interface Node {
  readonly conds: Cond[];
  readonly kids: Map<string, Node>;
}

/** The frozen trie: few children are scanned in place (no allocation), many are looked up by segment. */
interface Frozen {
  readonly conds: readonly Cond[];
  readonly list: readonly (readonly [string, Frozen])[] | undefined;
  readonly map: ReadonlyMap<string, Frozen> | undefined;
}

const SCAN_MAX = 8;
const SLASH = 0x2f;

function toLookup(n: Node): Frozen {
  const kids = [...n.kids].map(([seg, kid]) => [seg, toLookup(kid)] as const);
  if (kids.length === 0) return { conds: n.conds, list: undefined, map: undefined };
  if (kids.length <= SCAN_MAX) return { conds: n.conds, list: kids, map: undefined };
  return { conds: n.conds, list: undefined, map: new Map(kids) };
}

function child(n: Frozen, path: string, start: number, end: number): Frozen | undefined {
  if (n.list !== undefined) {
    const len = end - start;
    for (const [seg, kid] of n.list) if (seg.length === len && path.startsWith(seg, start)) return kid;
    return undefined;
  }
  return n.map?.get(path.slice(start, end));
}

function isPreflight(t: Target, req: JudgeRequest): boolean {
  return t.method === 'OPTIONS' && !!req.headers['origin'] && !!req.headers['access-control-request-method'];
}

function fits(c: Cond, t: Target, req: JudgeRequest): boolean {
  return (
    (c.host === undefined || c.host(t)) &&
    (c.methods === undefined || (c.methods(t) && !overridesMethod(t, req))) &&
    (!c.preflight || (isPreflight(t, req) && !overridesMethod(t, req)))
  );
}

function firstFit(conds: readonly Cond[], t: Target, req: JudgeRequest): string | undefined {
  for (const c of conds) if (fits(c, t, req)) return c.label;
  return undefined;
}

export function compileSkipRules(opts: SkipOptions): SkipMatcher {
  const root: Node = { conds: [], kids: new Map() };
  const exact = new Map<string, Cond[]>();
  const regexes: { readonly test: Test; readonly cond: Cond }[] = [];
  const anyPath: Cond[] = [];

  const addPrefix = (prefix: string, cond: Cond): void => {
    let node = root;
    for (const seg of prefix === '' ? [] : prefix.slice(1).split('/')) {
      let kid = node.kids.get(seg);
      if (kid === undefined) node.kids.set(seg, (kid = { conds: [], kids: new Map() }));
      node = kid;
    }
    node.conds.push(cond);
  };
  const plain = (label: string): Cond => ({ label, host: undefined, methods: undefined, preflight: false });

  const own = configPrefix(pathOf(opts.authserviceUrlPrefix));
  if (own === '') throw new Error('AUTHSERVICE_URL_PREFIX: its path must not be "/" (it is always skipped, so everything would be)');
  addPrefix(own, plain(`AUTHSERVICE_URL_PREFIX ${own}/`));

  for (const entry of opts.skipAuthUrls) {
    if (entry.trim() === '') continue;
    addPrefix(configPrefix(entry.trim()), plain(`SKIP_AUTH_URLS ${entry.trim()}`));
  }

  opts.skipRules.forEach((r, i) => {
    const cond: Cond = {
      label: `skipRules[${i}]`,
      host: r.host === undefined ? undefined : hostTest(r.host),
      methods: r.methods === undefined ? undefined : methodTest(r.methods),
      preflight: r.preflight === true,
    };
    const p = r.path;
    if (p === undefined) anyPath.push(cond);
    else if ('prefix' in p) addPrefix(configPrefix(p.prefix), cond);
    else if ('exact' in p) {
      const key = configPath(p.exact);
      const list = exact.get(key);
      if (list) list.push(cond);
      else exact.set(key, [cond]);
    } else regexes.push({ test: pathTest(p), cond });
  });

  const trie = toLookup(root);

  function walk(t: Target, req: JudgeRequest): string | undefined {
    const path = t.path;
    let node: Frozen | undefined = trie;
    let hit = firstFit(node.conds, t, req);
    let start = 1; // just after a '/'
    while (hit === undefined && start < path.length && (node.list !== undefined || node.map !== undefined)) {
      let end = path.indexOf('/', start);
      if (end < 0) end = path.length;
      node = child(node, path, start, end);
      if (node === undefined) return undefined;
      hit = firstFit(node.conds, t, req);
      start = end + 1;
    }
    return hit;
  }

  const asserting = new Set(opts.skipRules.flatMap((r, i) => (r.assertion === true ? [`skipRules[${i}]`] : [])));
  return {
    asserting,
    matches(t, req) {
      if (t.ambiguous || t.path.charCodeAt(0) !== SLASH) return undefined;
      let hit = anyPath.length > 0 ? firstFit(anyPath, t, req) : undefined;
      if (hit === undefined && exact.size > 0) {
        const list = exact.get(t.path);
        if (list) hit = firstFit(list, t, req);
      }
      hit ??= walk(t, req);
      if (hit === undefined) for (const r of regexes) if (r.test(t) && fits(r.cond, t, req)) return r.cond.label;
      return hit;
    },
  };
}
