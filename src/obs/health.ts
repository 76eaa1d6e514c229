/**
 * The health listener (READINESS_PROBE_PORT): `/healthz` (alive), `/readyz` (ready to judge),
 * `/metrics` (Prometheus), and whatever `routes` takes first (the admin endpoint, `admin.ts`).
 * Any other path answers readiness, as oidc-authservice's probe port did.
 * `/healthz` is 200 whenever the process answers; its body starts with the line `ok` (as it always
 * did) and, given the build, names it on the next lines (`version …`, `node …`), or as JSON
 * (`{"status":"ok","version":…,"node":…}`) for a client that accepts only `application/json`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from '../net/listen.js';
import { answerClientErrors } from '../net/client-errors.js';
import { DEFAULT_SLOW_CLIENT_LIMITS, limitSlowClients, type SlowClientLimits } from '../net/slow-clients.js';
import type { BuildInfo } from './build-info.js';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface HealthServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** A route on the health port: true when it took (and answers) the request. */
export type HealthRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * `metricsText` makes the `/metrics` body instead of `metrics.registry` (a cluster worker answers
 * with the whole group's metrics, src/obs/cluster-metrics.ts); its failure answers 500.
 */
export function createHealthServer(
  readiness: Readiness,
  metrics: Metrics,
  routes?: HealthRoute,
  metricsText?: () => Promise<string>,
  slowClients: SlowClientLimits = DEFAULT_SLOW_CLIENT_LIMITS,
  build?: BuildInfo,
): HealthServer {
  const server: Server = createServer((req, res) => {
    if (routes?.(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      alive(req, res, build);
      return;
    }
    if (path === '/metrics') {
      (metricsText ?? (() => metrics.registry.metrics()))().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (readiness.ready) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${readiness.reason}\n`);
  });
  server.keepAliveTimeout = 5000;
  limitSlowClients(server, slowClients);
  answerClientErrors(server);
  return {
    listen: (host, port) => listenOn(server, host, port),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The `/healthz` answer: always 200; the build in the body when known (see the header comment). */
function alive(req: IncomingMessage, res: ServerResponse, build: BuildInfo | undefined): void {
  if (build !== undefined && /^\s*application\/json\s*(;|$)/i.test(req.headers.accept ?? '')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version: build.version, node: build.node }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(build === undefined ? 'ok\n' : `ok\nversion ${build.version}\nnode ${build.node}\n`);
}
