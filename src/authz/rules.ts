/**
 * Per-route rules (`authzRules`), compiled once at start-up. The FIRST rule whose match (host,
 * methods, path) fits the request decides; the identity passes when it satisfies ANY condition of
 * that rule's `allow`. When rules are configured and none fits, the request is denied.
 *
 * Strictest wins over every way the upstream may read the request:
 *   * an ambiguous request is judged under each of its readings (judge/target.ts): the normalized
 *     path (`/admin;x` and `/x/../admin` are `/admin`), the raw path as a prefix router reads it
 *     (`/admin/../x` is under `/admin` for Express), the decoded path with dot segments kept, the
 *     literal host; it passes only when every reading is allowed, and a reading no rule covers
 *     is denied like any request no rule covers;
 *   * letter case: a rule's path also holds for the same path in other letter case (`/ADMIN`,
 *     `/Admin/`), unless the rule says `caseSensitive: true` — each reading is judged by the first
 *     rule that fits it exactly AND by the first that fits it ignoring case, both must allow.
 * Deny reasons are short and user-safe: no patterns, no claim values. Rules are indexed by path
 * (see `PathIndex`): a check costs a few Map lookups, not one test per rule; a plain lower-case
 * path is judged once, as before.
 *
 * A request claiming another method (`X-HTTP-Method-Override: DELETE` on a GET, `?_method=`, see
 * judge/method-override.ts) is judged once per method it may be read as, and passes only when
 * every one of them is allowed: a GET-only rule cannot let a DELETE through.
 */
import type { AllowSpec, AuthzRule } from '../config/rules.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import { caseMatters, configPath, configPrefix, hostMethodTest, pathFit, type PathFit, type Test } from '../judge/match.js';
import { claimedMethods } from '../judge/method-override.js';
import { fullMatch, type FullMatch } from '../judge/regex.js';
import { emailConditions, type EmailPolicy } from './email.js';
import { compileRequire, REFUSED, stepUpReason, type StrengthTest } from './strength.js';
import { systemClock, type Clock } from '../clock.js';
import { cidrContains, parseCidr, parseIp, trustMatcher, type TrustMatcher } from '../net/cidr.js';
import { clientAddress } from '../net/client-address.js';
import { compileWhen, type WhenTest } from './when/compile.js';
import { ALLOW, claimReader, type Authorizer, type AuthzOutcome, type Reading, type Target } from '../judge/ports.js';

type IdTest = (id: Identity) => boolean;
type Conditions = (id: Identity, t: Target, req: JudgeRequest) => boolean;

/**
 * A rule's `sources` (CIDR ranges the client's address must be in) and `when` (CEL, when/compile.ts),
 * both of which must hold. The CEL variables are built only for a rule that has `when`, and only
 * once its other conditions hold.
 */
function compileRuleConditions(r: AuthzRule, trust: TrustMatcher): Conditions | undefined {
  if (r.sources === undefined && r.when === undefined) return undefined;
  const ranges = r.sources?.map((s) => parseCidr(s)!);
  let when: WhenTest | undefined;
  if (r.when !== undefined) {
    const c = compileWhen(r.when);
    // The loader has refused a bad condition already; one that reaches here anyway allows nobody.
    when = 'test' in c ? c.test : () => false;
  }
  return (id, t, req) => {
    const source = clientAddress(req.peer, req.headers['x-forwarded-for'], trust);
    if (ranges !== undefined) {
      const ip = parseIp(source);
      if (ip === undefined || !ranges.some((c) => cidrContains(c, ip))) return false;
    }
    if (when === undefined) return true;
    const iss = id.claims['iss'];
    return when(
      { method: t.method, host: t.hostname, path: t.path, source, headers: req.headers },
      {
        user: id.user,
        groups: id.groups,
        claims: id.claims,
        method: id.method,
        authenticator: id.authenticator,
        provider: typeof iss === 'string' ? iss : '',
      },
    );
  };
}

interface Compiled {
  /** Host and methods; undefined when the rule names neither. */
  readonly other: Test | undefined;
  /** The path compared as is; undefined when the rule names no path. */
  readonly exact: PathFit | undefined;
  /** The lower-cased path compared ignoring case; undefined for `caseSensitive` rules (and rules without a path). */
  readonly fold: PathFit | undefined;
  readonly allows: IdTest;
  /** The rule's `sources` and `when`: undefined when it has neither. */
  readonly conditions: Conditions | undefined;
  /** The rule's `require`: undefined when it has none. */
  readonly strength: StrengthTest | undefined;
  readonly deny: AuthzOutcome;
  /** The deny when the provider did not give the strength the session's login asked for. */
  readonly notGiven: AuthzOutcome;
  readonly index: number;
}

