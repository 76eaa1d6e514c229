import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { CheckDurationHistogram } from '../../src/obs/check-histogram.js';
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
    assert.deepEqual(
      got.values.map((v) => [v.labels, v.value]),
      [[{ outcome: 'skip', status: '200', authenticator: '', via: 'verify' }, 1]],
    );
  });
});

describe('check duration histogram', () => {
  it('exposes exactly what a prom-client Histogram exposes for the same observations', async () => {
    const buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new CheckDurationHistogram({ name: 'x_seconds', help: 'Time.', buckets, registry: ours });
    const reference = new Histogram({ name: 'x_seconds', help: 'Time.', labelNames: ['via'], buckets, registers: [theirs] });
    const seen: [string, number][] = [
      ['http', 0.00005],
      ['http', 0.0001],
      ['grpc', 0.0003],
      ['http', 0.7],
      ['grpc', 3],
      ['verify', 0.001],
      ['http', 0.0002],
    ];
    for (const [via, s] of seen) {
      fast.observe(via, s);
      reference.observe({ via }, s);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    // As JSON (what a cluster AggregatorRegistry merges) the same too, but for prom-client's empty exemplars.
    const json = async (r: Registry): Promise<unknown> =>
      (await r.getMetricsAsJSON()).map(({ values, ...m }) => ({
        ...m,
        values: values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })),
      }));
    assert.deepEqual(await json(ours), await json(theirs));
    ours.resetMetrics();
    theirs.resetMetrics();
    assert.equal(await ours.metrics(), await theirs.metrics());
  });
});
