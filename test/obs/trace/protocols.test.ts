/**
 * The OTLP protocols besides the default HTTP/protobuf (traces.test.ts): HTTP with JSON, and gRPC
 * to a collector's gRPC port. A judge started with each sends the check span of a sampled request
 * to a receiver of that protocol, parented on the caller's span, with the exporter's headers
 * (`OTEL_EXPORTER_OTLP_HEADERS`) as HTTP headers or gRPC metadata.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { startApp } from '../../../src/app/start.js';
import { silentLogger } from '../../../src/obs/log.js';
import { traceSettingsFrom } from '../../../src/obs/trace/settings.js';
import { testConfig, untilReady } from '../../helpers/app.js';
import { send } from '../../helpers/http-send.js';
import { startOp } from '../../helpers/op.js';
import { startGrpcReceiver, startReceiver, type GrpcReceiver, type Receiver } from '../../helpers/otlp.js';

const id = (bytes: number): string => randomBytes(bytes).toString('hex');

async function traced(protocol: 'http/json' | 'grpc', receiver: Receiver): Promise<void> {
  const op = await startOp();
  const traces = traceSettingsFrom({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-secret',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  const app = await startApp(testConfig(op.issuer), { log: silentLogger, traces: traces! });
  try {
    await untilReady(app.readiness);
    const traceId = id(16);
    const parent = id(8);
    await send(app.ports.http, '/x', { headers: { host: 'app.example.com', traceparent: `00-${traceId}-${parent}-01` } });
    const [check] = (await receiver.until((all) => all.some((s) => s.traceId === traceId))).filter((s) => s.traceId === traceId);
    assert.equal(check!.parentId, parent);
    assert.equal(check!.name, 'oidc_judge.check');
    assert.equal(check!.resource['service.name'], 'oidc-judge');
  } finally {
    await app.stop();
    await op.stop();
  }
}

describe('OTLP protocols', () => {
  it('http/json: spans as OTLP/JSON to /v1/traces', async () => {
    const receiver = await startReceiver();
    try {
      await traced('http/json', receiver);
      assert.ok(receiver.contentTypes.every((t) => t.startsWith('application/json')));
    } finally {
      await receiver.close();
    }
  });

  it('grpc: spans to the collector over gRPC, the headers as metadata', async () => {
    const receiver: GrpcReceiver = await startGrpcReceiver();
    try {
      await traced('grpc', receiver);
      assert.ok(receiver.metadata.length > 0);
      assert.ok(receiver.metadata.every((m) => m['x-api-key'] === 'collector-secret'));
    } finally {
      await receiver.close();
    }
  });
});