const NO_RULE: AuthzOutcome = Object.freeze({ kind: 'deny', reason: 'No access rule covers this request.' });

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
  const test = compileConditions(a, email);
  // `programs: false`: a program credential is refused here, whatever else it matches.
  return a.programs === false ? (id) => id.method !== 'program' && test(id) : test;
}

function compileConditions(a: AllowSpec, email: EmailPolicy): IdTest {
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
  const claims = Object.entries(a.claims ?? {}).map(([name, pattern]) => [claimReader(name), fullMatch(pattern)] as const);
  // An empty `claims` map names nobody (fail closed), it does not match everyone.
  if (claims.length > 0) tests.push((id) => claims.every(([read, re]) => claimMatches(read(id.claims), re)));
  return (id) => tests.some((t) => t(id));
}

/**
 * Which rules can fit a path, so a check tests a handful of rules however many are configured:
 * exact paths in a Map, prefixes in a Map keyed by the prefix (a path is under prefix `p` when `p`
 * is '', the path itself, or the path up to one of its slashes), and the rules without a path or
 * with a regex, which every check tests. Each list holds rule numbers in ascending order. Rules
 * that ignore case are keyed by their lower-cased path and looked up with the lower-cased path.
 */
interface PathIndex {
  readonly exact: ReadonlyMap<string, readonly number[]>;
  readonly prefix: ReadonlyMap<string, readonly number[]>;
}

interface Indexes {
  /** `caseSensitive` rules, keyed as written. */
  readonly sens: PathIndex;
  /** Every other rule with an exact or prefix path, keyed lower-cased. */
  readonly fold: PathIndex;
  readonly always: readonly number[];
}

function indexRules(rules: readonly AuthzRule[]): Indexes {
  const sens = { exact: new Map<string, number[]>(), prefix: new Map<string, number[]>() };
  const fold = { exact: new Map<string, number[]>(), prefix: new Map<string, number[]>() };
  const always: number[] = [];
  const add = (map: Map<string, number[]>, key: string, i: number): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [i]);
    else list.push(i);
  };
  rules.forEach((r, i) => {
    const p = r.match.path;
    const cs = r.match.caseSensitive === true;
    const idx = cs ? sens : fold;
    const key = (k: string): string => (cs ? k : k.toLowerCase());
    if (p === undefined || 'regex' in p) always.push(i);
    else if ('exact' in p) add(idx.exact, key(configPath(p.exact)), i);
    else add(idx.prefix, key(configPrefix(p.prefix)), i);
  });
  return { sens, fold, always };
}

/** `p` lower-cased, or `p` itself (no allocation) when it has no upper-case or non-ASCII letter. */
function lowerOf(p: string): string {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return p.toLowerCase();
  }
  return p;
}

function compileRule(r: AuthzRule, i: number, email: EmailPolicy, clock: Clock, trust: TrustMatcher): Compiled {
  const p = r.match.path;
  return {
    conditions: compileRuleConditions(r, trust),
    other: hostMethodTest(r.match),
    exact: p === undefined ? undefined : pathFit(p, false),
    fold: p === undefined || r.match.caseSensitive === true ? undefined : pathFit(p, true),
    allows: compileAllow(r.allow, email),
    strength: r.require === undefined ? undefined : compileRequire(r.require, clock),
    index: i,
    notGiven: Object.freeze({
      kind: 'deny',
      reason: `Access rule authzRules[${i}] requires a stronger sign-in than the identity provider gave.`,
      message: r.description ?? 'This page requires a stronger sign-in than the identity provider gave.',
    }),
    deny: Object.freeze({
      kind: 'deny',
      reason: `Not allowed by access rule authzRules[${i}].`,
      ...(r.description !== undefined ? { message: r.description } : {}),
    }),
  };
}

/**
 * The `rules` authorizer, or undefined when no rule is configured (then it allows everything by not existing).
 * `email`: how the `emails` and `domains` conditions read `email_verified` (see email.ts); `clock`:
 * the time a rule's `require.maxAge` is measured at; `trust`: the proxies whose `X-Forwarded-For`
 * names the client for `sources` and `request.source` (TRUSTED_PROXIES).
 */
