/**
 * The standard OpenTelemetry variables (`OTEL_*`) read into trace settings: `undefined` (traces off)
 * unless an OTLP endpoint is given and the SDK is not disabled. main.ts passes `process.env` here;
 * problems are collected and reported together, like the config loader's.
 */

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface TraceSettings {
  /** `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`: how spans are sent. */
  readonly protocol: OtlpProtocol;
  /** Where spans are sent: over HTTP the traces URL (`…/v1/traces`); over gRPC the collector's `http(s)://host:port`. */
  readonly url: string;
  /** `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`: sent with every export (may carry an API key: never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES`, `service.name` excluded (it is `serviceName`). */
  readonly resource: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  /** The ratio for the `traceidratio` samplers, 0…1. */
  readonly ratio: number;
  readonly propagators: readonly PropagatorName[];
  /** `OTEL_BSP_SCHEDULE_DELAY` and `OTEL_BSP_MAX_QUEUE_SIZE`: how spans are batched. */
  readonly batchDelayMs: number;
  readonly maxQueue: number;
}

export type TraceEnv = Readonly<Record<string, string | undefined>>;

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage', 'b3', 'b3multi'];
/**
 * The specification's default is `tracecontext,baggage`; `b3multi` is added because Istio's Envoy
 * sends B3 multi-header context, and a mesh's trace should continue without configuration. Each B3
 * propagator reads both the single and the multi-header form.
 */
export const DEFAULT_PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage', 'b3multi'];

export class TraceSettingsError extends Error {
  override readonly name = 'TraceSettingsError';
}

const val = (env: TraceEnv, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** `k1=v1,k2=v2`, values percent-decoded (W3C Baggage octets, as the specification says for these lists). */
function keyValues(text: string | undefined, name: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? '' : part.slice(0, eq).trim();
    if (k === '') {
      problems.push(`${name}: "key=value" pairs expected`);
      continue;
    }
    try {
      out[k] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      problems.push(`${name}: the value of ${k} is not valid percent-encoding`);
    }
  }
  return out;
}

function positive(env: TraceEnv, name: string, dflt: number, problems: string[]): number {
  const v = val(env, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) problems.push(`${name}: a positive whole number expected, got "${v}"`);
  return n;
}

/** The trace settings, or `undefined` when traces are off; throws `TraceSettingsError` naming every problem. */
export function traceSettingsFrom(env: TraceEnv): TraceSettings | undefined {
  if (val(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = val(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  const tracesUrl = val(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = val(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesUrl === undefined && base === undefined) return undefined;
  const problems: string[] = [];
  if (exporter !== undefined && exporter !== 'otlp') problems.push(`OTEL_TRACES_EXPORTER: only "otlp" (or "none") is supported, got "${exporter}"`);
  const protocol = (val(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? val(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf') as OtlpProtocol;
  if (!PROTOCOLS.includes(protocol)) problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL: one of ${PROTOCOLS.join(', ')} expected, got "${protocol}"`);
  // The signal-specific URL is used as given; over HTTP the base URL gets the signal's path appended,
  // over gRPC it names the collector itself (the service path is gRPC's).
  const url = tracesUrl ?? (protocol === 'grpc' ? base! : `${base!.replace(/\/+$/, '')}/v1/traces`);
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT: an http(s) URL expected`);
  } catch {
    problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT: not a URL`);
  }
  const headers = {
    ...keyValues(val(env, 'OTEL_EXPORTER_OTLP_HEADERS'), 'OTEL_EXPORTER_OTLP_HEADERS', problems),
    ...keyValues(val(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'), 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', problems),
  };
  const timeoutMs = positive(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', positive(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000, problems), problems);
  const resource = keyValues(val(env, 'OTEL_RESOURCE_ATTRIBUTES'), 'OTEL_RESOURCE_ATTRIBUTES', problems);
  const serviceName = val(env, 'OTEL_SERVICE_NAME') ?? resource['service.name'] ?? 'oidc-judge';
  delete resource['service.name'];
  const sampler = (val(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(sampler)) problems.push(`OTEL_TRACES_SAMPLER: one of ${SAMPLERS.join(', ')} expected, got "${sampler}"`);
  const arg = val(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (sampler.endsWith('traceidratio') && !(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: a ratio between 0 and 1 expected, got "${arg}"`);
  const names = (val(env, 'OTEL_PROPAGATORS')?.toLowerCase().split(',') ?? DEFAULT_PROPAGATORS).map((p) => p.trim()).filter((p) => p !== '');
  const propagators = names.filter((p) => p !== 'none') as PropagatorName[];
  for (const p of propagators) if (!PROPAGATORS.includes(p)) problems.push(`OTEL_PROPAGATORS: one of ${PROPAGATORS.join(', ')}, none expected, got "${p}"`);
  const batchDelayMs = positive(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, problems);
  const maxQueue = positive(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, problems);
  if (problems.length > 0) throw new TraceSettingsError(`trace settings: ${problems.join('; ')}`);
  return Object.freeze({ protocol, url, headers, timeoutMs, serviceName, resource, sampler, ratio, propagators, batchDelayMs, maxQueue });
}
