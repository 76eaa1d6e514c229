/**
 * OTLP trace receivers for tests, on 127.0.0.1, port 0: over HTTP (`startReceiver`), a node:http
 * server taking `POST /v1/traces` in protobuf or in JSON (OTLP/JSON: lowerCamelCase fields, hex ids);
 * over gRPC (`startGrpcReceiver`), a grpc-js server answering the collector's
 * `opentelemetry.proto.collector.trace.v1.TraceService/Export` with raw bytes. Protobuf is decoded
 * with the OTLP messages below (protobufjs, fields as in opentelemetry-proto's trace/v1 and
 * common/v1). Each keeps the spans; `until(pred)` resolves when the spans received so far satisfy `pred`.
 */
import * as grpc from '@grpc/grpc-js';
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

interface JsonKv {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}

const jsonRecord = (kvs: readonly JsonKv[] | undefined): Record<string, string | number | boolean> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.boolValue ?? Number(kv.value?.intValue ?? kv.value?.doubleValue)]));

/** The spans of one protobuf `ExportTraceServiceRequest`. */
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const decoded = Request.toObject(Request.decode(body), { longs: String, bytes: Buffer }) as {
    resource_spans?: { resource?: { attributes?: Kv[] }; scope_spans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of decoded.resource_spans ?? []) {
    const resource = record(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
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
  return out;
}

/** The spans of one OTLP/JSON `ExportTraceServiceRequest`. */
function fromJson(body: Buffer): ReceivedSpan[] {
  const decoded = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: { resource?: { attributes?: JsonKv[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of decoded.resourceSpans ?? []) {
    const resource = jsonRecord(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: String(s['traceId']),
          spanId: String(s['spanId']),
          parentId: String(s['parentSpanId'] ?? ''),
          name: s['name'] as string,
          kind: (s['kind'] as number | undefined) ?? 0,
          attributes: jsonRecord(s['attributes'] as JsonKv[] | undefined),
          status: (s['status'] as { code?: number } | undefined)?.code ?? 0,
          resource,
        });
  }
  return out;
}

/** What a receiver keeps, and the waiters of `until`. */
function collector(url: string, close: () => Promise<void>): Receiver & { add(contentType: string, spans: readonly ReceivedSpan[]): void } {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const waiters: { pred: (s: readonly ReceivedSpan[]) => boolean; resolve: (s: readonly ReceivedSpan[]) => void }[] = [];
  return {
    url,
    spans,
    contentTypes,
    add(contentType, received) {
      contentTypes.push(contentType);
      spans.push(...received);
      for (const w of [...waiters]) {
        if (!w.pred(spans)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(spans);
      }
    },
    until: (pred) => (pred(spans) ? Promise.resolve(spans) : new Promise((resolve) => waiters.push({ pred, resolve }))),
    close,
  };
}

export async function startReceiver(): Promise<Receiver> {
  let c: ReturnType<typeof collector> | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      const body = Buffer.concat(chunks);
      const json = type.startsWith('application/json');
      const received = json ? fromJson(body) : fromProtobuf(body);
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
      c!.add(type, received);
    });
  });
  const port = await listenOn(server, '127.0.0.1', 0);
  c = collector(`http://127.0.0.1:${port}`, () => new Promise((resolve) => server.close(() => resolve())));
  return c;
}

/** Metadata of the gRPC exports received (the exporter's headers travel as metadata). */
export interface GrpcReceiver extends Receiver {
  readonly metadata: readonly Readonly<Record<string, unknown>>[];
}

const raw = (b: Buffer): Buffer => b;

export async function startGrpcReceiver(): Promise<GrpcReceiver> {
  const metadata: Record<string, unknown>[] = [];
  let c: ReturnType<typeof collector> | undefined;
  const server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        metadata.push(call.metadata.getMap());
        // An empty ExportTraceServiceResponse: every span accepted.
        callback(null, Buffer.alloc(0));
        c!.add('application/grpc', fromProtobuf(call.request));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  c = collector(`http://127.0.0.1:${port}`, () => new Promise((resolve) => server.tryShutdown(() => resolve())));
  return Object.assign(c, { metadata });
}
