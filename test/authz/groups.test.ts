import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupsAuthorizer } from '../../src/authz/groups.js';
import type { Target } from '../../src/judge/ports.js';
import type { Identity } from '../../src/judge/decision.js';
import type { JudgeRequest } from '../../src/judge/request.js';

const target: Target = { method: 'GET', hostname: 'app.example.com', path: '/', ambiguous: false };
const req = {} as JudgeRequest; // the groups authorizer never reads the request
const user = (groups: string[]): Identity => ({ user: 'alice', groups, claims: {}, method: 'cookie', authenticator: 'session' });
const judge = (allowlist: string[], groups: string[]) => groupsAuthorizer(allowlist).authorize(user(groups), target, req);

describe('GROUPS_ALLOWLIST (oidc-authservice TestGroupsAuthorizer)', () => {
  it('allow all: `*` lets in a user without groups', () => {
    assert.deepEqual(judge(['*'], []), { kind: 'allow' });
    assert.deepEqual(judge(['a', '*'], ['z']), { kind: 'allow' });
  });

  it('deny all: an empty list', () => {
    assert.deepEqual(judge([], ['a']), { kind: 'deny', reason: "User's groups ([a]) are not in allowlist." });
    assert.equal((judge([], []) as { kind: string }).kind, 'deny');
  });

  it('user group in allowlist', () => {
    assert.deepEqual(judge(['a', 'b', 'c'], ['c', 'd']), { kind: 'allow' });
  });

  it('user groups not in allowlist, with the same wording', () => {
    assert.deepEqual(judge(['a', 'b', 'c'], ['d', 'e']), { kind: 'deny', reason: "User's groups ([d e]) are not in allowlist." });
    assert.deepEqual(judge(['a'], []), { kind: 'deny', reason: "User's groups ([]) are not in allowlist." });
  });

  it('matches exactly and case-sensitively', () => {
    assert.equal((judge(['Admins'], ['admins']) as { kind: string }).kind, 'deny');
    assert.equal((judge(['admins'], ['admins ']) as { kind: string }).kind, 'deny');
    assert.equal((judge(['admins'], ['admin']) as { kind: string }).kind, 'deny');
  });

  it('is named "groups"', () => assert.equal(groupsAuthorizer(['*']).name, 'groups'));
});
