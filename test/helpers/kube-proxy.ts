/**
 * The Kubernetes proxy mode under test, on real sockets: a real OpenID Provider (oidc-provider,
 * plain HTTP, so `oidcAllowHttpIssuer`), the Kubernetes API double (HTTPS, records every request),
 * and `kubeMode`'s handler behind a `node:http` server on 127.0.0.1:0 (the runtime's job in
 * production). Waits until the handler reports ready. Log lines are captured; `accessLines()` gives
 * the access-log messages.
 */
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/clock.js';
import { kubeMode } from '../../src/forward/kube-proxy/mode.js';
import type { ModeHandler } from '../../src/forward/engine/mode.js';
import { createLogger } from '../../src/obs/log.js';
import type { Metrics } from '../../src/obs/metrics.js';
import { startKubeApi, type KubeApi, type KubeApiOptions, type RecordedRequest } from './kube-api.js';
import { startOp, type TestOp } from './op.js';

export const CLIENT_ID = 'kube-cli';

export interface KubeStack {
  readonly op: TestOp;
  readonly api: KubeApi;
  readonly port: number;
  readonly mode: ModeHandler;
  readonly server: Server;
  /** Every log line, raw JSON. */
  readonly logs: string[];
  readonly events: EventEmitter;
  /** What the double's fallback (everything but reviews and documents) received, in order. */
  readonly seen: Seen[];
  /** The `msg` of every access-log record so far. */
  accessLines(): string[];
  /** Requests the API double received other than TokenReview / SubjectAccessReview. */
  forwarded(): RecordedRequest[];
  /** An ID token for the proxy's client, valid for 5 minutes, with these claims on top. */
  token(claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Options on top of the defaults (issuer, client id, email/groups claims, the double as upstream). */
  readonly options?: Record<string, unknown>;
  readonly api?: KubeApiOptions;
  /** An API double started by the test (closed by the test, not by `close()`); its fallback becomes this stack's recorder. */
  readonly existingApi?: KubeApi;
  readonly op?: TestOp;
  readonly clock?: Clock;
  /** The environment the runtime passes to modes. */
  readonly env?: Readonly<Record<string, string>>;
  /** The registry the runtime passes to modes (absent: the mode's private one). */
  readonly metrics?: Metrics;
  /** The runtime's `LOG_DECISIONS` (absent: the mode's default). */
  readonly logDecisions?: boolean;
}

/** A request the API double received on its fallback path, headers as sent (names' case, one entry per line). */
export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly raw: readonly string[];
  readonly distinct: Readonly<Record<string, string[]>>;
  readonly bearer: string | undefined;
  readonly clientCertCN: string | undefined;
}

/** The header names of a raw list that start with `prefix` (case-insensitive), as sent. */
export function rawNames(raw: readonly string[], prefix: string): string[] {
  return raw.filter((_, i) => i % 2 === 0 && raw[i]!.toLowerCase().startsWith(prefix));
}

const REVIEWS = new Set(['/apis/authentication.k8s.io/v1/tokenreviews', '/apis/authorization.k8s.io/v1/subjectaccessreviews']);

export async function startKubeStack(o: StackOptions = {}): Promise<KubeStack> {
  const op = o.op ?? (await startOp({ clientId: CLIENT_ID }));
  const seen: Seen[] = [];
  // By default the double answers forwarded requests 200 with a small JSON list, recording the head.
  const capture = (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): void => {
    const distinct: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined) distinct[k] = v;
    seen.push({ method: req.method ?? '', path: req.url ?? '', raw: req.rawHeaders, distinct, bearer: rec.bearer, clientCertCN: rec.clientCertCN });
    const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  };
  const api = o.existingApi ?? (await startKubeApi({ fallback: capture, ...o.api }));
  if (o.existingApi !== undefined) api.fallback = capture;
  const closeApi = (): Promise<void> => (o.existingApi === undefined ? api.close() : Promise.resolve());
  const clock = o.clock ?? systemClock;
  const logs: string[] = [];
  const events = new EventEmitter();
  const log = createLogger('debug', {
    write(s: string) {
      logs.push(s);
      events.emit('line', s);
    },
  });
  const raw = {
    oidcIssuerUrl: op.issuer,
    oidcClientId: CLIENT_ID,
    oidcAllowHttpIssuer: true,
    oidcUsernameClaim: 'email',
    oidcGroupsClaim: 'groups',
    kubeServer: api.url,
    kubeCaFile: api.caFile,
    kubeTokenFile: join(api.serviceAccountDir, 'token'),
    ...o.options,
  };
  const errs: string[] = [];
  const options = kubeMode.parse(raw, 'forwarders[0]', errs);
  if (errs.length > 0) {
    await closeApi();
    if (o.op === undefined) await op.stop();
    throw new Error(errs.join('; '));
  }
  const readyLine = (): boolean => logs.some((l) => l.includes('OIDC authenticator ready'));
  const mode = await kubeMode.create(options, {
    log,
    clock,
    readFile: (p) => readFileSync(p, 'utf8'),
    ...(o.env !== undefined ? { env: o.env } : {}),
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    ...(o.logDecisions !== undefined ? { logDecisions: o.logDecisions } : {}),
  });
  while (!readyLine()) await once(events, 'line');
  const server = createServer((req, res) => mode.handle(req, res));
  server.on('upgrade', (req, socket, head) => mode.upgrade!(req, socket, head));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    op,
    api,
    port,
    mode,
    server,
    logs,
    events,
    seen,
    accessLines: () =>
      logs
        .map((l) => JSON.parse(l) as { accessLog?: boolean; msg?: string })
        .filter((r) => r.accessLog === true)
        .map((r) => r.msg ?? ''),
    forwarded: () => api.requests.filter((r) => !REVIEWS.has(r.path.split('?')[0]!)),
    async token(claims = {}) {
      const now = Math.floor(clock.now() / 1000);
      return op.sign({
        sub: 'u-1',
        email: 'alice@example.com',
        email_verified: true,
        groups: ['dev', 'ops'],
        aud: CLIENT_ID,
        iat: now,
        exp: now + 300,
        ...claims,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await mode.close();
      await closeApi();
      if (o.op === undefined) await op.stop();
    },
  };
}
