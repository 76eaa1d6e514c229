import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/obs/metrics.js';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: the per-check path', () => {
  it('counts checks per label tuple, every scrape showing the running totals', async () => {
    const m = createMetrics(false);
    const allowHttp = 'oidc_judge_decisions_total{outcome="allow",status="200",authenticator="session",via="http"}';
    const denyGrpc = 'oidc_judge_decisions_total{outcome="deny",status="401",authenticator="access_token",via="grpc"}';
    for (let i = 0; i < 3; i++) m.countCheck('allow', '200', 'session', 'http', 0.0002);
    m.countCheck('deny', '401', 'access_token', 'grpc', 0.002);
    let text = await m.registry.metrics();
    assert.equal(value(text, allowHttp), 3);
    assert.equal(value(text, denyGrpc), 1);
    assert.equal(value(await m.registry.metrics(), allowHttp), 3, 'a second scrape counts nothing twice');
    m.countCheck('allow', '200', 'session', 'http', 0.0002);
    m.countCheck('error', '503', '', 'http');
    text = await m.registry.metrics();
    assert.equal(value(text, allowHttp), 4);
    assert.equal(value(text, 'oidc_judge_decisions_total{outcome="error",status="503",authenticator="",via="http"}'), 1);
    // Durations: the error (no duration) is not in the histogram.
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_count{via="http"}'), 4);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="0.00025",via="http"}'), 4);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="0.0001",via="http"}'), 0);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_count{via="grpc"}'), 1);
  });

  it('reads the same through the metric object as through the registry', async () => {
    const m = createMetrics(false);
    m.countCheck('skip', '200', '', 'verify', 0.0001);
    const got = await m.decisions.get();
    assert.deepEqual(got.values.map((v) => [v.labels, v.value]), [[{ outcome: 'skip', status: '200', authenticator: '', via: 'verify' }, 1]]);
  });
});
