import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEmailDomain, parseEmail } from '../../src/net/email-address.js';

describe('parseEmail: one plain address or none', () => {
  it('dot-atom local parts and host names, lower-cased; the domain is what follows the only @', () => {
    assert.deepEqual(parseEmail('Alice.O+tag@Mail.Example.COM'), { address: 'alice.o+tag@mail.example.com', domain: 'mail.example.com' });
    assert.deepEqual(parseEmail("o'brien@xn--bcher-kva.example"), { address: "o'brien@xn--bcher-kva.example", domain: 'xn--bcher-kva.example' });
    assert.equal(parseEmail(`${'a'.repeat(64)}@example.com`)?.domain, 'example.com');
  });

  it('refuses what a lax split would read as another domain, or what is no address', () => {
    for (const v of [
      'a@evil.com@example.com',
      '"a@evil.com"@example.com',
      '"a"@example.com',
      'a\\@evil.com@example.com',
      'a@example.com.',
      'a@example',
      'a@[192.0.2.1]',
      'a@',
      '@example.com',
      'a',
      '',
      ' a@example.com',
      'a@example.com\t',
      'a@exa mple.com',
      'a@example.com\u0000',
      'a@exämple.com',
      'ä@example.com',
      'a@example.com\u200b',
      '.a@example.com',
      'a.@example.com',
      'a..b@example.com',
      'a@-x.com',
      'a@x-.com',
      `a@${'x'.repeat(64)}.com`,
      `${'a'.repeat(65)}@example.com`,
      `a@${'x.'.repeat(126)}com`,
      '<a@example.com>',
      'Alice <a@example.com>',
      'a@example.com,b@evil.com',
    ]) {
      assert.equal(parseEmail(v), undefined, JSON.stringify(v));
    }
  });

  it('isEmailDomain: host names of two or more labels only', () => {
    for (const d of ['example.com', 'a.b.c.example', 'xn--bcher-kva.example', '1.2.3.4.example']) assert.ok(isEmailDomain(d), d);
    for (const d of ['example', 'example.com.', '.example.com', 'exa_mple.com', '[1.2.3.4]', '', 'example..com']) assert.ok(!isEmailDomain(d), d);
  });
});
