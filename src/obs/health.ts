/**
 * The health listener (READINESS_PROBE_PORT): `/healthz` (alive), `/readyz` (ready to judge),
 * `/metrics` (Prometheus), and whatever `routes` takes first (the admin endpoint, `admin.ts`).
 * Any other path answers readiness, as oidc-authservice's probe port did.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from '../net/listen.js';
import { DEFAULT_SLOW_CLIENT_LIMITS, limitSlowClients, type SlowClientLimits } from '../net/slow-clients.js';
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
): HealthServer {
  const server: Server = createServer((req, res) => {
    if (routes?.(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
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
  return {
    listen: (host, port) => listenOn(server, host, port),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
