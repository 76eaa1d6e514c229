import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailOf, isEmailDomain, parseEmail } from '../../src/authz/email.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { Identity } from '../../src/judge/decision.js';

const id = (claims: Record<string, unknown>, user = 'u'): Identity => ({ user, groups: [], claims, method: 'header', authenticator: 'access_token' });
const STRICT = { verifiedRequired: true };

describe('parseEmail: one plain address or none', () => {
  it('dot-atom local parts and host names, lower-cased; the domain is what follows the only @', () => {
    assert.deepEqual(parseEmail('Alice.O+tag@Mail.Example.COM'), { address: 'alice.o+tag@mail.example.com', domain: 'mail.example.com' });
    assert.deepEqual(parseEmail("o'brien@xn--bcher-kva.example"), { address: "o'brien@xn--bcher-kva.example", domain: 'xn--bcher-kva.example' });
    assert.equal(parseEmail(`${'a'.repeat(64)}@example.com`)?.domain, 'example.com');
  });

  it('refuses what a lax split would read as another domain, or what is no address', () => {
    for (const v of [
      'a@evil.com@example.com', '"a@evil.com"@example.com', '"a"@example.com', 'a\\@evil.com@example.com', 'a@example.com.', 'a@example', 'a@[192.0.2.1]', 'a@',
      '@example.com', 'a', '', ' a@example.com', 'a@example.com\t', 'a@exa mple.com', 'a@example.com\u0000', 'a@exämple.com', 'ä@example.com', 'a@example.com\u200b',
      '.a@example.com', 'a.@example.com', 'a..b@example.com', 'a@-x.com', 'a@x-.com', `a@${'x'.repeat(64)}.com`, `${'a'.repeat(65)}@example.com`,
      `a@${'x.'.repeat(126)}com`, '<a@example.com>', 'Alice <a@example.com>', 'a@example.com,b@evil.com',
    ]) {
      assert.equal(parseEmail(v), undefined, JSON.stringify(v));
    }
  });

  it('isEmailDomain: host names of two or more labels only', () => {
    for (const d of ['example.com', 'a.b.c.example', 'xn--bcher-kva.example', '1.2.3.4.example']) assert.ok(isEmailDomain(d), d);
    for (const d of ['example', 'example.com.', '.example.com', 'exa_mple.com', '[1.2.3.4]', '', 'example..com']) assert.ok(!isEmailDomain(d), d);
  });
});

describe('emailOf: the verified email claim', () => {
  it('only the email claim, only when verified; never the user id', () => {
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: true }), STRICT)?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: 'true' }), STRICT)?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com' }), STRICT), undefined);
    assert.equal(emailOf(id({ email: 'a@example.com' }), { verifiedRequired: false })?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: false }), { verifiedRequired: false }), undefined);
    assert.equal(emailOf(id({ email_verified: true }, 'a@example.com'), STRICT), undefined);
    assert.equal(emailOf(id({ email: 'a@evil.com@example.com', email_verified: true }), STRICT), undefined);
    assert.equal(emailOf(id(Object.create({ email: 'a@example.com', email_verified: true }) as Record<string, unknown>), STRICT), undefined, 'inherited claims are not claims');
  });
});

describe('authzRules emails/domains entries are checked at start-up', () => {
  const load = (yaml: string): string[] => {
    const env = { OIDC_PROVIDER: 'https://idp.example', CLIENT_ID: 'c', CLIENT_SECRET: 's' };
    try {
      loadConfig({ env, configFile: 'c.yaml', readFile: () => yaml });
      return [];
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return [...e.problems];
    }
  };
  it('an entry no address can match is named', () => {
    const errs = load(['authzRules:', '  - match: { path: /x }', '    allow: { emails: ["a@evil.com@example.com", "ok@example.com"], domains: ["example.com.", "@example.org", "exa mple.com"] }', ''].join('\n'));
    assert.ok(errs.some((e) => e.includes('[0].allow.emails') && e.includes('a@evil.com@example.com')), errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('[0].allow.domains') && e.includes('example.com.')), errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('exa mple.com')), errs.join('\n'));
    assert.ok(!errs.some((e) => e.includes('ok@example.com') || e.includes('@example.org')), errs.join('\n'));
  });
});
