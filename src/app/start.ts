/**
 * Starts the service from a frozen config: the decision core (core.ts) behind its listeners — the
 * gRPC and HTTP front doors, the health/metrics port, the web server (pages, callback, logout) and,
 * when configured, the ingress forwarder — and stops them in order. The CLI and the tests use it.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { underPrefix, type Config } from '../config/schema.js';
import { createIngress } from '../forward/ingress/server.js';
import { createGrpcJudge } from '../judge/grpc/server.js';
import { createHttpJudge } from '../judge/http/server.js';
import { stripFor } from '../judge/strip.js';
import { targetOf } from '../judge/target.js';
import { listenOn } from '../net/listen.js';
import { answerClientErrors } from '../net/client-errors.js';
import { limitSlowClients } from '../net/slow-clients.js';
import { pathOf } from '../net/url-path.js';
import { adminRoute } from '../obs/admin.js';
import { workerMetrics } from '../obs/cluster-metrics.js';
import { createHealthServer } from '../obs/health.js';
import { withRoute } from '../oidc/backchannel/http.js';
import { templatesDir } from '../paths.js';
import { allProviderCookies } from '../oidc/providers/config.js';
import { createWebApp } from '../web/app.js';
import { buildCore, type AppDeps, type Core } from './core.js';
import { startTracing, stopTracing } from './tracing.js';
import { createLive, type Live, type ReloadResult, type ReloadSource, type Snapshot } from './reload/live.js';
import { reloadMetrics } from '../obs/reload-metrics.js';
import type { Tracing } from '../obs/trace/port.js';
import { loggablePath } from '../judge/wrap/observe.js';
import type { WebPages } from '../web/pages.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * With tracing on, each request to the web server (login, callback, logout, pages) runs under a
 * server span continued from its trace headers, so the provider calls of a login callback (token,
 * userinfo) and the store calls become its children. Method, path without query, status only.
 */
function tracedWeb(handler: (req: IncomingMessage, res: ServerResponse) => void, tracing: Tracing): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) =>
    void tracing.check(
      req.headers as Readonly<Record<string, string | undefined>>,
      (span) =>
        new Promise<void>((resolve) => {
          span.set('oidc_judge.via', 'web');
          span.set('http.request.method', req.method ?? 'GET');
          span.set('url.path', loggablePath(req.url ?? '/'));
          res.once('close', () => {
            span.set('http.response.status_code', res.statusCode);
            resolve();
          });
          handler(req, res);
        }),
      'oidc_judge.web',
    );
}

/** The pages of the configuration in force (templates and themes reload with it). */
function livePages(now: () => Core): WebPages {
  return new Proxy({} as WebPages, { get: (_t, key) => now().pages[key as keyof WebPages] });
}

/** The admin route of the configuration in force (`ADMIN_TOKEN` / `ADMIN_TOKEN_FILE` reload with it), built once per snapshot. */
function adminOf(live: Live, deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  let built: { snap: Snapshot; route: (req: IncomingMessage, res: ServerResponse) => boolean } | undefined;
  return (req, res) => {
    const snap = live.current();
    if (built?.snap !== snap) {
      const { config, core } = snap;
      built = {
        snap,
        route: adminRoute({
          token: config.adminToken,
          issuer: config.oidcProvider,
          ...(config.providers.length > 0
            ? { providerIssuers: new Map([['default', config.oidcProvider], ...config.providers.map((e) => [e.id, e.issuer] as const)]) }
            : {}),
          revoke: (t) => core.sessions.revoke(t),
          log: deps.log,
        }),
      };
    }
    return built.route(req, res);
  };
}

/** What startApp needs besides the configuration; `reload`: how to read it again (live reload, SIGHUP). */
export interface StartDeps extends AppDeps {
  readonly reload?: ReloadSource;
}

/**
 * Where a program login's approval form may lead (CSP `form-action` also holds for its redirect).
 * CSP has no syntax for IPv6 literals: an approval for `[::1]` answers with a link instead (oidc/programs/login.ts).
 */
const LOOPBACK_FORM_ACTIONS = ['http://127.0.0.1:*', 'http://localhost:*'];

