/**
 * The `OTEL_*` variables read into trace settings (obs/trace/settings.ts) — off unless an endpoint
 * is given — and the promise that a judge without them never loads the OpenTelemetry SDK: the
 * modules the service's entry loads are listed by a resolve hook in a fresh process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PROPAGATORS, traceSettingsFrom } from '../../../src/obs/trace/settings.js';

describe('trace settings', () => {
  it('are off without an endpoint, with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    assert.equal(traceSettingsFrom({}), undefined);
    assert.equal(traceSettingsFrom({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), undefined);
    assert.equal(traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined);
  });

  it('append /v1/traces to the base endpoint, take the traces endpoint as it is, and default as the specification says', () => {
    const s = traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })!;
    assert.equal(s.url, 'http://collector:4318/v1/traces');
    assert.equal(s.sampler, 'parentbased_always_on');
    assert.equal(s.serviceName, 'oidc-judge');
    assert.deepEqual(s.propagators, DEFAULT_PROPAGATORS);
    assert.equal(s.timeoutMs, 10_000);
    assert.equal(traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/t' })!.url, 'https://b/t');
  });

  it('take the protocol: over gRPC the endpoint names the collector as it is', () => {
    assert.equal(traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })!.protocol, 'http/protobuf');
    const g = traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })!;
    assert.deepEqual([g.protocol, g.url], ['grpc', 'http://collector:4317']);
    const j = traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })!;
    assert.deepEqual([j.protocol, j.url], ['http/json', 'http://c:4318/v1/traces']);
  });

  it('read the sampler, its ratio, the propagators, the headers and the resource', () => {
    const s = traceSettingsFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_PROPAGATORS: 'b3, tracecontext',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%3Dcret,x=1',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,deployment.environment=prod',
    })!;
    assert.equal(s.sampler, 'parentbased_traceidratio');
    assert.equal(s.ratio, 0.01);
    assert.deepEqual(s.propagators, ['b3', 'tracecontext']);
    assert.deepEqual(s.headers, { 'api-key': 's=cret', x: '1' });
    assert.equal(s.serviceName, 'from-resource');
    assert.deepEqual(s.resource, { 'deployment.environment': 'prod' });
    assert.deepEqual(traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_PROPAGATORS: 'none' })!.propagators, []);
  });

  it('name every problem at once', () => {
    assert.throws(
      () =>
        traceSettingsFrom({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/thrift',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_PROPAGATORS: 'xray',
          OTEL_BSP_SCHEDULE_DELAY: '-1',
        }),
      (e: Error) =>
        ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_TRACES_SAMPLER', 'OTEL_PROPAGATORS', 'OTEL_BSP_SCHEDULE_DELAY'].every((n) =>
          e.message.includes(n),
        ),
    );
    assert.throws(
      () => traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }),
      /SAMPLER_ARG/,
    );
  });
});

describe('tracing off', () => {
  it('loads no OpenTelemetry module with the service', () => {
    const dist = join(import.meta.dirname, '..', '..', '..', 'src');
    const seen = join(mkdtempSync(join(tmpdir(), 'judge-modules-')), 'modules.txt');
    // A resolve hook that records every module the entry and the wiring load, statically or not. It
    // appends synchronously: on Node 24 hooks run on their own thread, whose stdout may not be
    // flushed before the process ends.
    const hook = `import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(seen)}, r.url + '\\n'); return r; }`;
    const script = [
      `import { register } from 'node:module';`,
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`,
      `await import(${JSON.stringify(join(dist, 'main.js'))});`,
      `await import(${JSON.stringify(join(dist, 'app', 'start.js'))});`,
    ].join('\n');
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const out = readFileSync(seen, 'utf8');
    assert.ok(out.includes('/app/start.js'), 'the hook saw the wiring load');
    assert.deepEqual(
      out.split('\n').filter((u) => u.includes('opentelemetry') || u.includes('/obs/trace/otel.js')),
      [],
    );
  });
});
