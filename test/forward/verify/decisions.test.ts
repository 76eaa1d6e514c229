/**
 * The verify mode decides through the one judge (`createJudge` + `observe`): every request gets the
 * decision log line (never the token) and counts in the check metrics, with the mode's answers
 * unchanged — 401 without a credential, 401 invalid_token, 403 for an unmet required claim, allow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../../src/obs/metrics.js';
import { send } from '../../helpers/http-send.js';
import { bearer, claimsAt, sign, startVerify } from './harness.js';

const SECRET = 'k'.repeat(40);
const HMAC = { keys: { source: 'hmac', secret: SECRET, encoding: 'raw' }, audience: 'https://api.example', claims: { role: 'admin' } };
const token = (over = {}): Promise<string> => sign(claimsAt(Date.now(), over), new TextEncoder().encode(SECRET), { alg: 'HS256' });

type Line = Record<string, unknown>;
const decisions = (logs: string[]): Line[] => logs.map((l) => JSON.parse(l) as Line).filter((r) => r['msg'] === 'decision');

describe('verify forwarder: one judge', () => {
  it('logs one decision line per request and counts each check, answers unchanged', async () => {
    const metrics = createMetrics(false);
    const v = await startVerify(HMAC, { metrics });
    const good = await token({ role: 'admin' });
    const ok = await send(v.port, '/ok?access_token=secret-in-query', { headers: { ...bearer(good), 'x-request-id': 'r-1' } });
    assert.equal(ok.status, 200);
    const none = await send(v.port, '/none');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const bad = await send(v.port, '/bad', { headers: bearer('not-a-token') });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers['www-authenticate'], 'Bearer error="invalid_token"');
    const forbidden = await send(v.port, '/forbidden', { headers: bearer(await token({ role: 'viewer' })) });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body, 'Forbidden');

    const lines = decisions(v.logs);
    assert.deepEqual(
      lines.map((l) => [l['path'], l['outcome'], l['status'], l['via']]),
      [
        ['/ok', 'allow', 200, 'forwarder'],
        ['/none', 'deny', 401, 'forwarder'],
        ['/bad', 'deny', 401, 'forwarder'],
        ['/forbidden', 'deny', 403, 'forwarder'],
      ],
    );
    assert.equal(lines[0]!['requestId'], 'r-1');
    assert.equal(lines[0]!['user'], 'alice');
    assert.equal(lines[0]!['authenticator'], 'verify-token');
    assert.equal(lines[3]!['user'], 'alice', 'an authentic token refused for its claims still names its subject');
    assert.ok(!v.logs.join('\n').includes(good), 'never the token');
    assert.ok(!v.logs.join('\n').includes('secret-in-query'), 'never the query');

    const { values } = await metrics.decisions.get();
    const count = (outcome: string, status: string): number =>
      values.filter((x) => x.labels.outcome === outcome && x.labels.status === status && x.labels.via === 'forwarder').reduce((n, x) => n + x.value, 0);
    assert.equal(count('allow', '200'), 1);
    assert.equal(count('deny', '401'), 2);
    assert.equal(count('deny', '403'), 1);
  });

  it("builds its judge request with the shared builder (every door's request id and host rules); two Authorization headers stay a malformed credential", async () => {
    const v = await startVerify(HMAC);
    const good = await token({ role: 'admin' });
    const ok = await send(v.port, '/shared', { headers: { ...bearer(good), host: 'API.Example.test', 'x-request-id': 'not printable' } });
    assert.equal(ok.status, 200);
    const two = await send(v.port, '/two', { headers: { authorization: [`Bearer ${good}`, `Bearer ${good}`] } });
    assert.equal(two.status, 401);
    assert.equal(two.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.equal(two.body, 'Unauthorized');
    const [shared, twice] = decisions(v.logs);
    assert.equal(shared!['host'], 'api.example.test', 'the host as every door reads it');
    assert.notEqual(shared!['requestId'], 'not printable', 'a request id with a space is replaced, as at every door');
    assert.match(String(shared!['requestId']), /^[0-9a-f-]{36}$/);
    assert.deepEqual([twice!['path'], twice!['status'], twice!['reason']], ['/two', 401, 'invalid-token:malformed credential']);
  });

  it('writes no decision line when decision logging is off', async () => {
    const v = await startVerify(HMAC, { logDecisions: false });
    assert.equal((await send(v.port, '/', { headers: bearer(await token({ role: 'admin' })) })).status, 200);
    assert.deepEqual(decisions(v.logs), []);
  });
});
