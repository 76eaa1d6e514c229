/**
 * The tracing port on the OpenTelemetry JS SDK: a tracer provider with the configured sampler, an
 * OTLP/HTTP (protobuf) exporter behind a batch processor, the configured propagators, and an
 * AsyncLocalStorage (sampled-context.ts) so the calls a sampled check makes find its span. Only the
 * wiring imports this file, and only with `import()` when traces are on: with tracing off the SDK is
 * never loaded.
 *
 * The sampler decides before anything else: a check that is not sampled runs without entering any
 * async context (its trace context still goes upstream), so the cost of async context tracking is
 * paid only while a sampled check is in flight.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { SpanPort, SpanValue, Tracing } from './port.js';
import { SampledContext } from './sampled-context.js';
import type { PropagatorName, TraceSettings } from './settings.js';

function samplerOf(s: TraceSettings): Sampler {
  switch (s.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(s.ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(s.ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

function propagatorOf(name: PropagatorName): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
    case 'b3multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
  }
}

/** Reads the judge's lower-cased header record (repeated headers already joined). */
const getter = {
  keys: (carrier: Readonly<Record<string, string | undefined>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string | undefined>>, key: string) => carrier[key.toLowerCase()],
};
const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

/** What an error may say in a span: its name and stable code, never its message. */
function failOn(span: Span, err: unknown): void {
  const e = err as { name?: unknown; code?: unknown };
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  span.setAttribute('error.type', typeof e?.code === 'string' ? `${name}:${e.code}` : name);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

function portOf(span: Span, propagator: TextMapPropagator): SpanPort {
  return {
    set: (k: string, v: SpanValue) => void span.setAttribute(k, v),
    fail: (err: unknown) => failOn(span, err),
    inject: (headers: Record<string, string>) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter),
  };
}

const NO_SPAN: SpanPort = { set: () => undefined, fail: () => undefined, inject: () => undefined };

/** A check that is not sampled: nothing recorded, but its trace context (sampled flag off) still goes upstream. */
function unsampledPort(span: Span, propagator: TextMapPropagator): SpanPort {
  return { set: () => undefined, fail: () => undefined, inject: (headers) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter) };
}

/** Starts the SDK. The exporter's headers are secrets (API keys): they go to the exporter and nowhere else. */
export function startOtelTracing(s: TraceSettings, version: string): Tracing {
  const sampled = new SampledContext();
  const propagator = new CompositePropagator({ propagators: s.propagators.map(propagatorOf) });
  const exporter = new OTLPTraceExporter({ url: s.url, headers: { ...s.headers }, timeoutMillis: s.timeoutMs });
  const provider = new TracerProvider({
    sampler: samplerOf(s),
    resource: resourceFromAttributes({ ...s.resource, 'service.name': s.serviceName, 'service.version': version }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: s.batchDelayMs, maxQueueSize: s.maxQueue, maxExportBatchSize: Math.min(512, s.maxQueue) }),
    ],
  });
  const tracer = provider.getTracer('oidc-judge', version);

  async function run<T>(span: Span, ctx: Context, fn: (span: SpanPort) => Promise<T>): Promise<T> {
    try {
      return await sampled.run(trace.setSpan(ctx, span), fn, portOf(span, propagator));
    } catch (err) {
      failOn(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  return {
    check(headers, fn, name = 'oidc_judge.check') {
      const parent = propagator.extract(ROOT_CONTEXT, headers, getter);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
      if (!span.isRecording()) return fn(unsampledPort(span, propagator));
      return run(span, parent, fn);
    },
    call(name, attributes, fn) {
      const ctx = sampled.active();
      const parent = ctx === undefined ? undefined : trace.getSpan(ctx);
      if (ctx === undefined || parent === undefined || !parent.isRecording()) return fn(NO_SPAN);
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, ctx);
      return run(span, ctx, fn);
    },
    inject(headers) {
      const ctx = sampled.active();
      if (ctx !== undefined) propagator.inject(ctx, headers, setter);
    },
    async shutdown() {
      await provider.shutdown();
      sampled.close();
    },
  };
}
