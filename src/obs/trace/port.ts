/**
 * The tracing port: all the judge, its plug-ins and the clients see of tracing. OpenTelemetry lives
 * behind it (otel.ts), loaded by the wiring only when `OTEL_*` settings ask for traces; with tracing
 * off nothing is installed and every caller takes its untraced path after one `undefined` check —
 * no span objects, no context propagation.
 *
 * The tracing in use is process-wide, like OpenTelemetry's own global tracer provider: the wiring
 * installs it before building anything and removes it at stop. Outgoing calls (provider, store,
 * Kubernetes, external authorizer) find it here instead of through every constructor, so adding a
 * traced call does not change the wiring of the clients.
 */

export type SpanValue = string | number | boolean;

/** The span a traced piece of work may annotate. Attribute values are never tokens, cookies or queries. */
export interface SpanPort {
  /** False for a check the sampler left out: `set` and `fail` do nothing, so callers may skip preparing attributes. */
  readonly recording: boolean;
  set(key: string, value: SpanValue): void;
  /** Marks the span failed; records the error's name and code, never its message (it may quote input). */
  fail(err: unknown): void;
  /** Writes this span's context into `headers`, as the configured propagators spell it. */
  inject(headers: Record<string, string>): void;
}

export interface Tracing {
  /**
   * Runs one check under a new server span continued from the trace headers of the checked request
   * (`traceparent`/`tracestate`, B3 single or multi, as `OTEL_PROPAGATORS` says), active while `fn`
   * runs so the calls it makes become its children. `name`: `oidc_judge.check` unless given
   * (`oidc_judge.web` for a request to the web server: login, callback, logout, pages).
   */
  check<T>(headers: Readonly<Record<string, string | undefined>>, fn: (span: SpanPort) => Promise<T>, name?: string): Promise<T>;
  /** Runs `fn` under a client span, child of the active span; with no active span `fn` just runs. */
  call<T>(name: string, attributes: Readonly<Record<string, SpanValue>>, fn: (span: SpanPort) => Promise<T>): Promise<T>;
  /** Writes the active span's context into `headers` (for a request sent upstream on its behalf). */
  inject(headers: Record<string, string>): void;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/** Sets (or with `undefined`, removes) the process's tracing. The wiring only. */
export function installTracing(t: Tracing | undefined): void {
  installed = t;
}

/** The process's tracing, `undefined` when traces are off. */
export function activeTracing(): Tracing | undefined {
  return installed;
}

const spanOfDecision = new WeakMap<object, SpanPort>();

/** Remembers the check span a decision was made under (tracing on), for the forwarder's upstream request. */
export function linkSpan(decision: object, span: SpanPort): void {
  spanOfDecision.set(decision, span);
}

/** The trace headers to send upstream with an allowed request: the check span's context; none when tracing is off. */
export function upstreamTraceHeaders(decision: object): Record<string, string> | undefined {
  if (installed === undefined) return undefined;
  const span = spanOfDecision.get(decision);
  if (span === undefined) return undefined;
  const headers: Record<string, string> = {};
  span.inject(headers);
  return headers;
}

/** `fn` under a child span named `name` when tracing is on; otherwise just `fn()`. */
export function traced<T>(name: string, attributes: Readonly<Record<string, SpanValue>>, fn: (span?: SpanPort) => Promise<T>): Promise<T> {
  const t = installed;
  return t === undefined ? fn() : t.call(name, attributes, fn);
}
