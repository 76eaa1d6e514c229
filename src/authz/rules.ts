/**
 * Per-route rules (`authzRules`), compiled once at start-up. The FIRST rule whose match (host,
 * methods, path) fits the request decides; the identity passes when it satisfies ANY condition of
 * that rule's `allow`. When rules are configured and none fits, the request is denied.
 *
 * Paths are matched in normalized form even when ambiguous, so `/admin;x` or `/x/../admin` is
 * judged by the `/admin` rule. Deny reasons are short and user-safe: no patterns, no claim values.
 * Rules are indexed by path (see `PathIndex`): a check costs a few Map lookups, not one test per rule.
 *
 * A request claiming another method (`X-HTTP-Method-Override: DELETE` on a GET, `?_method=`, see
 * judge/method-override.ts) is judged once per method it may be read as, and passes only when
 * every one of them is allowed: a GET-only rule cannot let a DELETE through.
 */
import type { AllowSpec, AuthzRule } from '../config/rules.js';
import type { Identity } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { configPath, configPrefix, requestTest, type Test } from '../judge/match.js';
import { claimedMethods } from '../judge/method-override.js';
import { fullMatch, type FullMatch } from '../judge/regex.js';
import { emailConditions, type EmailPolicy } from './email.js';
import { ALLOW, type Authorizer, type AuthzOutcome, type Target } from './types.js';

type IdTest = (id: Identity) => boolean;

interface Compiled {
  readonly fits: Test;
  readonly allows: IdTest;
  readonly deny: AuthzOutcome;
}

const NO_RULE: AuthzOutcome = Object.freeze({ kind: 'deny', reason: 'No access rule covers this request.' });

function claimOf(id: Identity, name: string): unknown {
  return Object.hasOwn(id.claims, name) ? id.claims[name] : undefined;
}

/** Strings, numbers and booleans compare as their string form; arrays match when any element does; anything else never. */
function claimMatches(v: unknown, re: FullMatch): boolean {
  switch (typeof v) {
    case 'string':
      return re.test(v);
    case 'number':
    case 'boolean':
    case 'bigint':
      return re.test(String(v));
    default:
      return Array.isArray(v) && v.some((x) => typeof x !== 'object' && x !== undefined && claimMatches(x, re));
  }
}

function compileAllow(a: AllowSpec, email: EmailPolicy): IdTest {
  if (a.authenticated === true) return () => true;
  const tests: IdTest[] = [];
  if (a.users !== undefined && a.users.length > 0) {
    const users = new Set(a.users);
    tests.push((id) => users.has(id.user));
  }
  if (a.groups !== undefined && a.groups.length > 0) {
    const groups = new Set(a.groups);
    tests.push((id) => id.groups.some((g) => groups.has(g)));
  }
  tests.push(...emailConditions(a, email));
  const claims = Object.entries(a.claims ?? {}).map(([name, pattern]) => [name, fullMatch(pattern)] as const);
  // An empty `claims` map names nobody (fail closed), it does not match everyone.
  if (claims.length > 0) tests.push((id) => claims.every(([name, re]) => claimMatches(claimOf(id, name), re)));
  return (id) => tests.some((t) => t(id));
}

/**
 * Which rules can fit a path, so a check tests a handful of rules however many are configured:
 * exact paths in a Map, prefixes in a Map keyed by the prefix (a path is under prefix `p` when `p`
 * is '', the path itself, or the path up to one of its slashes), and the rules without a path or
 * with a regex, which every check tests. Each list holds rule numbers in ascending order.
 */
interface PathIndex {
  readonly exact: ReadonlyMap<string, readonly number[]>;
  readonly prefix: ReadonlyMap<string, readonly number[]>;
  readonly always: readonly number[];
}

function indexRules(rules: readonly AuthzRule[]): PathIndex {
  const exact = new Map<string, number[]>();
  const prefix = new Map<string, number[]>();
  const always: number[] = [];
  const add = (map: Map<string, number[]>, key: string, i: number): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [i]);
    else list.push(i);
  };
  rules.forEach((r, i) => {
    const p = r.match.path;
    if (p === undefined || 'regex' in p) always.push(i);
    else if ('exact' in p) add(exact, configPath(p.exact), i);
    else add(prefix, configPrefix(p.prefix), i);
  });
  return { exact, prefix, always };
}

/**
 * The `rules` authorizer, or undefined when no rule is configured (then it allows everything by not existing).
 * `email`: how the `emails` and `domains` conditions read `email_verified` (see email.ts).
 */
export function rulesAuthorizer(rules: readonly AuthzRule[], email: EmailPolicy = { verifiedRequired: true }): Authorizer | undefined {
  if (rules.length === 0) return undefined;
  const compiled: readonly Compiled[] = rules.map((r, i) => ({
    fits: requestTest(r.match),
    allows: compileAllow(r.allow, email),
    deny: Object.freeze({ kind: 'deny', reason: `Not allowed by access rule authzRules[${i}].` }),
  }));
  const { exact, prefix, always } = indexRules(rules);

  /** The first rule of `list` (ascending) that fits, if it comes before rule `best`; else `best`. */
  function scan(list: readonly number[] | undefined, t: Target, best: number): number {
    if (list !== undefined) {
      for (const i of list) {
        if (i >= best) return best;
        if (compiled[i]!.fits(t)) return i;
      }
    }
    return best;
  }

  /** The first (lowest-numbered) rule that fits, among the candidates the index names. */
  function firstFit(t: Target): Compiled | undefined {
    const path = t.path;
    let best = scan(always, t, compiled.length);
    if (exact.size > 0) best = scan(exact.get(path), t, best);
    if (prefix.size > 0) {
      best = scan(prefix.get(''), t, best);
      for (let slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) best = scan(prefix.get(path.slice(0, slash)), t, best);
      best = scan(prefix.get(path), t, best);
    }
    return compiled[best];
  }

  function judge(identity: Identity, target: Target): AuthzOutcome {
    const r = firstFit(target);
    if (r === undefined) return NO_RULE;
    return r.allows(identity) ? ALLOW : r.deny;
  }

  return {
    name: 'rules',
    authorize(identity: Identity, target: Target, req: JudgeRequest): AuthzOutcome {
      const out = judge(identity, target);
      if (out.kind !== 'allow') return out;
      for (const method of claimedMethods(target, req)) {
        const other = judge(identity, { ...target, method });
        if (other.kind !== 'allow') return other;
      }
      return out;
    },
  };
}
