/**
 * The OTLP exporter for the configured protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`): HTTP with protobuf
 * (the default), HTTP with JSON, or gRPC (a collector's port 4317). Each exporter module is
 * imported only when chosen. The headers are secrets (API keys): they go to the exporter — as gRPC
 * metadata over gRPC — and nowhere else.
 */
import { Metadata } from '@grpc/grpc-js';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { TraceSettings } from '../obs/trace/settings.js';

export async function otlpExporter(s: TraceSettings): Promise<SpanExporter> {
  const common = { url: s.url, timeoutMillis: s.timeoutMs };
  switch (s.protocol) {
    case 'grpc': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(s.headers)) metadata.set(k, v);
      return new OTLPTraceExporter({ ...common, metadata });
    }
    case 'http/json': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ ...common, headers: { ...s.headers } });
    }
    default: {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ ...common, headers: { ...s.headers } });
    }
  }
}
