/**
 * `forwardTarget` (src/forward/engine/target.ts): the one target a reverse-proxying forwarder judges and
 * sends upstream. Property: for any raw target it accepts, the judge's `normalizePath` reads the
 * result as unambiguous and as the same path it reads the raw target as; what it refuses is the
 * documented set.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { forwardTarget } from '../../../src/forward/engine/target.js';
import { normalizePath } from '../../../src/judge/path.js';

describe('forwardTarget', () => {
  it('leaves a plain target untouched (same string)', () => {
    for (const t of ['/', '/a', '/a/b/', '/a?x=../..', '/.well-known/x', '/a/...', '/a/.b', '/a..', '/a b', '/a?%2f'] as const)
      assert.equal(forwardTarget(t), t, t);
  });

  it('resolves dot segments (also escaped), merges slashes, decodes unreserved escapes, keeps the query and other escapes', () => {
    const cases: [string, string][] = [
      ['/admin/../', '/'],
      ['/admin/..', '/'],
      ['/admin/%2e%2e/', '/'],
      ['/admin/.%2E', '/'],
      ['/a/./b', '/a/b'],
      ['/a/.', '/a/'],
      ['//admin', '/admin'],
      ['/a//b///c', '/a/b/c'],
      ['/../secret', '/secret'],
      ['/%2e%2e/%2e%2e/secret', '/secret'],
      ['/public/../admin?x=/../&y=%2F', '/admin?x=/../&y=%2F'],
      ['/%61dmin/%7Eu/a%2Db', '/admin/~u/a-b'],
      ['/a%20b/caf%C3%A9/%3F/%23', '/a%20b/caf%C3%A9/%3F/%23'],
      ['/a/b/..?q', '/a/?q'],
    ];
    for (const [raw, want] of cases) assert.equal(forwardTarget(raw), want, raw);
  });

  it('refuses escaped / \\ % ;, raw \\ ; #, control characters, bad escapes, non-UTF-8 escapes, non-origin-form targets', () => {
    for (const raw of [
      '/a%2fb',
      '/a%2F',
      '/a%5cb',
      '/a%5C',
      '/a%25',
      '/a%252e',
      '/a%3bb',
      '/a%3B',
      '/a\\b',
      '/a;b',
      '/a/..;/',
      '/a#b',
      '/a\u0000',
      '/a\tb',
      '/a\u007f',
      '/a%00',
      '/a%0A',
      '/a%1f',
      '/a%7F',
      '/a%zz',
      '/a%',
      '/a%4',
      '/%ff',
      '/%c0%ae',
      '*',
      'http://h/a',
      '',
    ] as const) {
      assert.equal(forwardTarget(raw), undefined, JSON.stringify(raw));
    }
  });

  it('gives, for any target it accepts, a target the judge reads as unambiguous and as the same path', () => {
    const piece = fc.constantFrom(
      '/',
      '//',
      '.',
      '..',
      '%2e',
      '%2E',
      'a',
      'A',
      'admin',
      '%61',
      '%2f',
      '%5c',
      '%25',
      '%3b',
      ';',
      '\\',
      '%20',
      '%C3%A9',
      '%ff',
      '%zz',
      '%',
      '~',
      '-',
      '?',
      '#',
      '%3F',
      '%00',
      '\u0001',
      'é',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const raw = '/' + parts.join('');
        const out = forwardTarget(raw);
        if (out === undefined) return;
        const judged = normalizePath(out);
        assert.equal(judged.ambiguous, false, `${raw} → ${out}`);
        assert.equal(judged.path, normalizePath(raw).path, `${raw} → ${out}`);
        assert.equal(forwardTarget(out), out, `idempotent: ${raw} → ${out}`);
      }),
      { numRuns: 5_000 },
    );
  });
});