export function rulesAuthorizer(
  rules: readonly AuthzRule[],
  email: EmailPolicy = { verifiedRequired: true },
  clock: Clock = systemClock,
  trust: TrustMatcher = trustMatcher([]),
): Authorizer | undefined {
  if (rules.length === 0) return undefined;
  const compiled: readonly Compiled[] = rules.map((r, i) => compileRule(r, i, email, clock, trust));
  const { sens, fold, always } = indexRules(rules);
  const hasSens = sens.exact.size > 0 || sens.prefix.size > 0;
  const hasFold = fold.exact.size > 0 || fold.prefix.size > 0;
  // On a lower-case path, ignoring case changes nothing unless some case-folding rule has upper case in its path.
  const foldDiffers = rules.some((r) => r.match.caseSensitive !== true && r.match.path !== undefined && caseMatters(r.match.path));

  /** Whether rule `c` fits; `folded` compares its path ignoring case (when the rule allows it). */
  function fits(c: Compiled, t: Target, path: string, lower: string, folded: boolean): boolean {
    if (c.other !== undefined && !c.other(t)) return false;
    if (c.exact === undefined) return true;
    return folded && c.fold !== undefined ? c.fold(lower) : c.exact(path);
  }

  /** The first rule of `list` (ascending) that fits, if it comes before rule `best`; else `best`. */
  function scan(list: readonly number[] | undefined, t: Target, path: string, lower: string, folded: boolean, best: number): number {
    if (list !== undefined) {
      for (const i of list) {
        if (i >= best) return best;
        if (fits(compiled[i]!, t, path, lower, folded)) return i;
      }
    }
    return best;
  }

  /** Candidates of `idx` for `key` (the path, or its lower-cased form), scanned in order. */
  function scanIndex(idx: PathIndex, key: string, t: Target, path: string, lower: string, folded: boolean, best: number): number {
    if (idx.exact.size > 0) best = scan(idx.exact.get(key), t, path, lower, folded, best);
    if (idx.prefix.size > 0) {
      best = scan(idx.prefix.get(''), t, path, lower, folded, best);
      for (let slash = key.indexOf('/', 1); slash > 0; slash = key.indexOf('/', slash + 1))
        best = scan(idx.prefix.get(key.slice(0, slash)), t, path, lower, folded, best);
      best = scan(idx.prefix.get(key), t, path, lower, folded, best);
    }
    return best;
  }

  /** The number of the first rule that fits (rules.length when none): comparing paths exactly, or ignoring case where rules allow. */
  function firstFit(t: Target, path: string, lower: string, folded: boolean): number {
    let best = scan(always, t, path, lower, folded, compiled.length);
    if (hasSens) best = scanIndex(sens, path, t, path, lower, folded, best);
    if (hasFold) best = scanIndex(fold, lower, t, path, lower, folded, best);
    return best;
  }

  function outcome(i: number, identity: Identity, t: Target, req: JudgeRequest): AuthzOutcome {
    const r = compiled[i];
    if (r === undefined) return NO_RULE;
    if (!r.allows(identity)) return r.deny;
    if (r.conditions !== undefined && !r.conditions(identity, t, req)) return r.deny;
    const need = r.strength?.(identity);
    if (need === undefined) return ALLOW;
    return need === REFUSED ? r.notGiven : { kind: 'step-up', reason: stepUpReason(r.index, need), need };
  }

  /** One reading under one method: the first rule fitting it exactly and the first fitting it ignoring case must both allow. */
  function judge(identity: Identity, t: Target, req: JudgeRequest): AuthzOutcome {
    const path = t.path;
    const lower = t.lowerCase === true ? path : lowerOf(path);
    const exact = firstFit(t, path, lower, false);
    const out = outcome(exact, identity, t, req);
    if (final(out) || (lower === path && !foldDiffers)) return out;
    const folded = firstFit(t, path, lower, true);
    return folded === exact ? out : stricter(out, outcome(folded, identity, t, req));
  }

  /** Every reading of the request under one method. */
  function judgeReadings(identity: Identity, target: Target, method: string, req: JudgeRequest): AuthzOutcome {
    const t = method === target.method ? target : { ...target, method };
    let out = judge(identity, t, req);
    if (final(out)) return out;
    const readings = target.readings;
    if (readings !== undefined) {
      for (const r of readings) {
        out = stricter(out, judge(identity, readingOf(t, r), req));
        if (final(out)) return out;
      }
    }
    return out;
  }

  return {
    name: 'rules',
    authorize(identity: Identity, target: Target, req: JudgeRequest): AuthzOutcome {
      let out = judgeReadings(identity, target, target.method, req);
      if (final(out)) return out;
      for (const method of claimedMethods(target, req)) {
        out = stricter(out, judgeReadings(identity, target, method, req));
        if (final(out)) return out;
      }
      return out;
    },
  };
}

/** A deny (or error) ends the judging; an allow or a step-up may still meet a stricter reading. */
const final = (o: AuthzOutcome): boolean => o.kind === 'deny' || o.kind === 'error';

/** The stricter of two outcomes: a deny over a step-up over an allow (the first step-up when both are). */
function stricter(a: AuthzOutcome, b: AuthzOutcome): AuthzOutcome {
  return final(a) || (a.kind === 'step-up' && !final(b)) ? a : b;
}

function readingOf(t: Target, r: Reading): Target {
  return { method: t.method, hostname: r.hostname, path: r.path, ambiguous: true };
}
