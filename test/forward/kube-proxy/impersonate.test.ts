import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalHeaderName,
  escapeExtraKey,
  extraHeaderName,
  impersonationHeaders,
  isImpersonationHeader,
  readInbound,
  unescapeExtraKey,
  withAuthenticated,
} from '../../../src/forward/kube-proxy/impersonate.js';

describe('kube impersonation headers', () => {
  it('escapes extra keys as client-go does and canonicalises the header name as Go does', () => {
    assert.equal(escapeExtraKey('scopes'), 'scopes');
    assert.equal(escapeExtraKey('acme.com/project'), 'acme.com%2Fproject');
    assert.equal(escapeExtraKey('100%'), '100%25');
    assert.equal(escapeExtraKey('a b'), 'a%20b');
    assert.equal(escapeExtraKey('grüße'), 'gr%C3%BC%C3%9Fe');
    assert.equal(canonicalHeaderName('impersonate-extra-remote-client-ip'), 'Impersonate-Extra-Remote-Client-Ip');
    assert.equal(extraHeaderName('originaluser.jetstack.io-user'), 'Impersonate-Extra-Originaluser.jetstack.io-User');
    assert.equal(extraHeaderName('Remote-Client-IP'), 'Impersonate-Extra-Remote-Client-Ip');
  });

  it("reads a key back the way kube-apiserver does (lower case, percent-decoded), whatever the escape's case", () => {
    for (const key of ['acme.com/project', 'grüße', '100%', 'a b', 'scopes']) {
      const name = extraHeaderName(key).slice('Impersonate-Extra-'.length);
      assert.equal(unescapeExtraKey(name), key.toLowerCase());
    }
    assert.equal(unescapeExtraKey('bad%zz'), 'bad%zz');
  });

  it('builds User, Uid, one Group per group and one Extra per value', () => {
    const h = impersonationHeaders({ username: 'alice', uid: 'u1', groups: ['a', 'b'], extra: { scopes: ['x', 'y'], 'acme.com/p': ['z'] } });
    assert.deepEqual(h, [
      ['Impersonate-User', 'alice'],
      ['Impersonate-Uid', 'u1'],
      ['Impersonate-Group', 'a'],
      ['Impersonate-Group', 'b'],
      ['Impersonate-Extra-Acme.com%2fp', 'z'],
      ['Impersonate-Extra-Scopes', 'x'],
      ['Impersonate-Extra-Scopes', 'y'],
    ]);
    assert.deepEqual(impersonationHeaders({ username: 'bob', groups: [], extra: {} }), [['Impersonate-User', 'bob']]);
    assert.deepEqual(withAuthenticated(['a', 'system:authenticated', 'a']), ['a', 'system:authenticated']);
    assert.deepEqual(withAuthenticated([]), ['system:authenticated']);
  });

  it("recognises every impersonate-* header name and nothing else (kube-oidc-proxy's matrix, plus -Uid)", () => {
    for (const n of ['impersonate-user', 'impersonate-group', 'impersonate-extra-foo', 'impersonate-uid', 'impersonate-not-real'])
      assert.equal(isImpersonationHeader(n), true, n);
    for (const n of ['impersonate', 'impersonation', '-impersonate-extra-', 'x-impersonate-user', 'authorization'])
      assert.equal(isImpersonationHeader(n), false, n);
  });

  it('reads inbound headers: first user and uid, every group and extra line, decoded keys, UTF-8 values, unknown names', () => {
    const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
    const got = readInbound({
      'impersonate-user': [latin1('jürgen'), 'second'],
      'impersonate-group': ['a', 'b, c'],
      'impersonate-uid': ['1'],
      'impersonate-extra-acme.com%2fproject': ['x', 'y'],
      'impersonate-whatever': ['?'],
      'impersonate-extra-': ['?'],
      accept: ['*/*'],
    });
    assert.deepEqual(got, {
      username: 'jürgen',
      uid: '1',
      groups: ['a', 'b, c'],
      extra: { 'acme.com/project': ['x', 'y'] },
      unknown: ['impersonate-whatever', 'impersonate-extra-'],
    });
    assert.equal(readInbound({ accept: ['*/*'] }), undefined);
  });
});
