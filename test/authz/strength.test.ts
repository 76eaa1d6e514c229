import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rulesAuthorizer } from '../../src/authz/rules.js';
import { ManualClock } from '../../src/clock.js';
import { parseAuthzRules, type AuthzRule } from '../../src/config/rules.js';
import type { Identity } from '../../src/judge/decision.js';
import type { AuthzOutcome } from '../../src/judge/ports.js';
import { targetOf } from '../../src/judge/target.js';
import { judgeRequest } from '../helpers/request.js';

const T0 = 1_800_000_000_000;
const secs = (ms: number): number => Math.floor(ms / 1000);

function session(strength: Identity['strength'], more: Partial<Identity> = {}): Identity {
  return { user: 'alice', groups: ['staff'], claims: {}, method: 'cookie', authenticator: 'session', ...(strength ? { strength } : {}), ...more };
}
function bearer(claims: Record<string, unknown>): Identity {
  return { user: 'alice', groups: ['staff'], claims, method: 'header', authenticator: 'access_token' };
}

const rules: AuthzRule[] = [
  { match: { path: { prefix: '/mfa' } }, allow: { groups: ['staff'] }, require: { acr: ['urn:mfa', 'urn:hw'] } },
  { match: { path: { prefix: '/otp' } }, allow: { authenticated: true }, require: { amr: ['pwd', 'otp'] } },
  { match: { path: { prefix: '/fresh' } }, allow: { authenticated: true }, require: { maxAge: 300 } },
  { match: { path: { prefix: '/both' } }, allow: { authenticated: true }, require: { acr: ['urn:mfa'], maxAge: 60 } },
  { match: { path: { prefix: '/vault' } }, allow: { groups: ['admins'] } },
  { match: { path: { prefix: '/Vault' }, caseSensitive: true }, allow: { authenticated: true }, require: { acr: ['urn:mfa'] } },
  { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
];
const clock = new ManualClock(T0);
const authz = rulesAuthorizer(rules, { verifiedRequired: true }, clock)!;

function judge(who: Identity, path: string): AuthzOutcome {
  const r = judgeRequest(path);
  const out = authz.authorize(who, targetOf(r), r);
  assert.ok(!(out instanceof Promise));
  return out;
}

describe('access rules: require (step-up)', () => {
  it('acr: one of the listed values; else a step-up asking for them, with a reason that shows no claim', () => {
    assert.equal(judge(session({ acr: 'urn:hw' }), '/mfa').kind, 'allow');
    const out = judge(session({ acr: 'urn:pwd' }), '/mfa');
    assert.equal(out.kind, 'step-up');
    assert.ok(out.kind === 'step-up');
    assert.deepEqual(out.need, { acrValues: ['urn:mfa', 'urn:hw'], missing: ['acr'] });
    assert.equal(out.reason, 'Access rule authzRules[0] requires a stronger sign-in.');
    assert.equal(judge(session(undefined), '/mfa').kind, 'step-up', 'a session from before strength was recorded');
    assert.equal(judge(session({}, { groups: [] }), '/mfa').kind, 'deny', 'not allowed at all: a deny, no step-up');
  });

  it('amr: every listed member', () => {
    assert.equal(judge(session({ amr: ['otp', 'pwd', 'hwk'] }), '/otp').kind, 'allow');
    const out = judge(session({ amr: ['pwd'] }), '/otp');
    assert.ok(out.kind === 'step-up');
    assert.deepEqual(out.need, { missing: ['amr'] });
  });

  it('maxAge: seconds since auth_time on the injected clock', () => {
    const at = secs(T0) - 300;
    assert.equal(judge(session({ authTime: at }), '/fresh').kind, 'allow');
    clock.advance(1000);
    const out = judge(session({ authTime: at }), '/fresh');
    assert.ok(out.kind === 'step-up');
    assert.deepEqual(out.need, { maxAge: 300, missing: ['max_age'] });
    assert.equal(out.reason, 'Access rule authzRules[2] requires a more recent sign-in.');
    assert.equal(judge(session({}), '/fresh').kind, 'step-up', 'no auth_time: not recent');
    clock.set(T0);
  });

  it('a new sign-in asks for all the rule requires, even the part that held', () => {
    const out = judge(session({ acr: 'urn:mfa', authTime: secs(T0) - 61 }), '/both');
    assert.ok(out.kind === 'step-up');
    assert.deepEqual(out.need, { acrValues: ['urn:mfa'], maxAge: 60, missing: ['max_age'] });
  });

  it("a session's claims never stand in for its recorded strength; a bearer token's claims are its strength", () => {
    assert.equal(judge(session({}, { claims: { acr: 'urn:mfa' } }), '/mfa').kind, 'step-up');
    assert.equal(judge(bearer({ acr: 'urn:mfa' }), '/mfa').kind, 'allow');
    assert.equal(judge(bearer({ acr: ['urn:mfa'] }), '/mfa').kind, 'step-up', 'an acr that is not a string');
    assert.equal(judge(bearer({ amr: ['pwd', 'otp'] }), '/otp').kind, 'allow');
    assert.equal(judge(bearer({ amr: 'otp pwd' }), '/otp').kind, 'step-up');
    assert.equal(judge(bearer({ auth_time: secs(T0) - 10 }), '/fresh').kind, 'allow');
    assert.equal(judge(bearer({ auth_time: String(secs(T0)) }), '/fresh').kind, 'step-up');
  });

  it("no loop: what the session's own login asked for and did not get is a deny, not another step-up", () => {
    const askedMfa = { acrValues: ['urn:mfa', 'urn:hw'] };
    const out = judge(session({ acr: 'urn:pwd', asked: askedMfa, loginAt: T0 }), '/mfa');
    assert.equal(out.kind, 'deny');
    assert.ok(out.kind === 'deny');
    assert.equal(out.reason, 'Access rule authzRules[0] requires a stronger sign-in than the identity provider gave.');
    assert.equal(
      judge(session({ acr: 'urn:pwd', asked: { acrValues: ['urn:hw'] }, loginAt: T0 }), '/mfa').kind,
      'step-up',
      'asked for less than the rule wants',
    );
    // max_age asked, and the auth_time given was already too old when the session began: refused.
    assert.equal(judge(session({ authTime: secs(T0) - 301, asked: { maxAge: 300 }, loginAt: T0 }), '/fresh').kind, 'deny');
    // A recent sign-in that has since aged: another step-up.
    clock.advance(400_000);
    assert.equal(judge(session({ authTime: secs(T0) - 10, asked: { maxAge: 300 }, loginAt: T0 }), '/fresh').kind, 'step-up');
    clock.set(T0);
    assert.equal(judge(session({ amr: ['pwd'], asked: { acrValues: ['x'] }, loginAt: T0 }), '/otp').kind, 'step-up', 'amr asks the user anew');
  });

  it('a deny under another reading of the path wins over a step-up', () => {
    // `/Vault/x` fits the case-sensitive rule (a step-up) and, ignoring case, `/vault` (admins only).
    assert.equal(judge(session({ acr: 'urn:pwd' }), '/Vault/x').kind, 'deny');
    assert.equal(judge(session({ acr: 'urn:pwd' }, { groups: ['admins'] }), '/Vault/x').kind, 'step-up');
    assert.equal(judge(session({ acr: 'urn:mfa' }, { groups: ['admins'] }), '/Vault/x').kind, 'allow');
  });
});

describe('access rules: parsing require', () => {
  const parse = (r: unknown): { rules: AuthzRule[]; errs: string[] } => {
    const errs: string[] = [];
    return { rules: parseAuthzRules([{ match: { path: '/x' }, allow: { authenticated: true }, require: r }], 'authzRules', errs), errs };
  };
  it('takes acr and amr lists (or one string) and maxAge seconds', () => {
    const { rules: ok, errs } = parse({ acr: 'urn:mfa', amr: ['otp'], maxAge: 600 });
    assert.deepEqual(errs, []);
    assert.deepEqual(ok[0]?.require, { acr: ['urn:mfa'], amr: ['otp'], maxAge: 600 });
  });
  it('refuses what cannot be asked for, naming where', () => {
    const text = (r: unknown): string => parse(r).errs.join('\n');
    assert.match(text({}), /authzRules\[0\]\.require: names no requirement/);
    assert.match(text({ acr: [] }), /require\.acr: must be a non-empty list/);
    assert.match(text({ acr: ['urn:a b'] }), /require\.acr: values must not contain spaces/);
    assert.match(text({ maxAge: -1 }), /require\.maxAge: must be a whole number of seconds/);
    assert.match(text({ maxAge: '5m' }), /require\.maxAge: must be a whole number/);
    assert.match(text({ mfa: true }), /require: unknown key "mfa"/);
    assert.match(text('mfa'), /require: must be an object/);
  });
});
