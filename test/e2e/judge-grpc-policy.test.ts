/**
 * The assembled service through its gRPC front door, real OpenID Provider: authorization
 * (GROUPS_ALLOWLIST, authzRules from a YAML config file) and a provider that goes away after
 * warm-up (keys kept, unknown keys still refused).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { accessToken, metric, optionValue, startJudge, type CheckResponse, type Judged } from '../helpers/app.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' };
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

function status(res: CheckResponse): number {
  return res.status.code === 0 ? 200 : (res.denied_response?.status?.code ?? -1);
}

function forbidden(res: CheckResponse): NonNullable<CheckResponse['denied_response']> {
  assert.equal(res.status.code, 7, `expected PERMISSION_DENIED, got ${JSON.stringify(res)}`);
  assert.ok(res.denied_response);
  assert.equal(res.denied_response.status?.code, 403);
  return res.denied_response;
}

describe('GROUPS_ALLOWLIST=admins (tokens in X-Id-Token, so a browser navigation can carry one)', () => {
  let op: TestOp;
  let judge: Judged;
  const token = (t: string, more: Record<string, string> = API): Record<string, string> => ({ 'x-id-token': t, ...more });

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { env: { GROUPS_ALLOWLIST: 'admins', ID_TOKEN_HEADER: 'X-Id-Token' } });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('a member of admins → allow', async () => {
    const res = await judge.grpc.check('/api', token(await accessToken(op, 'root@example.com', ['devs', 'admins'])));
    assert.equal(res.status.code, 0);
    assert.equal(optionValue(res.ok_response?.headers, 'kubeflow-groups'), 'devs,admins');
  });

  it('a user without admins → 403 (PERMISSION_DENIED), JSON for an API client', async () => {
    const d = forbidden(await judge.grpc.check('/api', token(await accessToken(op, 'alice@example.com', ['devs']))));
    assert.equal(optionValue(d.headers, 'content-type'), 'application/json');
    assert.deepEqual(JSON.parse(d.body), { error: 'forbidden', message: "User's groups ([devs]) are not in allowlist." });
  });

  it('the 403 page for a browser escapes the user and tells the reason in plain words (the groups stay in the log)', async () => {
    const evil = await accessToken(op, '<script>alert(1)</script>@example.com', ['<img src=x onerror=alert(2)>']);
    const d = forbidden(await judge.grpc.check('/dashboard', token(evil, NAVIGATION)));
    assert.equal(optionValue(d.headers, 'content-type'), 'text/html; charset=utf-8');
    assert.doesNotMatch(d.body, /<script|<img src=x/);
    assert.match(d.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;@example\.com/);
    assert.match(d.body, /Your account does not have access to this page\./);
    assert.doesNotMatch(d.body, /onerror|allowlist/, 'the groups and the rule are not shown to the person');
  });
});

describe('authzRules from a YAML config file: the first matching rule decides, default deny', () => {
  let op: TestOp;
  let judge: Judged;
  const yaml = [
    'authzRules:',
    '  - match: { path: /api/admin }',
    '    allow: { groups: [admins] }',
    '  - match: { path: /api }',
    '    allow: { authenticated: true }',
    '  - match: { path: /reports, methods: [GET] }',
    '    allow: { domains: [example.com] }',
    '',
  ].join('\n');

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { yaml });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('loads the rules from the file', () => {
    assert.equal(judge.config.authzRules.length, 3);
  });

  it('decides by the first rule that matches', async () => {
    const alice = { authorization: `Bearer ${await accessToken(op, 'alice@example.com', ['devs'], { email_verified: true })}`, ...API };
    const root = { authorization: `Bearer ${await accessToken(op, 'root@other.org', ['admins'])}`, ...API };
    const cases: [string, Record<string, string>, number, string?][] = [
      ['/api/admin/users', alice, 403], // rule 0 decides, although rule 1 would allow
      ['/api/admin/users', root, 200],
      ['/api/things', alice, 200],
      ['/reports/q1', alice, 200],
      ['/reports/q1', root, 403], // not an example.com address
      ['/reports/q1', alice, 403, 'POST'], // rule 2 is for GET only; no other rule matches
      ['/elsewhere', root, 403], // no rule: default deny
      ['/api/../elsewhere', alice, 403], // rules judge the normalized path
    ];
    for (const [path, headers, want, method] of cases) {
      const res = await judge.grpc.check(path, headers, method ? { method } : {});
      assert.equal(status(res), want, `${method ?? 'GET'} ${path} as ${headers === alice ? 'alice' : 'root'}`);
    }
    const d = forbidden(await judge.grpc.check('/elsewhere', alice));
    assert.deepEqual(JSON.parse(d.body), { error: 'forbidden', message: 'No access rule covers this request.' });
  });
});

describe('the provider goes down after warm-up', () => {
  let op: TestOp;
  let judge: Judged;
  const clock = new ManualClock(Date.now());
  const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, ...API });

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { clock, env: { JWKS_MIN_REFETCH_INTERVAL: '1' } });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it('keeps the last good keys: an unseen token of a known key verifies; an unknown kid is refused after a failed refetch', async () => {
    const port = judge.app.ports.health;
    const warm = await judge.grpc.check('/api', bearer(await accessToken(op, 'warm@example.com', ['devs'], {}, {}, clock.now())));
    assert.equal(warm.status.code, 0);
    assert.equal(await metric(port, 'oidc_judge_jwks_refresh_total', { result: 'ok', cause: 'startup' }), 1);

    await op.stop();
    const unseen = await accessToken(op, 'later@example.com', ['devs'], {}, { alg: 'ES256' }, clock.now());
    const res = await judge.grpc.check('/api', bearer(unseen));
    assert.equal(res.status.code, 0, JSON.stringify(res.denied_response));
    assert.equal(optionValue(res.ok_response?.headers, 'kubeflow-userid'), 'later@example.com');

    // Past JWKS_MIN_REFETCH_INTERVAL, an unknown kid makes the judge try the provider, which is down.
    clock.advance(2000);
    const rogue = await newKey('RS256');
    const unknown = await accessToken(op, 'mallory@example.com', ['admins'], {}, { key: rogue }, clock.now());
    const refused = await judge.grpc.check('/api', bearer(unknown));
    assert.equal(refused.status.code, 16);
    assert.equal(refused.denied_response?.status?.code, 401);
    assert.match(optionValue(refused.denied_response?.headers, 'www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal(await metric(port, 'oidc_judge_jwks_refresh_total', { result: 'error', cause: 'unknown-kid' }), 1);

    // The failed refetch did not drop the keys.
    const another = await accessToken(op, 'third@example.com', ['devs'], {}, {}, clock.now());
    assert.equal((await judge.grpc.check('/api', bearer(another))).status.code, 0);
    assert.equal(await metric(port, 'oidc_judge_decisions_total', { outcome: 'allow', status: '200', authenticator: 'access_token', via: 'grpc' }), 3);
  });
});
