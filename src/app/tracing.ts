/**
 * Turns traces on for the process when the `OTEL_*` settings ask for them: the OpenTelemetry SDK is
 * imported here, lazily, so a judge without trace settings never loads it. The tracing is
 * installed process-wide (obs/trace/port.ts) before the judge is built, and removed at stop.
 */
import { installTracing, type Tracing } from '../obs/trace/port.js';
import type { TraceSettings } from '../obs/trace/settings.js';

export async function startTracing(settings: TraceSettings | undefined, version: string): Promise<Tracing | undefined> {
  if (settings === undefined) return undefined;
  const [{ startOtelTracing }, { otlpExporter }] = await Promise.all([import('../obs/trace/otel.js'), import('./trace-exporter.js')]);
  const tracing = startOtelTracing(settings, version, await otlpExporter(settings));
  installTracing(tracing);
  return tracing;
}

export async function stopTracing(tracing: Tracing | undefined): Promise<void> {
  if (tracing === undefined) return;
  installTracing(undefined);
  await tracing.shutdown();
}
