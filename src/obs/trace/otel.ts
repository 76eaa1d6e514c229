/**
 * The tracing port on the OpenTelemetry JS SDK: a tracer provider with the configured sampler, an
 * OTLP exporter (app/trace-exporter.ts) behind a batch processor, the configured propagators, and an
 * AsyncLocalStorage (sampled-context.ts) so the calls a sampled check makes find its span. Only the
 * wiring imports this file, and only with `import()` when traces are on: with tracing off the SDK is
 * never loaded.
 *
 * The sampler decides before anything else: a check that is not sampled runs without entering any
 * async context (its trace context still goes upstream), so the cost of async context tracking is
 * paid only while a sampled check is in flight.
 */
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Span, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  SamplingDecision,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
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
    recording: true,
    set: (k: string, v: SpanValue) => void span.setAttribute(k, v),
    fail: (err: unknown) => failOn(span, err),
    inject: (headers: Record<string, string>) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter),
  };
}

const NO_SPAN: SpanPort = { recording: false, set: () => undefined, fail: () => undefined, inject: () => undefined };

/** A check that is not sampled: nothing recorded, but its trace context (sampled flag off) still goes upstream. */
function unsampledPort(span: Span, propagator: TextMapPropagator): SpanPort {
  return {
    recording: false,
    set: () => undefined,
    fail: () => undefined,
    inject: (headers) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter),
  };
}

/**
 * A new trace the ratio left out, decided without the SDK: its ids are drawn only if the context is
 * sent upstream (the ingress forwarder), with the sampled flag off so the upstream does not record it either.
 */
function unsampledRootPort(propagator: TextMapPropagator): SpanPort {
  return {
    recording: false,
    set: () => undefined,
    fail: () => undefined,
    inject: (headers) => {
      const ids = randomBytes(24).toString('hex');
      const span = trace.wrapSpanContext({ traceId: ids.slice(0, 32), spanId: ids.slice(32), traceFlags: TraceFlags.NONE });
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter);
    },
  };
}

const B3_FIELDS = ['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags'];

/**
 * The chance that a check starting a new trace (no trace context in its headers) is sampled, when the
 * sampler decides such roots by ratio alone; `undefined` for samplers that record every root. A trace-id
 * ratio sampler draws on the random trace id, so a draw of `Math.random()` samples the same share.
 */
function rootRatioOf(s: TraceSettings): number | undefined {
  switch (s.sampler) {
    case 'traceidratio':
    case 'parentbased_traceidratio':
      return s.ratio;
    case 'always_off':
    case 'parentbased_always_off':
      return 0;
    default:
      return undefined;
  }
}

/**
 * The configured sampler, except for the traces a check already drew as sampled: the SDK must not
 * draw again on the trace id, or a ratio r would sample r² of new traces. `forceNext` marks the next
 * span (the check's) drawn; its trace stays drawn, for the child spans a non-parent-based sampler
 * decides on their own, until `release`.
 */
class DrawnSampler implements Sampler {
  forceNext = false;
  readonly #drawn = new Set<string>();
  constructor(private readonly inner: Sampler) {}
  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    const traceId = args[1];
    if (this.forceNext) this.#drawn.add(traceId);
    return this.#drawn.has(traceId) ? { decision: SamplingDecision.RECORD_AND_SAMPLED } : this.inner.shouldSample(...args);
  }
  release(traceId: string): void {
    this.#drawn.delete(traceId);
  }
  toString(): string {
    return `Drawn{${this.inner.toString()}}`;
  }
}

/**
 * Starts the SDK, sending spans through `exporter` (app/trace-exporter.ts). `draw` decides new traces at a
 * ratio (`Math.random`; tests pin it).
 */
export function startOtelTracing(s: TraceSettings, version: string, exporter: SpanExporter, draw: () => number = Math.random): Tracing {
  const sampled = new SampledContext<Context>();
  const propagator = new CompositePropagator({ propagators: s.propagators.map(propagatorOf) });
  const sampler = new DrawnSampler(samplerOf(s));
  const provider = new TracerProvider({
    sampler,
    resource: resourceFromAttributes({ ...s.resource, 'service.name': s.serviceName, 'service.version': version }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter, scheduledDelayMillis: s.batchDelayMs, maxQueueSize: s.maxQueue, maxExportBatchSize: Math.min(512, s.maxQueue) }),
    ],
  });
  const tracer = provider.getTracer('oidc-judge', version);
  const rootRatio = rootRatioOf(s);
  // The headers any configured propagator reads (B3 reads both spellings, whichever it writes): a
  // check without any of them starts a new trace.
  const fields = [...new Set([...propagator.fields().map((f) => f.toLowerCase()), ...B3_FIELDS])];
  const startsTrace = (headers: Readonly<Record<string, string | undefined>>): boolean => {
    for (const f of fields) if (headers[f] !== undefined) return false;
    return true;
  };
  const rootPort = unsampledRootPort(propagator);

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
      if (rootRatio !== undefined && startsTrace(headers)) {
        // The common case at a low ratio: a new trace left out, decided before any SDK work.
        if (rootRatio === 0 || draw() >= rootRatio) return fn(rootPort);
        sampler.forceNext = true;
        let span: Span;
        try {
          span = tracer.startSpan(name, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
        } finally {
          sampler.forceNext = false;
        }
        const traceId = span.spanContext().traceId;
        return run(span, ROOT_CONTEXT, fn).finally(() => sampler.release(traceId));
      }
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
