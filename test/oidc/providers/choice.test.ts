/** Which provider a host and path choose: the most specific place wins; ambiguous places are named for the loader. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ambiguities, compileChoice, type ProviderScope } from '../../../src/oidc/providers/choice.js';

const scope = (id: string, hosts: string[], paths: string[] = []): ProviderScope => ({ id, hosts, paths });

describe('provider choice', () => {
  const choose = compileChoice([
    scope('exact', ['app.example.com']),
    scope('wild', ['*.example.com']),
    scope('deeper', ['*.eu.example.com']),
    scope('partner', ['app.example.com'], ['/partner']),
    scope('docs', [], ['/docs']),
    scope('one', ['shared.example.org']),
    scope('two', ['shared.example.org']),
  ]);

  it('prefers an exact host, then the longest wildcard, then any host; within one, the longest path prefix', () => {
    assert.deepEqual(choose('app.example.com', '/'), ['exact']);
    assert.deepEqual(choose('app.example.com', '/partner'), ['partner']);
    assert.deepEqual(choose('app.example.com', '/partner/x'), ['partner']);
    assert.deepEqual(choose('app.example.com', '/partnerx'), ['exact']);
    assert.deepEqual(choose('x.example.com', '/'), ['wild']);
    assert.deepEqual(choose('a.b.example.com', '/'), ['wild']);
    assert.deepEqual(choose('x.eu.example.com', '/'), ['deeper']);
    assert.deepEqual(choose('other.org', '/docs/a'), ['docs']);
  });

  it('leaves the rest to the default provider, the bare domain of a wildcard included', () => {
    assert.equal(choose('example.com', '/'), undefined);
    assert.equal(choose('other.org', '/'), undefined);
    assert.equal(choose('other.org', '/docsx'), undefined);
  });

  it('gives a place several providers share to all of them (the chooser picks)', () => {
    assert.deepEqual(choose('shared.example.org', '/x'), ['one', 'two']);
  });

  it('names places no request could choose between, and only those', () => {
    assert.deepEqual(ambiguities([scope('a', ['a.test']), scope('b', [], ['/b'])]).length, 1);
    assert.deepEqual(ambiguities([scope('a', ['*.test']), scope('b', ['x.test'], ['/']), scope('c', ['x.test'], ['/c'])]), []);
    assert.deepEqual(ambiguities([scope('a', ['a.test']), scope('b', ['b.test'], ['/b'])]), []);
    assert.deepEqual(ambiguities([scope('a', ['a.test']), scope('b', ['a.test'])]), []);
    assert.equal(ambiguities([scope('a', ['*.test']), scope('b', [], ['/b'])]).length, 1);
  });
});
