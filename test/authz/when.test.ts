/**
 * `when:` conditions (authz/when/): compiled and type-checked once, refused with the column of the
 * problem, held to bounds a hostile expression cannot pass (length, nodes, depth, nested
 * comprehensions, the backtracking `matches()`), and false — never an exception — when a value
 * at run time is of another type than the condition expects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileWhen, type WhenIdentity, type WhenRequest, type WhenTest } from '../../src/authz/when/compile.js';

const request: WhenRequest = { method: 'GET', host: 'app.example.com', path: '/api/reports', source: '10.1.2.3', headers: { 'x-tenant': 'acme' } };
const identity: WhenIdentity = {
  user: 'alice@example.com',
  groups: ['devs', 'admins'],
  claims: { email: 'alice@example.com', tenant: 'acme', level: 3, roles: ['a', 'b'], nested: { team: 'blue' } },
  method: 'header',
  authenticator: 'access_token',
  provider: 'https://op.example',
};

function test(source: string): WhenTest {
  const c = compileWhen(source);
  assert.ok('test' in c, `refused: ${'problem' in c ? c.problem : ''}`);
  return c.test;
}
function problem(source: unknown): string {
  const c = compileWhen(source);
  assert.ok('problem' in c, 'accepted');
  return c.problem;
}

describe('when conditions', () => {
  it('read the request and the identity', () => {
    const yes = [
      'request.method == "GET" && "admins" in identity.groups',
      'request.path.startsWith("/api/") && request.host == "app.example.com"',
      'request.headers["x-tenant"] == identity.claims.tenant',
      'identity.claims.level >= 3 && identity.claims.nested.team == "blue"',
      'identity.groups.exists(g, g.endsWith("mins"))',
      'inCidr(request.source, "10.0.0.0/8") && !inCidr(request.source, "10.9.0.0/16")',
      'identity.method == "header" && identity.authenticator == "access_token" && identity.provider == "https://op.example"',
      'has(identity.claims.email) && !has(identity.claims.phone)',
      '"x-missing" in request.headers || size(identity.claims.roles) == 2',
    ];
    for (const e of yes) assert.equal(test(e)(request, identity), true, e);
    assert.equal(test('request.method == "POST"')(request, identity), false);
    assert.equal(test('inCidr(request.source, "192.168.0.0/16")')(request, identity), false);
  });

  it('are refused at start-up with the column of the problem', () => {
    assert.match(problem('request.method == "GET" && request.nope == 1'), /^column 36: No such key: nope/);
    assert.match(problem('request.method + 1 == 2'), /^column \d+: no such overload: string \+ int/);
    assert.match(problem('request.method == "GET" &&'), /^column 27: /);
    assert.match(problem('"a"\n  && identity.grups == []'), /^line 2, column \d+: No such key: grups/);
    assert.match(problem('request.path'), /must be true or false, but is of type string/);
    assert.match(problem(''), /non-empty string/);
    assert.match(problem(42), /non-empty string/);
  });

  it('refuse hostile expressions: deep nesting, many nodes, huge strings, nested comprehensions, matches()', () => {
    assert.match(problem(`${'('.repeat(200)}true${')'.repeat(200)}`), /maxDepth|nested more than/);
    assert.match(problem(`${'!'.repeat(300)}true`), /nested more than 32 deep|maxDepth/);
    assert.match(problem(Array.from({ length: 400 }, (_, i) => `request.path == "/${i}"`).join(' || ')), /syntax nodes|longer than|maxAstNodes/);
    assert.match(problem(`request.path == "${'a'.repeat(5000)}"`), /longer than 4096 characters/);
    assert.match(problem('identity.groups.exists(g, identity.groups.exists(h, g == h))'), /inside another is refused/);
    assert.match(problem('identity.groups.all(g, identity.groups.filter(h, h == g).size() == 1)'), /inside another is refused/);
    assert.match(problem('request.path.matches("(a+)+$")'), /matches\(\) is not offered/);
    // Not nested: two comprehensions side by side, and one over another's result, are fine.
    test('identity.groups.exists(g, g == "a") || identity.groups.all(g, g != "b")');
    test('identity.groups.filter(g, g != "x").exists(g, g == "admins")');
  });

  it('are false, not an error, on a value of another type or a missing key; bounded on huge input', () => {
    const wrongType: WhenIdentity = { ...identity, claims: { level: 'high', tenant: ['acme'], nested: 'flat' } };
    for (const e of [
      'identity.claims.level >= 3',
      'identity.claims.tenant.startsWith("a")',
      'identity.claims.nested.team == "blue"',
      'identity.claims.phone == "1"',
    ])
      assert.equal(test(e)(request, wrongType), false, e);
    const huge: WhenRequest = { ...request, headers: { 'x-tenant': 'a'.repeat(1 << 20) } };
    const many: WhenIdentity = { ...identity, groups: Array.from({ length: 100_000 }, (_, i) => `g${i}`) };
    const t0 = performance.now();
    assert.equal(test('request.headers["x-tenant"].contains("b")')(huge, identity), false);
    assert.equal(test('identity.groups.exists(g, g == "admins")')(request, many), false);
    assert.ok(performance.now() - t0 < 1000, 'one evaluation over huge input stays linear');
  });
});
