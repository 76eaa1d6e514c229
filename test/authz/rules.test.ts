import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rulesAuthorizer } from '../../src/authz/rules.js';
import type { Authorizer, AuthzOutcome } from '../../src/judge/ports.js';
import { MAX_DESCRIPTION, parseAuthzRules, type AuthzRule } from '../../src/config/rules.js';
import type { Identity } from '../../src/judge/decision.js';
import { requestTest } from '../../src/judge/match.js';
import { targetOf } from '../../src/judge/target.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { judgeRequest } from '../helpers/request.js';

const req = judgeRequest;

function id(user: string, more: Partial<Identity> = {}): Identity {
  return { user, groups: [], claims: {}, method: 'header', authenticator: 'access_token', ...more };
}

function compile(rules: AuthzRule[]): Authorizer {
  const a = rulesAuthorizer(rules);
  assert.ok(a);
  return a;
}

function check(a: Authorizer, who: Identity, path: string, more: Partial<JudgeRequest> = {}): AuthzOutcome {
  const r = req(path, more);
  const out = a.authorize(who, targetOf(r), r);
  assert.ok(!(out instanceof Promise));
  return out;
}
const allowed = (o: AuthzOutcome): boolean => o.kind === 'allow';

describe('authzRules: matching', () => {
  const a = compile([
    { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'] } },
    { match: { host: '*.internal.example.com' }, allow: { groups: ['ops'] } },
    { match: { methods: ['GET', 'HEAD'], path: { regex: '/docs/.*' } }, allow: { authenticated: true } },
    { match: { path: { exact: '/' } }, allow: { authenticated: true } },
    { match: { path: { prefix: '/' } }, allow: { groups: ['staff'] } },
  ]);
  const alice = id('alice', { groups: ['staff'] });
  const root = id('root', { groups: ['admins'] });

  it('the first matching rule decides (no fall-through to later, more lenient rules)', () => {
    assert.ok(allowed(check(a, root, '/admin/users')));
    const out = check(a, alice, '/admin/users');
    assert.deepEqual(out, { kind: 'deny', reason: 'Not allowed by access rule authzRules[0].' });
    assert.ok(allowed(check(a, alice, '/other')));
  });

  it('prefixes are segment-aware', () => {
    assert.ok(allowed(check(a, alice, '/administrator')));
    assert.equal(check(a, alice, '/admin').kind, 'deny');
  });

  it('ambiguous paths are judged in normalized form', () => {
    for (const p of ['/admin;x', '/admin;x/users', '/x/../admin', '/%61dmin', '/admin%2fusers', '//admin', '/ADMIN/../admin', '/x\\..\\admin']) {
      assert.equal(check(a, alice, p).kind, 'deny', p);
    }
  });

  it('never reads the query', () => {
    assert.equal(check(a, alice, '/admin?x=/other').kind, 'deny');
  });

  it('host wildcard and method lists', () => {
    const bob = id('bob', { groups: ['ops'] });
    assert.ok(allowed(check(a, bob, '/x', { host: 'db.internal.example.com:8443' })));
    assert.equal(check(a, bob, '/x', { host: 'internal.example.com' }).kind, 'deny');
    const anyone = id('eve');
    assert.ok(allowed(check(a, anyone, '/docs/a')));
    assert.equal(check(a, anyone, '/docs/a', { method: 'POST' }).kind, 'deny');
    assert.ok(allowed(check(a, anyone, '/')));
  });

  it('denies by default when no rule matches', () => {
    const b = compile([{ match: { path: { prefix: '/app' } }, allow: { authenticated: true } }]);
    assert.deepEqual(check(b, id('x'), '/elsewhere'), { kind: 'deny', reason: 'No access rule covers this request.' });
  });

  it('with no rules there is no authorizer', () => {
    assert.equal(rulesAuthorizer([]), undefined);
  });

  it('is named "rules"', () => assert.equal(compile([{ match: {}, allow: { authenticated: true } }]).name, 'rules'));
});

describe('authzRules: method overrides are judged under every method they claim', () => {
  // A GET-only rule for everyone, then admins only for the rest, and a DELETE rule for admins in
  // front of a lenient catch-all: both orders must refuse a non-admin's overridden DELETE.
  const getFirst = compile([
    { match: { methods: ['GET', 'HEAD'], path: { prefix: '/items' } }, allow: { authenticated: true } },
    { match: {}, allow: { groups: ['admins'] } },
  ]);
  const deleteFirst = compile([
    { match: { methods: ['DELETE'], path: { prefix: '/items' } }, allow: { groups: ['admins'] } },
    { match: {}, allow: { authenticated: true } },
  ]);
  const eve = id('eve');
  const root = id('root', { groups: ['admins'] });
  const overrides: [string, Partial<JudgeRequest>][] = [
    ['/items/1', { headers: { 'x-http-method-override': 'DELETE' } }],
    ['/items/1', { headers: { 'x-http-method': ' delete ' } }],
    ['/items/1', { headers: { 'x-method-override': 'GET, DELETE' } }],
    ['/items/1?_method=DELETE', {}],
    ['/items/1?a=1&_method=%44ELETE', {}],
    ['/items/1?_method=GET&_method=DELETE', {}],
  ];

  for (const [path, more] of overrides) {
    it(`${path} ${JSON.stringify(more.headers ?? {})}`, () => {
      assert.equal(check(getFirst, eve, path, more).kind, 'deny');
      assert.equal(check(deleteFirst, eve, path, more).kind, 'deny');
      assert.ok(allowed(check(getFirst, root, path, more)));
      assert.ok(allowed(check(deleteFirst, root, path, more)));
    });
  }

  it('an override naming the real method, or empty, changes nothing', () => {
    for (const h of ['GET', 'get', ' ', '']) assert.ok(allowed(check(getFirst, eve, '/items/1', { headers: { 'x-http-method-override': h } })), h);
    assert.ok(allowed(check(getFirst, eve, '/items/1?_method=get')));
    assert.ok(allowed(check(deleteFirst, eve, '/items/1')));
  });

  it('the deny names the rule that refused the claimed method', () => {
    assert.deepEqual(check(getFirst, eve, '/items/1', { headers: { 'x-http-method-override': 'DELETE' } }), {
      kind: 'deny',
      reason: 'Not allowed by access rule authzRules[1].',
    });
  });
});

describe('authzRules: conditions (any one suffices)', () => {
  const only = (allow: AuthzRule['allow']): Authorizer => compile([{ match: {}, allow }]);
  const ok = (allow: AuthzRule['allow'], who: Identity): boolean => allowed(check(only(allow), who, '/'));

  it('authenticated', () => assert.ok(ok({ authenticated: true }, id('anyone'))));

  it('users: exact id', () => {
    assert.ok(ok({ users: ['alice'] }, id('alice')));
    assert.ok(!ok({ users: ['alice'] }, id('Alice')));
    assert.ok(!ok({ users: ['alice'] }, id('alice2')));
  });

  it('groups: any', () => {
    assert.ok(ok({ groups: ['a', 'b'] }, id('u', { groups: ['c', 'b'] })));
    assert.ok(!ok({ groups: ['a'] }, id('u', { groups: ['A'] })));
    assert.ok(!ok({ groups: ['a'] }, id('u')));
  });

  const verified = (email: unknown, more: Record<string, unknown> = {}): Partial<Identity> => ({ claims: { email, email_verified: true, ...more } });

  it('emails: case-insensitive, from the verified email claim only — an e-mail-shaped user id is no address', () => {
    assert.ok(ok({ emails: ['alice@example.com'] }, id('sub-1', verified('Alice@Example.COM'))));
    assert.ok(!ok({ emails: ['alice@example.com'] }, id('alice@example.com')), 'the user id may be a name the user chose');
    assert.ok(!ok({ emails: ['alice@example.com'] }, id('sub-1')));
    assert.ok(!ok({ emails: ['alice@example.com'] }, id('alice@example.com', verified('mallory@example.com'))));
  });

  it('email_verified: true or "true" counts; false, "false", other values and (by default) a missing claim do not', () => {
    const who = (ev: unknown): Identity =>
      id('u', { claims: ev === undefined ? { email: 'alice@example.com' } : { email: 'alice@example.com', email_verified: ev } });
    for (const ev of [true, 'true']) assert.ok(ok({ emails: ['alice@example.com'] }, who(ev)), String(ev));
    for (const ev of [false, 'false', undefined, 'TRUE', 1, 'yes', null, [true]]) {
      assert.ok(!ok({ emails: ['alice@example.com'] }, who(ev)), String(ev));
      assert.ok(!ok({ domains: ['example.com'] }, who(ev)), String(ev));
    }
    // EMAIL_VERIFIED_REQUIRED=false: a provider that never sends the claim; an explicit false still counts for nothing.
    const lax = rulesAuthorizer([{ match: {}, allow: { domains: ['example.com'] } }], { verifiedRequired: false })!;
    assert.ok(allowed(check(lax, who(undefined), '/')));
    assert.ok(!allowed(check(lax, who(false), '/')));
    assert.ok(!allowed(check(lax, who('false'), '/')));
  });

  it('domains: exact domain after the one @, case-insensitive; look-alikes and smuggled @ refused', () => {
    const dom = (email: unknown): boolean => ok({ domains: ['example.com'] }, id('sub', verified(email)));
    assert.ok(dom('a@example.com'));
    assert.ok(dom('a@EXAMPLE.com'));
    for (const e of [
      'a@evil-example.com',
      'a@example.com.evil.io',
      'a@sub.example.com',
      'a@evilexample.com',
      'example.com',
      '"a@example.com"@evil.io',
      '@',
      'a@evil.com@example.com',
      'a@example.com@evil.com',
      '"a@evil.com"@example.com',
      '"a"@example.com',
      '@example.com',
      'a@example.com.',
      'a@.example.com',
      'a@example..com',
      ' a@example.com',
      'a@example.com ',
      'a @example.com',
      'a@example.com\n',
      'a\r\n@example.com',
      'a@[127.0.0.1]',
      'a@example',
      'a.@example.com',
      '.a@example.com',
      'a..b@example.com',
      'a(comment)@example.com',
      'a@example.com(comment)',
      'a@exämple.com',
      'ä@example.com',
      'a@-example.com',
      'a@example-.com',
      `${'a'.repeat(65)}@example.com`,
      '',
      42,
      ['a@example.com'],
      null,
    ]) {
      assert.ok(!dom(e), JSON.stringify(e));
    }
    assert.ok(ok({ domains: ['@Example.com'] }, id('u', verified('bob@example.com'))));
  });

  it('claims: anchored RE2 patterns, every listed claim must match', () => {
    const rule = { claims: { dept: 'eng', level: '[3-9]' } };
    assert.ok(ok(rule, id('u', { claims: { dept: 'eng', level: 5 } })));
    assert.ok(!ok(rule, id('u', { claims: { dept: 'engineering', level: 5 } })), '`eng` must not match `engineering`');
    assert.ok(!ok(rule, id('u', { claims: { dept: 'reng', level: 5 } })));
    assert.ok(!ok(rule, id('u', { claims: { dept: 'eng', level: 10 } })));
    assert.ok(!ok(rule, id('u', { claims: { dept: 'eng' } })), 'a missing claim never matches');
    assert.ok(ok({ claims: { dept: 'eng.*' } }, id('u', { claims: { dept: 'engineering' } })));
  });

  it('claims: arrays match on any element; numbers and booleans by their string form', () => {
    assert.ok(ok({ claims: { roles: 'admin' } }, id('u', { claims: { roles: ['user', 'admin'] } })));
    assert.ok(!ok({ claims: { roles: 'admin' } }, id('u', { claims: { roles: ['user', 'admins'] } })));
    assert.ok(ok({ claims: { mfa: 'true' } }, id('u', { claims: { mfa: true } })));
    assert.ok(ok({ claims: { tier: '2' } }, id('u', { claims: { tier: 2 } })));
    assert.ok(ok({ claims: { ids: '7' } }, id('u', { claims: { ids: [1, 7] } })));
  });

  it('claims: objects, null, nested arrays and inherited names never match and never crash', () => {
    for (const v of [{ admin: true }, null, undefined, [['admin']], [{ role: 'admin' }], () => 'admin']) {
      assert.ok(!ok({ claims: { role: '.*' } }, id('u', { claims: { role: v } })), String(v));
    }
    assert.ok(!ok({ claims: { constructor: '.*' } }, id('u')));
    assert.ok(!ok({ claims: Object.fromEntries([['__proto__', '.*']]) as Record<string, string> }, id('u')));
    assert.ok(!ok({ claims: { toString: '.*' } }, id('u')));
  });

  it('claims: a catastrophic-backtracking pattern stays linear', () => {
    const t0 = performance.now();
    assert.ok(!ok({ claims: { x: '(a+)+$' } }, id('u', { claims: { x: 'a'.repeat(50_000) + '!' } })));
    assert.ok(performance.now() - t0 < 10_000);
  });

  it('an empty claims map names nobody', () => {
    assert.ok(!ok({ claims: {} }, id('u')));
  });

  it('any listed condition suffices', () => {
    const allow = { users: ['root'], groups: ['admins'], domains: ['example.com'] };
    assert.ok(ok(allow, id('root')));
    assert.ok(ok(allow, id('x', { groups: ['admins'] })));
    assert.ok(ok(allow, id('x', verified('x@example.com'))));
    assert.ok(!ok(allow, id('x', { groups: ['users'], ...verified('x@example.org') })));
  });

  it('deny reasons reveal no patterns or claim values', () => {
    const a = only({ claims: { secret_claim: 'sup3r-s3cret-pattern' } });
    const out = check(a, id('u', { claims: { secret_claim: 'value-xyz' } }), '/');
    assert.equal(out.kind, 'deny');
    assert.ok(out.kind === 'deny' && !/sup3r|value-xyz|secret_claim/.test(out.reason));
  });
});

describe('authzRules: the path index picks the same rule as trying every rule in order', () => {
  /** A small deterministic generator (mulberry32), so a failure can be replayed. */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const segments = ['a', 'b', 'ab', 'docs', 'x'];

  it('for random rule sets (prefix, exact, regex, no path; hosts and methods) and random paths', () => {
    const rnd = random(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const somePath = (): string => {
      const segs = Array.from({ length: Math.floor(rnd() * 4) }, () => pick(segments));
      return '/' + segs.join('/') + (segs.length > 0 && rnd() < 0.2 ? '/' : '');
    };
    for (let round = 0; round < 200; round++) {
      const rules: AuthzRule[] = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, i) => {
        const kind = pick(['prefix', 'prefix', 'exact', 'regex', 'none'] as const);
        const path =
          kind === 'none'
            ? undefined
            : kind === 'regex'
              ? { regex: `/${pick(segments)}.*` }
              : ({ [kind]: somePath() } as { prefix: string } | { exact: string });
        return {
          match: {
            ...(path ? { path } : {}),
            ...(rnd() < 0.2 ? { host: pick(['app.example.com', '*.example.com', 'other.example']) } : {}),
            ...(rnd() < 0.2 ? { methods: [pick(['GET', 'POST'])] } : {}),
          },
          allow: { users: [`u${i}`] },
        };
      });
      const a = compile(rules);
      for (let k = 0; k < 20; k++) {
        const r = req(somePath(), { method: pick(['GET', 'POST']), host: pick(['app.example.com', 'other.example']) });
        const t = targetOf(r);
        const first = rules.findIndex((rule) => requestTest(rule.match)(t));
        // User u<first> is allowed by exactly the rule that fits first; everyone else is denied by it.
        const out = a.authorize(id(`u${first}`), t, r) as AuthzOutcome;
        assert.equal(out.kind, first < 0 ? 'deny' : 'allow', `${JSON.stringify(rules)} ${r.method} ${r.host}${r.path}`);
        if (first >= 0) assert.deepEqual(a.authorize(id('nobody'), t, r), { kind: 'deny', reason: `Not allowed by access rule authzRules[${first}].` });
        else assert.deepEqual(out, { kind: 'deny', reason: 'No access rule covers this request.' });
      }
    }
  });
});

