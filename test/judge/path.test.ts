import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnameOf, normalizePath } from '../../src/judge/path.js';
import { targetOf } from '../../src/judge/target.js';
import type { JudgeRequest } from '../../src/judge/request.js';

/** [raw request target, expected path, expected ambiguous] */
const cases: readonly (readonly [string, string, boolean])[] = [
  // plain paths: unchanged, not ambiguous
  ['/', '/', false],
  ['/a/b', '/a/b', false],
  ['/a/b/', '/a/b/', false],
  ['/.well-known/openid-configuration', '/.well-known/openid-configuration', false],
  ['/a/.b/..c/...', '/a/.b/..c/...', false],
  ['/a/b.', '/a/b.', false],
  // query and fragment are never part of the path
  ['/a?x=/public', '/a', false],
  ['/a?/../b', '/a', false],
  ['/a?', '/a', false],
  ['/a#frag', '/a', true],
  ['/a#/../b?q', '/a', true],
  // repeated slashes: collapsed; a leading `//` may read as an authority
  ['/a//b', '/a/b', false],
  ['/a///b//', '/a/b/', false],
  ['//a/b', '/a/b', true],
  // dot segments: resolved, never above the root, trailing slash kept
  ['/a/./b', '/a/b', true],
  ['/a/../b', '/b', true],
  ['/a/b/..', '/a/', true],
  ['/a/.', '/a/', true],
  ['/..', '/', true],
  ['/../../etc/passwd', '/etc/passwd', true],
  ['/.', '/', true],
  // percent-decoding, once
  ['/p%75blic', '/public', false],
  ['/a%20b', '/a b', false],
  ['/%e2%82%ac', '/€', false],
  ['/%E2%82%AC', '/€', false],
  ['/%2e%2e/x', '/x', true],
  ['/a/%2E%2E/b', '/b', true],
  ['/a/%2e/b', '/a/b', true],
  ['/a/.%2e/b', '/b', true],
  ['/a%2fb', '/a/b', true],
  ['/a%2Fb', '/a/b', true],
  ['/a%5cb', '/a/b', true],
  ['/a%5Cb', '/a/b', true],
  ['/a%3bx/b', '/a/b', true],
  ['/a%3Bx', '/a', true],
  // double encoding: decoded once only, and ambiguous
  ['/a/%252e%252e/b', '/a/%2e%2e/b', true],
  ['/a%252fb', '/a%2fb', true],
  ['/%25', '/%', true],
  // invalid escapes and bytes
  ['/%zz', '/%zz', true],
  ['/a%4', '/a%4', true],
  ['/a%', '/a%', true],
  ['/%ff', '/\ufffd', true],
  ['/%00', '/\u0000', true],
  ['/a%0d%0ab', '/a\r\nb', true],
  ['/a\u0001b', '/a\u0001b', true],
  // `;` parameters stripped per segment
  ['/a;x', '/a', true],
  ['/a;x/b', '/a/b', true],
  ['/a/;x', '/a/', true],
  ['/a/b;c/', '/a/b/', true],
  ['/..;/x', '/x', true],
  ['/public;/../admin', '/admin', true],
  // backslashes are slashes
  ['/a\\b', '/a/b', true],
  ['/a\\..\\b', '/b', true],
  ['\\\\evil\\x', '/evil/x', true],
  // a target not starting with `/`
  ['http://evil/x', '/x', true],
  ['https://evil.example:8443/a/b?q=1', '/a/b', true],
  ['http://evil', '/', true],
  ['http://evil?x=/a', '/', true],
  ['*', '/*', true],
  ['', '/', true],
  ['a/b', '/a/b', true],
];

describe('normalizePath', () => {
  for (const [raw, path, ambiguous] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(path)}${ambiguous ? ' (ambiguous)' : ''}`, () => {
      const n = normalizePath(raw);
      assert.deepEqual({ path: n.path, ambiguous: n.ambiguous }, { path, ambiguous });
      // `lowerCase` may only be claimed for a path without upper-case or non-ASCII characters.
      if (n.lowerCase) assert.equal(n.path, n.path.toLowerCase(), raw);
    });
  }

  it('says on the fast path whether the path is lower-case, so access rules need not lower-case it', () => {
    assert.equal(normalizePath('/api/v1/pods?Watch=TRUE').lowerCase, true);
    assert.equal(normalizePath('/api/V1/pods').lowerCase, false);
    assert.equal(normalizePath('/caf\u00e9').lowerCase, false);
  });

  it('returns a plain path as the very same string (fast path)', () => {
    const raw = '/api/v1/namespaces/kubeflow/pods';
    assert.equal(normalizePath(raw).path, raw);
    assert.equal(normalizePath(raw + '?watch=true').path, raw);
  });

  it('is idempotent on its own output', () => {
    for (const [raw] of cases) {
      const once = normalizePath(raw).path;
      if (once.includes('%')) continue; // a decoded `%` would be decoded again
      assert.equal(normalizePath(once).path, once, raw);
    }
  });
});

describe('hostnameOf / targetOf', () => {
  it('lower-cases and drops the port, keeping IPv6 brackets', () => {
    assert.equal(hostnameOf('App.Example.COM:8443'), 'app.example.com');
    assert.equal(hostnameOf('app.example.com'), 'app.example.com');
    assert.equal(hostnameOf('[::1]:8080'), '[::1]');
    assert.equal(hostnameOf('[2001:DB8::1]'), '[2001:db8::1]');
    assert.equal(hostnameOf('10.0.0.1:80'), '10.0.0.1');
    assert.equal(hostnameOf('app.example.com.'), 'app.example.com');
    assert.equal(hostnameOf('app.example.com.:443'), 'app.example.com');
  });

  it('builds the target from a request', () => {
    const req: JudgeRequest = {
      method: 'GET',
      scheme: 'https',
      host: 'App.example.com:443',
      path: '/a/../b?x=1',
      headers: {},
      peer: '127.0.0.1',
      requestId: 'r1',
      denyStyle: 'redirect',
      via: 'http',
    };
    assert.deepEqual(targetOf(req), {
      method: 'GET',
      hostname: 'app.example.com',
      path: '/b',
      ambiguous: true,
      readings: [{ hostname: 'app.example.com', path: '/a/../b' }],
      badHost: false,
      lowerCase: false,
    });
  });
});
