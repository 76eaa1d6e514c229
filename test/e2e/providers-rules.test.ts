/**
 * Access rules with several providers (`providers:`): a rule naming a provider is judged only for
 * that provider's checks, and a provider that no rule applies to is refused everything when rules
 * are set (rules deny what none allows) — never left unguarded because its rules were all filtered out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accessToken, startJudge, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' } as const;

describe('access rules per provider', () => {
  let op: TestOp;
  let judge: Judged;

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, {
      yaml: `
providers:
  - { id: p, issuer: "${op.issuer}", clientId: judge-client, clientSecret: judge-client-secret, hosts: [p.test] }
authzRules:
  - provider: default
    match: { path: { prefix: / } }
    allow: { authenticated: true }
`,
    });
  });
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  it('judges the default provider by its rule, and refuses the provider no rule applies to', async () => {
    const token = { authorization: `Bearer ${await accessToken(op)}`, ...API };
    assert.equal((await judge.grpc.check('/x', token, { host: 'app.example.com' })).status.code, 0);
    const onP = await judge.grpc.check('/x', token, { host: 'p.test' });
    assert.equal(onP.denied_response?.status?.code, 403);
    assert.match(onP.denied_response?.body ?? '', /No access rule applies to this identity provider/);
  });
});
