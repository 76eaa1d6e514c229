/**
 * An OTLP/HTTP trace receiver for tests: a node:http server on 127.0.0.1, port 0, that takes
 * `POST /v1/traces` in protobuf (what the judge's exporter sends), decodes each request with the
 * OTLP messages below (protobufjs, fields as in opentelemetry-proto's trace/v1 and common/v1) and
 * keeps the spans. `until(pred)` resolves when the spans received so far satisfy `pred`.
 */
import { createServer } from 'node:http';
import protobuf from 'protobufjs';
import { listenOn } from '../../src/net/listen.js';

const OTLP = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
const Request = protobuf.parse(OTLP, { keepCase: true }).root.lookupType('otlp.ExportTraceServiceRequest');

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

interface Kv {
  key: string;
  value?: { string_value?: string; bool_value?: boolean; int_value?: number | string; double_value?: number };
}

const record = (kvs: readonly Kv[] | undefined): Record<string, string | number | boolean> =>
  Object.fromEntries(
    (kvs ?? []).map((kv) => [kv.key, kv.value?.string_value ?? kv.value?.bool_value ?? Number(kv.value?.int_value ?? kv.value?.double_value)]),
  );
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

export interface Receiver {
  readonly url: string;
  readonly spans: readonly ReceivedSpan[];
  /** Content types of the export requests received. */
  readonly contentTypes: readonly string[];
  until(pred: (spans: readonly ReceivedSpan[]) => boolean): Promise<readonly ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const waiters: { pred: (s: readonly ReceivedSpan[]) => boolean; resolve: (s: readonly ReceivedSpan[]) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(req.headers['content-type'] ?? '');
      const decoded = Request.toObject(Request.decode(Buffer.concat(chunks)), { longs: String, bytes: Buffer }) as {
        resource_spans?: { resource?: { attributes?: Kv[] }; scope_spans?: { spans?: Record<string, unknown>[] }[] }[];
      };
      for (const rs of decoded.resource_spans ?? []) {
        const resource = record(rs.resource?.attributes);
        for (const ss of rs.scope_spans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              traceId: hex(s['trace_id'] as Uint8Array),
              spanId: hex(s['span_id'] as Uint8Array),
              parentId: hex(s['parent_span_id'] as Uint8Array | undefined),
              name: s['name'] as string,
              kind: (s['kind'] as number | undefined) ?? 0,
              attributes: record(s['attributes'] as Kv[] | undefined),
              status: (s['status'] as { code?: number } | undefined)?.code ?? 0,
              resource,
            });
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      for (const w of [...waiters]) {
        if (!w.pred(spans)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(spans);
      }
    });
  });
  const port = await listenOn(server, '127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    until: (pred) => (pred(spans) ? Promise.resolve(spans) : new Promise((resolve) => waiters.push({ pred, resolve }))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