export interface App extends Core {
  /** Reads the configuration again and, when it is valid and changed, puts it in force (reload/live.ts). */
  reload(cause?: 'file' | 'signal'): Promise<ReloadResult>;
  /** The configuration in force and its version. */
  current(): Snapshot;
  /** Bound ports; `ingress` is 0 when the forwarder is off. */
  readonly ports: { readonly http: number; readonly grpc: number; readonly health: number; readonly web: number; readonly ingress: number };
  /** Unready, stop accepting, drain in-flight checks (up to DRAIN_TIMEOUT), stop background work. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, deps: StartDeps): Promise<App> {
  const tracing = await startTracing(deps.traces, deps.build?.version ?? '0.0.0');
  // Every core leaves the store open: the snapshots of live reloads share it; stop() closes it.
  const core = buildCore(config, { ...deps, keepStoreOpen: true });
  const live = createLive(
    { config, core },
    {
      ...(deps.reload !== undefined ? { source: deps.reload } : {}),
      build: (next) => buildCore(next, { ...deps, store: core.backend, metrics: core.metrics, keepStoreOpen: true }),
      readiness: core.readiness,
      metrics: reloadMetrics(core.metrics.registry),
      log: deps.log,
    },
  );
  const now = (): Core => live.current().core;
  if (core.assertion !== undefined) {
    try {
      await core.assertion.ready;
    } catch (e) {
      await live.close();
      await core.close();
      await core.backend.close();
      await stopTracing(tracing);
      throw e;
    }
  }
  const host = config.serverHostname;
  // Slowloris: every HTTP/1 listener cuts a client that drips its request (408).
  const slowClients = { headersMs: config.httpHeadersTimeout * 1000, requestMs: config.httpRequestTimeout * 1000 };
  const grpc = createGrpcJudge({ judge: live.judge, readiness: core.readiness, log: deps.log, maxReceiveBytes: config.grpcMaxReceiveBytes });
  const http = createHttpJudge({
    judge: live.judge,
    log: deps.log,
    routes: (req, res) => now().judgeBackchannelRoute(req, res),
    options: {
      verifyPath: config.verifyAuthUrl,
      forwardAuthPath: config.forwardAuthUrl,
      checkPathPrefix: config.httpCheckPathPrefix,
      ...(config.compatEndpoints === 'oauth2-proxy' ? { authOnlyPath: underPrefix(pathOf(config.authserviceUrlPrefix), 'auth') } : {}),
      trustedProxies: config.trustedProxies,
      slowClients,
      maxHeaderSize: config.httpMaxHeaderBytes,
    },
  });
  // In a cluster worker (`--workers`), `/metrics` answers for the whole group, merged by the primary.
  const groupMetrics = cluster.isWorker ? workerMetrics(core.metrics.registry) : undefined;
  const health = createHealthServer(core.readiness, core.metrics, adminOf(live, deps), groupMetrics?.text, slowClients, deps.build);
  const prefixPath = pathOf(config.authserviceUrlPrefix);
  const web = createWebApp({
    pages: livePages(now),
    // With `providers:`, the pages of a host's provider, in the configuration in force.
    pagesFor: (host) => now().pagesFor?.(host) ?? now().pages,
    themesDir: join(templatesDir, 'themes'),
    prefixPath,
    own: async (req) => now().webRoutes(req, targetOf(req)),
    log: deps.log,
    trustedProxies: config.trustedProxies,
    // The provider(s), for RP-initiated logout; a program login's approval goes on to the program's loopback address (oidc/programs/login.ts).
    formActions: [
      ...new Set([config.oidcProvider, ...config.providers.map((e) => e.issuer)].map((u) => new URL(u).origin)),
      ...(config.programSessionMaxAge > 0 ? LOOPBACK_FORM_ACTIONS : []),
    ],
    ...(core.assertion !== undefined ? { documents: core.assertion.documents } : {}),
  });
  // The back-channel logout receiver reads the request body: it sits in front of the Express pages.
  // So do the program endpoints (`<prefix>/api/token` …, oidc/programs/), of the configuration in force.
  const webHandler = withRoute(
    (req, res) => now().webBackchannelRoute(req, res),
    withRoute((req, res) => now().browser.programs.http(req, res), web.app),
  );
  const webServer = createServer(tracing === undefined ? webHandler : tracedWeb(webHandler, tracing));
  limitSlowClients(webServer, slowClients);
  answerClientErrors(webServer);
  const strip = stripFor({ ...config, moreJudgeCookies: allProviderCookies(config) });
  const ingress =
    config.ingressPort === 0
      ? undefined
      : createIngress({
          judge: live.judge,
          upstream: config.ingressUpstream,
          web: webHandler,
          prefixPath,
          stripCookies: strip.cookies.names,
          stripCookiePrefixes: strip.cookies.prefixes,
          trustedProxies: config.trustedProxies,
          timeouts: { headersMs: slowClients.headersMs },
          log: deps.log,
        });
  const ports = {
    health: await health.listen(host, config.readinessProbePort),
    http: await http.listen(host, config.serverPort),
    grpc: await grpc.listen(host, config.grpcPort),
    web: await listenOn(webServer, host, config.webServerPort),
    ingress: ingress ? await ingress.listen(host, config.ingressPort) : 0,
  };
  core.startDiscovery();
  deps.log.info({ ports }, 'listening');
  return {
    ...core,
    judge: live.judge,
    reload: (cause = 'signal') => live.reload(cause),
    current: () => live.current(),
    ports,
    async stop() {
      core.readiness.set(false, 'shutting down');
      const drainMs = config.drainTimeout * 1000;
      const webClosed = new Promise<void>((resolve) => {
        // A slow or stuck client of the pages must not hold the shutdown past DRAIN_TIMEOUT.
        const force = setTimeout(() => webServer.closeAllConnections(), drainMs);
        webServer.close(() => {
          clearTimeout(force);
          resolve();
        });
        webServer.closeIdleConnections();
      });
      await Promise.all([grpc.shutdown(drainMs), http.close(drainMs), ingress?.close(drainMs), webClosed]);
      await live.close();
      await live.current().core.close();
      await core.backend.close();
      await health.close();
      groupMetrics?.close();
      await stopTracing(tracing);
    },
  };
}
