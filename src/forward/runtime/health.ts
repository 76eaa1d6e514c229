/**
 * The forwarder runtime's health listener: `/healthz` is always 200 (the process is alive),
 * `/readyz` is 200 only when every forwarder's `ready()` says so (each asked with a deadline),
 * `/metrics` is the process's registry in Prometheus text (the modes' check counters among it),
 * and each mode's own `healthRoutes` are served next to them. `/healthz`, `/readyz` and `/metrics` belong to
 * the runtime; a mode's route on one of those paths, or on a path an earlier forwarder took, is
 * not mounted (a warning says so). Anything else is 404.
 */
import { answerClientErrors } from '../../net/client-errors.js';
import { DEFAULT_SLOW_CLIENT_LIMITS, limitSlowClients } from '../../net/slow-clients.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import type { ModeHandler } from '../engine/mode.js';

export interface HealthTarget {
  readonly name: string;
  readonly handler: ModeHandler;
}

const READY_DEADLINE_MS = 5000;

/** Asks one handler, answering false on a throw, a rejection or no answer within the deadline. */
export function askReady(h: ModeHandler): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_DEADLINE_MS);
    timer.unref();
    const done = (v: boolean): void => {
      clearTimeout(timer);
      resolve(v);
    };
    try {
      Promise.resolve(h.ready()).then(
        (v) => done(v === true),
        () => done(false),
      );
    } catch {
      done(false);
    }
  });
}

/** The names of the forwarders not ready now. */
export async function notReady(targets: readonly HealthTarget[]): Promise<string[]> {
  const answers = await Promise.all(targets.map((t) => askReady(t.handler)));
  return targets.filter((_, i) => !answers[i]).map((t) => t.name);
}

function text(res: ServerResponse, status: number, body: string, method: string | undefined): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(method === 'HEAD' ? undefined : body);
}

const OWN: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function createHealthServer(targets: readonly HealthTarget[], log: Logger, metrics: Metrics): Server {
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  for (const t of targets) {
    for (const [path, route] of Object.entries(t.handler.healthRoutes ?? {})) {
      if (OWN.has(path) || routes.has(path)) {
        log.warn({ forwarder: t.name, path }, 'health route not mounted: the path is already served');
        continue;
      }
      routes.set(path, route);
    }
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const own = OWN.has(path);
    if (own && req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'Method not allowed', req.method);
    }
    if (path === '/healthz') return text(res, 200, 'ok', req.method);
    if (path === '/readyz') {
      notReady(targets).then(
        (names) => (names.length === 0 ? text(res, 200, 'ready', req.method) : text(res, 503, `not ready: ${names.join(', ')}`, req.method)),
        () => text(res, 503, 'not ready', req.method),
      );
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => text(res, 500, 'metrics unavailable', req.method),
      );
      return;
    }
    const route = routes.get(path);
    if (route === undefined) return text(res, 404, 'Not found', req.method);
    try {
      route(req, res);
    } catch (e) {
      log.error({ path, err: { message: (e as Error).message } }, 'health route failed');
      if (!res.headersSent) text(res, 503, 'Service unavailable', req.method);
    }
  });
  server.keepAliveTimeout = 5000;
  limitSlowClients(server, DEFAULT_SLOW_CLIENT_LIMITS);
  answerClientErrors(server);
  return server;
}