describe('authzRules: every reading of an ambiguous request is judged (strictest wins)', () => {
  // The demo's shape: /admin for admins, everything else for any signed-in user.
  const a = compile([
    { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'] } },
    { match: { path: { prefix: '/public' } }, allow: { authenticated: true } },
    { match: { path: { prefix: '/' } }, allow: { groups: ['guests', 'admins'] } },
  ]);
  const bob = id('bob', { groups: ['guests'] });
  const root = id('root', { groups: ['admins'] });

  it('a path a prefix router reads under /admin is judged by the /admin rule, whatever it resolves to', () => {
    for (const p of [
      '/admin/../',
      '/admin/../x',
      '/admin/..;/x',
      '/admin/%2e%2e/x',
      '/admin/.%2e/x',
      '/admin%2f..%2fx',
      '/%61dmin/../x',
      '/admin\\..\\x',
      '/admin/./../x',
      '/admin/x/../../y',
    ]) {
      assert.deepEqual(check(a, bob, p), { kind: 'deny', reason: 'Not allowed by access rule authzRules[0].' }, p);
      assert.ok(allowed(check(a, root, p)), p);
    }
  });

  it('paths every reading of which is allowed stay allowed', () => {
    for (const p of ['/public/../public/x', '/x/./y', '/x//y', '/public;v=1/x', '/x/%2e/y', '/x/../y']) assert.ok(allowed(check(a, bob, p)), p);
  });

  it('a reading no rule covers is denied like any request no rule covers', () => {
    const only = compile([{ match: { path: { prefix: '/public' } }, allow: { authenticated: true } }]);
    assert.ok(allowed(check(only, bob, '/public/x')));
    assert.ok(allowed(check(only, bob, '/public/a/../x')));
    // Express reads /x/../public/y as under /x, which no rule covers.
    assert.deepEqual(check(only, bob, '/x/../public/y'), { kind: 'deny', reason: 'No access rule covers this request.' });
  });

  it('readings and method overrides multiply: every reading under every claimed method', () => {
    const m = compile([
      { match: { methods: ['DELETE'], path: { prefix: '/admin' } }, allow: { groups: ['admins'] } },
      { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
    ]);
    assert.ok(allowed(check(m, bob, '/admin/../x', { headers: { 'x-http-method-override': 'PUT' } })));
    assert.equal(check(m, bob, '/admin/../x', { headers: { 'x-http-method-override': 'DELETE' } }).kind, 'deny');
    assert.equal(check(m, bob, '/admin/../x?_method=delete').kind, 'deny');
  });

  it('host readings: a host a URL parser maps to a name is judged by that name’s rules, and by rules for any host as written', () => {
    const h = compile([
      { match: { host: 'admin.example.com' }, allow: { groups: ['admins'] } },
      { match: { host: 'bücher.example' }, allow: { groups: ['admins'] } },
      { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
    ]);
    for (const host of [
      'admin.example.com',
      'ADMIN.example.com.',
      'admin.example.com:8443',
      'x@admin.example.com',
      '%61dmin.example.com',
      'xn--bcher-kva.example',
      'BÜCHER.example:443',
    ]) {
      assert.equal(check(h, bob, '/x', { host }).kind, 'deny', host);
      assert.ok(allowed(check(h, root, '/x', { host })), host);
    }
    assert.ok(allowed(check(h, bob, '/x', { host: 'other.example.com' })));
    // Strictest over host readings: a rule for any host, seen by the literal reading, holds too.
    const literal = compile([
      { match: { host: 'app.example.com' }, allow: { authenticated: true } },
      { match: { path: { prefix: '/' } }, allow: { groups: ['admins'] } },
    ]);
    assert.ok(allowed(check(literal, bob, '/x', { host: 'app.example.com' })));
    assert.equal(check(literal, bob, '/x', { host: 'x@app.example.com' }).kind, 'deny');
  });
});

describe('authzRules: letter case', () => {
  const a = compile([
    { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'] } },
    { match: { path: { exact: '/Reports/Q1' } }, allow: { groups: ['finance'] } },
    { match: { path: { regex: '/api/v[0-9]+/Secret.*' } }, allow: { groups: ['admins'] } },
    { match: { path: { prefix: '/CS' }, caseSensitive: true }, allow: { groups: ['admins'] } },
    { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
  ]);
  const bob = id('bob', { groups: ['guests'] });
  const root = id('root', { groups: ['admins'] });

  it('a path differing only in case from a rule’s path is judged by that rule', () => {
    for (const p of ['/ADMIN', '/Admin/', '/aDmIn/x', '/reports/q1', '/REPORTS/Q1', '/Reports/Q1', '/API/V1/secret', '/api/v2/SECRET/x']) {
      assert.equal(check(a, bob, p).kind, 'deny', p);
    }
    assert.ok(allowed(check(a, root, '/ADMIN')));
    assert.ok(allowed(check(a, id('f', { groups: ['finance'] }), '/reports/Q1')));
    assert.ok(allowed(check(a, bob, '/administrator')));
    assert.ok(allowed(check(a, bob, '/reports/q2')));
  });

  it('caseSensitive: true keeps the comparison exact', () => {
    assert.equal(check(a, bob, '/CS/x').kind, 'deny');
    assert.ok(allowed(check(a, bob, '/cs/x')));
    assert.ok(allowed(check(a, bob, '/Cs')));
  });

  it('strictest wins between the rule fitting exactly and the one fitting in another case', () => {
    const both = compile([
      { match: { path: { prefix: '/Open' } }, allow: { authenticated: true } },
      { match: { path: { prefix: '/open' }, caseSensitive: true }, allow: { groups: ['admins'] } },
      { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
    ]);
    // `/open` fits rule 1 exactly, and rule 0 ignoring case: both must allow.
    assert.equal(check(both, bob, '/open/x').kind, 'deny');
    assert.ok(allowed(check(both, root, '/open/x')));
    assert.ok(allowed(check(both, bob, '/OPEN/x')));
  });

  it('case and readings together: /ADMIN/../x is an /ADMIN path to a prefix router', () => {
    assert.equal(check(a, bob, '/ADMIN/../x').kind, 'deny');
    assert.equal(check(a, bob, '/Admin/..;/x').kind, 'deny');
  });
});

describe('authzRules: description, the words a refused person reads', () => {
  it('a rule with a description refuses with it as the message; the reason still names the rule', () => {
    const a = compile([
      { match: { path: { prefix: '/reports' } }, allow: { groups: ['finance'] }, description: 'Reports are for the finance team.' },
      { match: { path: { prefix: '/' } }, allow: { groups: ['staff'] } },
    ]);
    assert.deepEqual(check(a, id('bob'), '/reports/q3'), {
      kind: 'deny',
      reason: 'Not allowed by access rule authzRules[0].',
      message: 'Reports are for the finance team.',
    });
    assert.deepEqual(check(a, id('bob'), '/x'), { kind: 'deny', reason: 'Not allowed by access rule authzRules[1].' }, 'no description, no message');
  });

  it('is parsed from the config (trimmed) and refused when empty, not a string or too long', () => {
    const parse = (description: unknown): { rules: AuthzRule[]; errs: string[] } => {
      const errs: string[] = [];
      const rules = parseAuthzRules([{ match: { path: '/r' }, allow: { authenticated: true }, description }], 'authzRules', errs);
      return { rules, errs };
    };
    assert.equal(parse('  For the finance team.  ').rules[0]?.description, 'For the finance team.');
    for (const bad of ['', '   ', 42, 'x'.repeat(MAX_DESCRIPTION + 1)]) {
      assert.match(parse(bad).errs.join(), /authzRules\[0\]\.description: must be a non-empty string of at most 300 characters/, String(bad));
    }
  });
});

describe('authzRules: programs (issue 19)', () => {
  const a = compile([
    { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'], programs: false } },
    { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
  ]);
  const person = id('root', { groups: ['admins'], method: 'cookie', authenticator: 'session' });
  const program = id('root', { groups: ['admins'], method: 'program', authenticator: 'program' });

  it('`programs: false` refuses a program credential on the rule’s routes, whoever it is; people pass as before', () => {
    assert.ok(allowed(check(a, person, '/admin/users')));
    assert.deepEqual(check(a, program, '/admin/users'), { kind: 'deny', reason: 'Not allowed by access rule authzRules[0].' });
    assert.ok(allowed(check(a, program, '/pipelines')), 'rules without it let programs through');
  });
});
