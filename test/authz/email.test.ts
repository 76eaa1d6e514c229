import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailOf } from '../../src/authz/email.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { Identity } from '../../src/judge/decision.js';

const id = (claims: Record<string, unknown>, user = 'u'): Identity => ({ user, groups: [], claims, method: 'header', authenticator: 'access_token' });
const STRICT = { verifiedRequired: true };

describe('emailOf: the verified email claim', () => {
  it('only the email claim, only when verified; never the user id', () => {
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: true }), STRICT)?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: 'true' }), STRICT)?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com' }), STRICT), undefined);
    assert.equal(emailOf(id({ email: 'a@example.com' }), { verifiedRequired: false })?.address, 'a@example.com');
    assert.equal(emailOf(id({ email: 'a@example.com', email_verified: false }), { verifiedRequired: false }), undefined);
    assert.equal(emailOf(id({ email_verified: true }, 'a@example.com'), STRICT), undefined);
    assert.equal(emailOf(id({ email: 'a@evil.com@example.com', email_verified: true }), STRICT), undefined);
    assert.equal(
      emailOf(id(Object.create({ email: 'a@example.com', email_verified: true }) as Record<string, unknown>), STRICT),
      undefined,
      'inherited claims are not claims',
    );
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
    const errs = load(
      [
        'authzRules:',
        '  - match: { path: /x }',
        '    allow: { emails: ["a@evil.com@example.com", "ok@example.com"], domains: ["example.com.", "@example.org", "exa mple.com"] }',
        '',
      ].join('\n'),
    );
    assert.ok(
      errs.some((e) => e.includes('[0].allow.emails') && e.includes('a@evil.com@example.com')),
      errs.join('\n'),
    );
    assert.ok(
      errs.some((e) => e.includes('[0].allow.domains') && e.includes('example.com.')),
      errs.join('\n'),
    );
    assert.ok(
      errs.some((e) => e.includes('exa mple.com')),
      errs.join('\n'),
    );
    assert.ok(!errs.some((e) => e.includes('ok@example.com') || e.includes('@example.org')), errs.join('\n'));
  });
});
