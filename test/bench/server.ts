/**
 * One benchmarked server, in its own process so its CPU and memory are its own: the judge
 * (`startApp` with the settings in `BENCH_ENV`, `OTEL_*` ones included, decision logging to /dev/null like a production
 * log shipper), or a baseline — a bare `node:http` server answering 200, or a bare `@grpc/grpc-js`
 * server answering a fixed OK `CheckResponse`. Started by run.ts with `fork`; reports its ports
 * over IPC and stops on SIGTERM.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startApp } from '../../src/app/start.js';
import { loadConfig } from '../../src/config/load.js';
import { AUTHZ_V3, loadDefinitions, serviceOf } from '../../src/judge/grpc/server.js';
import { listenOn } from '../../src/net/listen.js';
import { createLogger } from '../../src/obs/log.js';
import { traceSettingsFrom } from '../../src/obs/trace/settings.js';

export type ServerKind = 'judge' | 'baseline-http' | 'baseline-grpc' | 'reference-http';

/** What a reference server answers to every request: a judge's reply, captured (see run.ts). */
export interface CapturedReply {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
}

export interface Ready {
  readonly http: number;
  readonly grpc: number;
}

function report(ready: Ready, stop: () => Promise<void>): void {
  process.send?.({ ready });
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
}

async function baselineHttp(): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  report({ http: (server.address() as AddressInfo).port, grpc: 0 }, () => new Promise((r) => server.close(() => r())));
}

/**
 * Bare `node:http` answering one judge reply verbatim (status and headers, captured from the judge
 * in the same run, passed in `BENCH_REPLY`): what node itself costs to send that answer, so a
 * scenario's figure can be read against what its reply alone costs.
 */
async function referenceHttp(): Promise<void> {
  const reply = JSON.parse(process.env['BENCH_REPLY'] ?? '') as CapturedReply;
  const flat = reply.headers.flat();
  const server = createServer({ keepAlive: true }, (_req, res) => {
    res.writeHead(reply.status, flat);
    res.end();
  });
  server.keepAliveTimeout = 75_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  report({ http: (server.address() as AddressInfo).port, grpc: 0 }, () => new Promise((r) => server.close(() => r())));
}

async function baselineGrpc(): Promise<void> {
  // The same server options as the judge's (channelz off): the baseline is grpc-js at its fastest.
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const ok = { status: { code: 0, message: '' }, ok_response: { headers: [], headers_to_remove: [], response_headers_to_add: [] } };
  server.addService(serviceOf(loadDefinitions(), AUTHZ_V3), {
    Check: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, ok),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  report({ http: 0, grpc: port }, () => new Promise((r) => server.tryShutdown(() => r())));
}

async function judge(): Promise<void> {
  const env = JSON.parse(process.env['BENCH_ENV'] ?? '{}') as Record<string, string>;
  const yamlFile = process.env['BENCH_YAML_FILE'];
  const yaml = yamlFile === undefined ? undefined : readFileSync(yamlFile, 'utf8');
  const { config } = loadConfig({
    env,
    flags: {},
    ...(yaml ? { configFile: 'bench.yaml' } : {}),
    readFile: () => yaml ?? '',
  });
  const log = createLogger(config.logLevel);
  // A scenario with a trace sampler exports to a sink in this process that answers every export 200.
  if (env['OTEL_TRACES_SAMPLER'] !== undefined && env['OTEL_EXPORTER_OTLP_ENDPOINT'] === undefined) {
    const sink = createServer((req, res) => req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()));
    env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${await listenOn(sink, '127.0.0.1', 0)}`;
    sink.unref();
  }
  const traces = traceSettingsFrom(env);
  const app = await startApp(config, { log, ...(traces ? { traces } : {}) });
  // Every provider discovered (`providers:` scenarios spread their checks over all of them).
  await Promise.all(
    app.providers.map((p) => new Promise<void>((resolve) => (p.issuers.primaryReady ? resolve() : p.issuers.primary.once('ready', () => resolve())))),
  );
  report({ http: app.ports.http, grpc: app.ports.grpc }, () => app.stop());
}

const kind = process.argv[2] as ServerKind;
const starters: Record<ServerKind, () => Promise<void>> = {
  judge,
  'baseline-http': baselineHttp,
  'baseline-grpc': baselineGrpc,
  'reference-http': referenceHttp,
};
const start = starters[kind];
start().catch((e: unknown) => {
  process.stderr.write(`bench server ${kind}: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
