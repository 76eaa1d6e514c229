/**
 * The readings of a request (judge/path.ts `otherReadings`, judge/host.ts `readHost`,
 * judge/target.ts): every path and host an upstream might read a request as, which access rules
 * all judge. Plain requests have one reading and cost no extra allocation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configHost, readHost } from '../../src/judge/host.js';
import { NO_READINGS, normalizePath, otherReadings } from '../../src/judge/path.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { targetOf } from '../../src/judge/target.js';

const req = (path: string, host = 'app.example.com'): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host,
  path,
  headers: {},
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle: 'redirect',
  via: 'grpc',
});

/** [raw target, normalized, other readings] */
const PATHS: readonly (readonly [string, string, readonly string[]])[] = [
  ['/admin/../x', '/x', ['/admin/../x']],
  ['/admin/..;/x', '/x', ['/admin/..;/x', '/admin/../x']],
  ['/admin;x', '/admin', ['/admin;x']],
  ['/admin%2fx', '/admin/x', ['/admin%2fx']],
  ['/admin%2F..%2Fx', '/x', ['/admin%2F..%2Fx', '/admin/../x']],
  ['//admin', '/admin', ['//admin']],
  ['/%61dmin/../x', '/x', ['/%61dmin/../x', '/admin/../x']],
  ['/public/../public/x', '/public/x', ['/public/../public/x']],
  ['/admin/./', '/admin/', ['/admin/./']],
  ['/a\\..\\admin', '/admin', ['/a\\..\\admin', '/a/../admin']],
  ['/admin/%2e%2e/x?q=1', '/x', ['/admin/%2e%2e/x', '/admin/../x']],
  ['http://app.example.com/admin/../x', '/x', ['/admin/../x']],
];

describe('path readings', () => {
  for (const [raw, normalized, others] of PATHS) {
    it(`${raw} reads as ${normalized} and ${others.join(' and ')}`, () => {
      const n = normalizePath(raw);
      assert.equal(n.path, normalized);
      assert.equal(n.ambiguous, true);
      assert.deepEqual(otherReadings(raw, n.path), others);
    });
  }

  it('a plain target has no other reading, and its target shares the empty list', () => {
    const t = targetOf(req('/admin/x?y=1'));
    assert.equal(t.ambiguous, false);
    assert.equal(t.readings, targetOf(req('/other')).readings);
    assert.equal(t.readings?.length, 0);
    assert.equal(otherReadings('/a/', '/a/'), NO_READINGS);
    assert.deepEqual(otherReadings('/admin;', '/admin'), ['/admin;']);
  });

  it('targets carry each path reading for the judged host', () => {
    assert.deepEqual(targetOf(req('/admin/..;/x')).readings, [
      { hostname: 'app.example.com', path: '/admin/..;/x' },
      { hostname: 'app.example.com', path: '/admin/../x' },
    ]);
  });
});

describe('host readings', () => {
  const same: readonly string[] = [
    'app.example.com',
    'APP.Example.COM',
    'app.example.com.',
    'app.example.com:8443',
    'app.example.com.:443',
    'user@app.example.com',
    'user:pw@app.example.com:80',
    '%61pp.example.com',
    'app.ex%61mple.com',
    'ａｐｐ.example.com', // full-width letters map to ASCII (UTS 46)
  ];
  for (const h of same) {
    it(`${JSON.stringify(h)} is app.example.com`, () => assert.equal(readHost(h)?.hostname, 'app.example.com'));
  }

  it('IDN and punycode are one name; IPv6 and IPv4 in canonical form', () => {
    assert.equal(readHost('bücher.example')?.hostname, 'xn--bcher-kva.example');
    assert.equal(readHost('XN--BCHER-KVA.example')?.hostname, 'xn--bcher-kva.example');
    assert.equal(configHost('bücher.example'), 'xn--bcher-kva.example');
    assert.equal(readHost('[::1]:8080')?.hostname, '[::1]');
    assert.equal(readHost('[0:0::1]')?.hostname, '[::1]');
    assert.equal(readHost('[2001:DB8::1]')?.hostname, '[2001:db8::1]');
    assert.equal(readHost('2130706433')?.hostname, '127.0.0.1');
    assert.equal(readHost('0x7f.1')?.hostname, '127.0.0.1');
    assert.equal(readHost('127.000.0.1:80')?.hostname, '127.0.0.1');
    assert.deepEqual(readHost('127.0.0.1:80'), { hostname: '127.0.0.1', literal: undefined });
    assert.deepEqual(readHost('10.1.2.3'), { hostname: '10.1.2.3', literal: undefined });
  });

  it('a literal reading that differs from the URL reading is kept (access rules judge both)', () => {
    assert.deepEqual(readHost('app.example.com'), { hostname: 'app.example.com', literal: undefined });
    assert.deepEqual(readHost('[::1]:80'), { hostname: '[::1]', literal: undefined });
    assert.deepEqual(readHost('user@app.example.com'), { hostname: 'app.example.com', literal: 'user@app.example.com' });
    const t = targetOf(req('/x', 'user@app.example.com'));
    assert.equal(t.hostname, 'app.example.com');
    assert.equal(t.ambiguous, true);
    assert.deepEqual(t.readings, [{ hostname: 'user@app.example.com', path: '/x' }]);
  });

  const unreadable: readonly string[] = [
    'a.example.com, b.example.com',
    'a.example.com,b.example.com',
    'app.example.com\t',
    'app .example.com',
    'app.example.com\x00',
    'app.example.com\r\nx: y',
    'app.example.com/x',
    'app.example.com?x',
    'app.example.com#x',
    'app.example.com\\x',
    'app.example.com:99999',
    'app.example.com:8o',
    '[::1',
    '::1',
    'app%2eexample.com%00',
    'a%20b.example.com',
    '@',
  ];
  for (const h of unreadable) {
    it(`${JSON.stringify(h)} is unreadable: the request is refused`, () => {
      assert.equal(readHost(h), undefined);
      assert.equal(targetOf(req('/x', h)).badHost, true);
    });
  }

  it('an empty host reads as none; an absolute-form target must name the same host as Host', () => {
    assert.equal(targetOf(req('/x', '')).hostname, '');
    assert.equal(targetOf(req('http://APP.example.com:80/x')).badHost, false);
    assert.equal(targetOf(req('http://evil.example/x')).badHost, true);
    assert.equal(targetOf(req('http://evil.example/x', '')).hostname, 'evil.example');
  });
});
