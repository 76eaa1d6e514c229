/**
 * Sampling by ratio: a check that starts a new trace is decided before any SDK work, and one the
 * ratio leaves out records nothing yet still sends a trace context upstream (sampled flag off, so
 * the upstream does not record it either); a check whose caller sent a sampled parent — W3C or
 * B3 in either spelling, whichever the configured B3 propagator writes — is recorded whatever the ratio.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../../src/app/start.js';
import { ManualClock } from '../../../src/clock.js';
import { listenOn } from '../../../src/net/listen.js';
import { silentLogger } from '../../../src/obs/log.js';
import { otlpExporter } from '../../../src/app/trace-exporter.js';
import { startOtelTracing } from '../../../src/obs/trace/otel.js';
import { traceSettingsFrom } from '../../../src/obs/trace/settings.js';
import { accessToken, testConfig, untilReady } from '../../helpers/app.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';
import { startOp, type TestOp } from '../../helpers/op.js';
import { startReceiver, type Receiver } from '../../helpers/otlp.js';

const id = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('traces sampled by ratio (parentbased_traceidratio, ratio 0)', () => {
  let op: TestOp;
  let receiver: Receiver;
  let app: App;
  const clock = new ManualClock(Date.now());
  const upstreamSaw: IncomingHttpHeaders[] = [];
  const upstream = createServer((req, res) => {
    upstreamSaw.push(req.headers);
    res.end('upstream');
  });

  before(async () => {
    op = await startOp();
    receiver = await startReceiver();
    const upstreamPort = await listenOn(upstream, '127.0.0.1', 0);
    const config = testConfig(op.issuer, { env: { INGRESS_PORT: String(await freePort()), INGRESS_UPSTREAM: `http://127.0.0.1:${upstreamPort}` } });
    const traces = traceSettingsFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      // B3 written as one header: a caller's multi-header B3 must still be read as a parent.
      OTEL_PROPAGATORS: 'tracecontext,b3',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    app = await startApp(config, { log: silentLogger, clock, traces: traces! });
    await untilReady(app.readiness);
  });

  after(async () => {
    await app.stop();
    upstream.close();
    await receiver.close();
    await op.stop();
  });

  it('a new trace left out records nothing, and the upstream gets a fresh unsampled context', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs'], {}, {}, clock.now());
    const r = await send(app.ports.ingress, '/api', { headers: { host: 'app.example.com', authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    const seen = upstreamSaw.at(-1)!;
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/.exec(String(seen['traceparent']));
    assert.ok(m, `traceparent ${String(seen['traceparent'])}`);
    assert.notEqual(m[1], '0'.repeat(32));
    assert.match(String(seen['b3']), new RegExp(`^${m[1]}-${m[2]}-0$`));

    // A sampled caller afterwards: once its span arrives, it is the only one received.
    const traceId = id(16);
    const parent = id(8);
    const s = await send(app.ports.ingress, '/api', {
      headers: { host: 'app.example.com', authorization: `Bearer ${token}`, 'x-b3-traceid': traceId, 'x-b3-spanid': parent, 'x-b3-sampled': '1' },
    });
    assert.equal(s.status, 200);
    const all = await receiver.until((spans) => spans.some((x) => x.traceId === traceId));
    assert.deepEqual(
      all.map((x) => [x.traceId, x.parentId]),
      [[traceId, parent]],
    );
    assert.equal(upstreamSaw.at(-1)!['traceparent'], `00-${traceId}-${all[0]!.spanId}-01`);
  });
});

describe('a new trace drawn by ratio', () => {
  it('is recorded with its child spans, the SDK not drawing a second time (traceidratio, ratio 0.5)', async () => {
    const receiver = await startReceiver();
    try {
      const settings = traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' })!;
      // Every draw says "sampled" (0 < 0.5); the others, 0.75, "left out".
      const draws = [0, 0.75];
      let n = 0;
      const tracing = startOtelTracing(settings, 'test', await otlpExporter(settings), () => draws[n++ % 2]!);
      for (let i = 0; i < 40; i++) {
        await tracing.check({ host: 'app.example.com' }, async () => {
          await Promise.resolve();
          await tracing.call('child', {}, async () => undefined);
        });
      }
      await tracing.shutdown();
      const spans = receiver.spans;
      const checks = spans.filter((s) => s.name === 'oidc_judge.check');
      assert.equal(checks.length, 20, 'each check drawn as sampled, and only those');
      const children = spans.filter((s) => s.name === 'child');
      assert.deepEqual(children.map((c) => c.parentId).sort(), checks.map((c) => c.spanId).sort());
    } finally {
      await receiver.close();
    }
  });
});
