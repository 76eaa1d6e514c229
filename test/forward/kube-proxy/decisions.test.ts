/**
 * The Kubernetes proxy decides through the one judge (`createJudge` + `observe`): every request
 * gets the decision log line (never the token) and counts in the check metrics, beside the
 * unchanged answers and the `AuSuccess`/`AuFail` access log — impersonated, passed through by
 * TokenReview, 401 without or with a bad token, 403 for inbound impersonation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics, type Metrics } from '../../../src/obs/metrics.js';
import { send } from '../../helpers/http-send.js';
import { startKubeStack, CLIENT_ID, type KubeStack, type StackOptions } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';

let op: TestOp;
const stacks: KubeStack[] = [];
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
});
after(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await op.stop();
});

async function stack(o: StackOptions = {}): Promise<KubeStack> {
  const s = await startKubeStack({ op, ...o });
  stacks.push(s);
  return s;
}

type Line = Record<string, unknown>;
const decisions = (logs: string[]): Line[] => logs.map((l) => JSON.parse(l) as Line).filter((r) => r['msg'] === 'decision');
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

async function counted(metrics: Metrics): Promise<string[]> {
  const { values } = await metrics.decisions.get();
  return values
    .filter((v) => v.value > 0)
    .map((v) => `${v.labels.outcome} ${v.labels.status} ${v.labels.authenticator} ${v.labels.via} x${v.value}`)
    .sort();
}

describe('kube proxy: one judge', () => {
  it('logs one decision line per request and counts each check; answers and access log unchanged', async () => {
    const metrics = createMetrics(false);
    const s = await stack({ options: { tokenPassthrough: true }, metrics });
    const token = await s.token();
    const sa = await s.api.issueToken({ namespace: 'ci', name: 'deployer' });
    assert.equal((await send(s.port, '/api/v1/pods?watch=1', { headers: bearer(token) })).status, 200);
    assert.equal((await send(s.port, '/api/v1/secrets', { headers: bearer(sa) })).status, 200);
    const none = await send(s.port, '/api/v1/none');
    assert.deepEqual([none.status, none.body, none.headers['www-authenticate']], [401, 'Unauthorized', 'Bearer']);
    assert.equal((await send(s.port, '/api/v1/bad', { headers: bearer('garbage') })).status, 401);
    const refused = await send(s.port, '/api/v1/as-bob', { headers: { ...bearer(token), 'impersonate-user': 'bob' } });
    assert.equal(refused.status, 403);

    const lines = decisions(s.logs);
    assert.deepEqual(
      lines.map((l) => [l['path'], l['outcome'], l['status'], l['authenticator'], l['user'], l['via']]),
      [
        ['/api/v1/pods', 'allow', 200, 'kube-oidc', 'alice@example.com', 'forwarder'],
        ['/api/v1/secrets', 'allow', 200, 'kube-token-review', 'system:serviceaccount:ci:deployer', 'forwarder'],
        ['/api/v1/none', 'deny', 401, undefined, undefined, 'forwarder'],
        ['/api/v1/bad', 'deny', 401, 'kube-oidc', undefined, 'forwarder'],
        ['/api/v1/as-bob', 'deny', 403, 'kube-oidc', 'alice@example.com', 'forwarder'],
      ],
    );
    assert.equal(lines[2]!['reason'], 'no-credentials');
    assert.equal(lines[4]!['reason'], 'forbidden:Impersonation requests are disabled when using kube-oidc-proxy');
    // The decision's request id is the audit ID and correlates the access log.
    assert.ok(lines.every((l) => typeof l['requestId'] === 'string' && l['requestId'] !== ''));
    assert.ok(!s.logs.join('\n').includes(token) && !s.logs.join('\n').includes(sa), 'never a token');
    assert.deepEqual(
      s.accessLines().map((l) => l.split(' ')[1]),
      ['AuSuccess', 'AuSuccess', 'AuFail', 'AuFail', 'AuFail'],
    );

    assert.deepEqual(await counted(metrics), [
      'allow 200 kube-oidc forwarder x1',
      'allow 200 kube-token-review forwarder x1',
      'deny 401  forwarder x1',
      'deny 401 kube-oidc forwarder x1',
      'deny 403 kube-oidc forwarder x1',
    ]);
  });

  it('writes no decision line when decision logging is off, and still counts', async () => {
    const metrics = createMetrics(false);
    const s = await stack({ metrics, logDecisions: false });
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(await s.token()) })).status, 200);
    assert.deepEqual(decisions(s.logs), []);
    assert.deepEqual(await counted(metrics), ['allow 200 kube-oidc forwarder x1']);
  });
});
