/**
 * The merge behind `/metrics` under `--workers` (src/obs/cluster-metrics.ts): several workers'
 * registries, as they cross the IPC channel (JSON), in; one exposition text with counters and
 * histograms summed out. The IPC round trip itself runs with real workers in test/workers.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeMetrics, type MetricsJson } from '../../src/obs/cluster-metrics.js';
import { createMetrics, type Metrics } from '../../src/obs/metrics.js';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A registry's metrics as the primary receives them: JSON over the cluster channel. */
async function overIpc(m: Metrics): Promise<MetricsJson> {
  return JSON.parse(JSON.stringify(await m.registry.getMetricsAsJSON())) as MetricsJson;
}

const ALLOW_HTTP = 'oidc_judge_decisions_total{outcome="allow",status="200",authenticator="session",via="http"}';
const DENY_GRPC = 'oidc_judge_decisions_total{outcome="deny",status="401",authenticator="access_token",via="grpc"}';

describe('cluster metrics: merging the workers’ registries', () => {
  it('sums the decisions counter and the check-duration histogram, series by series', async () => {
    const one = createMetrics(false);
    const two = createMetrics(false);
    for (let i = 0; i < 3; i++) one.countCheck('allow', '200', 'session', 'http', 0.0002);
    one.countCheck('deny', '401', 'access_token', 'grpc', 0.002);
    for (let i = 0; i < 2; i++) two.countCheck('allow', '200', 'session', 'http', 0.0004);
    two.countCheck('allow', '200', 'session', 'http', 0.3);
    one.jwksRefresh.inc({ result: 'ok', cause: 'startup' });
    two.jwksRefresh.inc({ result: 'ok', cause: 'startup' });

    const text = await mergeMetrics([await overIpc(one), await overIpc(two)], 2);

    assert.equal(value(text, ALLOW_HTTP), 6);
    assert.equal(value(text, DENY_GRPC), 1, 'a series only one worker has is kept');
    assert.equal(value(text, 'oidc_judge_jwks_refresh_total{result="ok",cause="startup"}'), 2);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_count{via="http"}'), 6);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="0.00025",via="http"}'), 3);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="0.0005",via="http"}'), 5);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="0.25",via="http"}'), 5);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_bucket{le="+Inf",via="http"}'), 6);
    assert.ok(Math.abs(value(text, 'oidc_judge_check_duration_seconds_sum{via="http"}')! - (3 * 0.0002 + 2 * 0.0004 + 0.3)) < 1e-12);
    assert.equal(value(text, 'oidc_judge_check_duration_seconds_count{via="grpc"}'), 1);
    assert.equal(text.match(/^# TYPE oidc_judge_check_duration_seconds histogram$/gm)?.length, 1, 'one histogram, not one per worker');
    assert.equal(value(text, 'oidc_judge_workers'), 2);
    assert.equal(value(text, 'oidc_judge_workers_reporting'), 2);
  });

  it('says how many workers it asked and how many it could include', async () => {
    const one = createMetrics(false);
    one.countCheck('allow', '200', 'session', 'http', 0.0002);
    const text = await mergeMetrics([await overIpc(one)], 3);
    assert.equal(value(text, ALLOW_HTTP), 1);
    assert.equal(value(text, 'oidc_judge_workers'), 3);
    assert.equal(value(text, 'oidc_judge_workers_reporting'), 1);
  });

  it('merges the default process metrics too (every metric carries its aggregator)', async () => {
    const text = await mergeMetrics([await overIpc(createMetrics()), await overIpc(createMetrics())], 2);
    assert.match(text, /^oidc_judge_process_cpu_seconds_total /m);
    assert.match(text, /^oidc_judge_nodejs_heap_size_total_bytes /m);
    assert.equal(value(text, 'oidc_judge_workers_reporting'), 2);
  });
});
