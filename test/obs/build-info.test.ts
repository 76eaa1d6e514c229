/**
 * The build is named where operators look: `oidc_judge_build_info{version,node} 1` on /metrics (once,
 * also when workers' metrics are merged) and the /healthz body, whose first line stays `ok` and whose
 * status stays 200 whatever readiness says.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mergeMetrics } from '../../src/obs/cluster-metrics.js';
import { buildInfoFrom } from '../../src/obs/build-info.js';
import { createHealthServer, type HealthServer } from '../../src/obs/health.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { Readiness } from '../../src/obs/readiness.js';
import { send } from '../helpers/http-send.js';

const build = { version: '1.2.3', node: 'v24.11.0' };
const servers: HealthServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function health(withBuild: boolean): Promise<number> {
  const readiness = new Readiness();
  readiness.set(false, 'OIDC discovery has not succeeded yet');
  const server = createHealthServer(
    readiness,
    createMetrics(false, withBuild ? build : undefined),
    undefined,
    undefined,
    undefined,
    withBuild ? build : undefined,
  );
  servers.push(server);
  return server.listen('127.0.0.1', 0);
}

describe('build info', () => {
  it('reads the version from package.json text', () => {
    assert.deepEqual(buildInfoFrom('{"name":"oidc-judge","version":"0.1.0"}', 'v20.19.0'), { version: '0.1.0', node: 'v20.19.0' });
    assert.deepEqual(buildInfoFrom('{"name":"oidc-judge"}', 'v20.19.0'), { version: 'unknown', node: 'v20.19.0' });
  });

  it('oidc_judge_build_info{version,node} is 1, and one series after merging workers', async () => {
    const text = await createMetrics(false, build).registry.metrics();
    assert.match(text, /# TYPE oidc_judge_build_info gauge/);
    assert.match(text, /^oidc_judge_build_info\{version="1\.2\.3",node="v24\.11\.0"\} 1$/m);
    assert.doesNotMatch(await createMetrics(false).registry.metrics(), /build_info/, 'only when the build is given');
    const report = () => createMetrics(false, build).registry.getMetricsAsJSON();
    const merged = await mergeMetrics([await report(), await report()], 2);
    assert.match(merged, /^oidc_judge_build_info\{version="1\.2\.3",node="v24\.11\.0"\} 1$/m, 'not summed over workers');
  });

  it('/healthz: 200 while unready, `ok` first, then the version; JSON when asked for', async () => {
    const port = await health(true);
    const text = await send(port, '/healthz');
    assert.equal(text.status, 200);
    assert.equal(text.body, 'ok\nversion 1.2.3\nnode v24.11.0\n');
    assert.match(String(text.headers['content-type']), /^text\/plain/);
    const json = await send(port, '/healthz', { headers: { accept: 'application/json' } });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(json.body), { status: 'ok', version: '1.2.3', node: 'v24.11.0' });
    assert.equal((await send(port, '/healthz', { headers: { accept: 'text/html,application/json;q=0.9' } })).body.split('\n')[0], 'ok');
    assert.equal((await send(port, '/readyz')).status, 503, 'readiness unchanged');
    const old = await send(await health(false), '/healthz');
    assert.equal(old.body, 'ok\n', 'without a build: as before');
  });
});
