/**
 * Builds the service from a frozen config: the decision core with its authenticators and
 * authorizers (`buildJudge`), then the listeners (`startApp`). The CLI and the tests both use it.
 */
import { readFileSync } from 'node:fs';
import { AccessTokenAuthenticator } from './authn/access-token.js';
import { IntrospectionAuthenticator } from './authn/introspection.js';
import { OpaqueTokenAuthenticator } from './authn/opaque.js';
import { externalAuthorizer, MAX_RESPONSE_BYTES } from './authz/external.js';
import { IdTokenAuthenticator } from './authn/id-token.js';
import type { Authenticator } from './authn/types.js';
import { groupsAuthorizer } from './authz/groups.js';
import { rulesAuthorizer } from './authz/rules.js';
import type { Authorizer } from './authz/types.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/schema.js';
import { pathOf } from './config/load.js';
import { createJudge, type Judge } from './judge/decide.js';
import { withDeadline } from './judge/deadline.js';
import { createGrpcJudge } from '././judge/grpc/server.js';
import { createHttpJudge } from '././judge/http/server.js';
import { compileIdentityHeaders } from './judge/identity-headers.js';
import { targetOf } from './judge/target.js';
import { createResponses } from './judge/responses.js';
import { compileSkipRules } from './judge/skip.js';
import { stripFor } from './judge/strip.js';
import { HttpClient } from './net/http-client.js';
import { createHealthServer } from './obs/health.js';
import cluster from 'node:cluster';
import { workerMetrics } from './obs/cluster-metrics.js';
import { adminRoute } from './obs/admin.js';
import { withRoute } from './oidc/backchannel-http.js';
import { createServer } from 'node:http';
import { listenOn } from './net/listen.js';
import { limitSlowClients } from './net/slow-clients.js';
import type { Logger } from './obs/log.js';
import { createMetrics, type Metrics } from './obs/metrics.js';
import { observe } from './obs/observe.js';
import { Readiness } from './obs/readiness.js';
import { IssuerRegistry } from './oidc/issuers.js';
import { assembleBrowserLogin, type BrowserLogin } from './oidc/assemble.js';
import { openSessionStore } from './sessions/open.js';
import { Sessions } from './sessions/sessions.js';
import type { SessionStore } from './sessions/store.js';
import { createPages, themeUrl } from './web/pages.js';
import { templatesDir } from './paths.js';
import { join } from 'node:path';
import { createWebApp } from './web/app.js';
import { createIngress } from './forward/ingress/server.js';
import { createKubernetesAuthenticator } from './kube/setup.js';

export interface AppDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
  /** A store to use instead of the configured one (tests). */
  readonly store?: SessionStore;
}

export interface Core {
  readonly judge: Judge;
  readonly issuers: IssuerRegistry;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly sessions: Sessions;
  readonly browser: BrowserLogin;
  readonly pages: ReturnType<typeof createPages>;
  /** Stops background work (discovery retries, key refreshes, sweeps), closes provider connections and the store. */
  close(): Promise<void>;
}

function caPem(config: Config): string | undefined {
  if (config.caBundle === '') return undefined;
  try {
    return readFileSync(config.caBundle, 'utf8');
  } catch (e) {
    throw new Error(`CA_BUNDLE: cannot read ${config.caBundle} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** What Core.close() must also close: the HTTP clients the authenticators and authorizers own. */
type Closers = (() => void)[];

/** The authenticators, in `AUTHN_CHAIN` order, skipping those turned off or not available. */
function authenticators(config: Config, issuers: IssuerRegistry, clock: Clock, log: Logger, browser: BrowserLogin, closers: Closers): Authenticator[] {
  const deps = { clock, issuers, log };
  const out: Authenticator[] = [];
  for (const name of config.authnChain) {
    switch (name) {
      case 'access_token':
        if (!config.accessTokenAuthnEnabled) break;
        if (config.accessTokenAuthn === 'jwt') out.push(new AccessTokenAuthenticator(config, deps));
        else {
          const ca = caPem(config);
          // No redirects: the bearer must not follow one to another host.
          const http = new HttpClient({ maxRedirects: 0, ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
          closers.push(() => http.close());
          const lookup = { discovery: issuers.primary, http, clock, log };
          out.push(config.accessTokenAuthn === 'opaque' ? new OpaqueTokenAuthenticator(config, lookup) : new IntrospectionAuthenticator(config, lookup));
        }
        break;
      case 'id_token':
        if (config.idtokenAuthnEnabled) out.push(new IdTokenAuthenticator(config, deps));
        break;
      case 'kubernetes': {
        const kube = config.kubernetesAuthnEnabled ? createKubernetesAuthenticator(config, { clock, log, onClose: (c) => closers.push(c) }) : undefined;
        if (kube) out.push(kube);
        break;
      }
      case 'session':
        out.push(browser.authenticator);
        break;
    }
  }
  return out;
}

function authorizers(config: Config, clock: Clock, log: Logger, closers: Closers): Authorizer[] {
  const rules = rulesAuthorizer(config.authzRules, { verifiedRequired: config.emailVerifiedRequired });
  const out = [groupsAuthorizer(config.groupsAllowlist), ...(rules ? [rules] : [])];
  if (config.externalAuthzUrl !== '') {
    const ca = caPem(config);
    const http = new HttpClient({ timeoutMs: config.externalAuthzTimeout, maxBytes: MAX_RESPONSE_BYTES, maxRedirects: 0, ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
    closers.push(() => http.close());
    if (config.checkTimeout > 0 && config.externalAuthzTimeout >= config.checkTimeout) log.warn('EXTERNAL_AUTHZ_TIMEOUT is not below CHECK_TIMEOUT: a slow external authorizer ends the check with 503 instead of 403');
    out.push(externalAuthorizer({ url: config.externalAuthzUrl, http, clock, log }));
  }
  return out;
}

export function buildCore(config: Config, deps: AppDeps): Core {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const readiness = new Readiness();
  const ca = caPem(config);
  const http = new HttpClient({ ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
  const issuers = new IssuerRegistry(config, { http, clock, log: deps.log, metrics });
  readiness.set(false, 'OIDC discovery has not succeeded yet');
  issuers.primary.once('ready', () => readiness.set(true));
  const store = deps.store ?? openSessionStore(config, (p: string) => readFileSync(p, 'utf8'));
  const sessions = new Sessions(store, clock, {
    idleTimeoutSeconds: config.sessionIdleTimeout,
    cacheTtlSeconds: config.sessionCacheTtl,
    // Sessions ended in another process (logout, back-channel logout, revocation) leave this one's cache at once.
    feed: store.revocationFeed({ onProblem: (what) => deps.log.warn(`session revocations: ${what}`) }),
    onFeedError: (e) => deps.log.warn({ err: { name: e.name } }, 'could not tell other processes that sessions ended; their caches expire within SESSION_CACHE_TTL'),
  });
  sessions.listen();
  const pages = createPages({
    templateDirs: [join(templatesDir, 'default'), ...config.templatePath],
    context: {
      ProviderURL: config.oidcProvider,
      ClientName: config.clientName,
      ThemeURL: themeUrl(pathOf(config.authserviceUrlPrefix), config.themesUrl, config.theme),
      Frontend: config.templateContext,
    },
    prefixPath: pathOf(config.authserviceUrlPrefix),
    homepageUrl: config.homepageUrl,
  });
  const browser = assembleBrowserLogin(config, { discovery: issuers.primary, keys: issuers, http, sessions, pages, clock, log: deps.log });
  const responses = createResponses(pages, { switchAccountPath: browser.paths.switchAccount });
  const closers: Closers = [];
  const strip = stripFor(config);
  const judge = createJudge({
    ownRoutes: browser.judgeRoutes,
    login: browser.login,
    // oidc-authservice signed a refused user out; by default the session stays (the 403 page offers another account).
    ...(config.revokeSessionOnForbidden ? { onForbidden: browser.onForbidden } : {}),
    targetOf,
    skip: compileSkipRules(config),
    authenticators: authenticators(config, issuers, clock, deps.log, browser, closers),
    authorizers: authorizers(config, clock, deps.log, closers),
    identityHeaders: compileIdentityHeaders({ ...config, alsoRemove: strip.spellings }),
    strip,
    authHeader: config.authHeader,
    responses,
  });
  const bounded = withDeadline(judge, config.checkTimeout, responses);
  const sweep = setInterval(() => void store.sweep(clock.now()).catch(() => undefined), 60_000);
  sweep.unref();
  return {
    judge: observe(bounded, deps.log, metrics, config.logDecisions),
    issuers,
    readiness,
    metrics,
    sessions,
    browser,
    pages,
    async close() {
      clearInterval(sweep);
      issuers.stop();
      http.close();
      for (const c of closers) c();
      await sessions.close();
      await store.close();
    },
  };
}

export interface App extends Core {
  /** Bound ports; `ingress` is 0 when the forwarder is off. */
  readonly ports: { readonly http: number; readonly grpc: number; readonly health: number; readonly web: number; readonly ingress: number };
  /** Unready, stop accepting, drain in-flight checks (up to DRAIN_TIMEOUT), stop background work. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, deps: AppDeps): Promise<App> {
  const core = buildCore(config, deps);
  const host = config.serverHostname;
  // Slowloris: every HTTP/1 listener cuts a client that drips its request (408).
  const slowClients = { headersMs: config.httpHeadersTimeout * 1000, requestMs: config.httpRequestTimeout * 1000 };
  const grpc = createGrpcJudge({ judge: core.judge, readiness: core.readiness, log: deps.log, maxReceiveBytes: config.grpcMaxReceiveBytes });
  const http = createHttpJudge({
    judge: core.judge,
    log: deps.log,
    routes: core.browser.judgeBackchannelRoute,
    options: {
      verifyPath: config.verifyAuthUrl,
      forwardAuthPath: config.forwardAuthUrl,
      checkPathPrefix: config.httpCheckPathPrefix,
      trustedProxies: config.trustedProxies,
      slowClients,
      maxHeaderSize: config.httpMaxHeaderBytes,
    },
  });
  // In a cluster worker (`--workers`), `/metrics` answers for the whole group, merged by the primary.
  const groupMetrics = cluster.isWorker ? workerMetrics(core.metrics.registry) : undefined;
  const health = createHealthServer(
    core.readiness,
    core.metrics,
    adminRoute({ token: config.adminToken, issuer: config.oidcProvider, revoke: (t) => core.sessions.revoke(t), log: deps.log }),
    groupMetrics?.text,
    slowClients,
  );
  const prefixPath = pathOf(config.authserviceUrlPrefix);
  const web = createWebApp({
    pages: core.pages,
    themesDir: join(templatesDir, 'themes'),
    prefixPath,
    own: async (req) => core.browser.webRoutes(req, targetOf(req)),
    log: deps.log,
    trustedProxies: config.trustedProxies,
    formActions: [new URL(config.oidcProvider).origin],
  });
  // The back-channel logout receiver reads the request body: it sits in front of the Express pages.
  const webHandler = withRoute(core.browser.webBackchannelRoute, web.app);
  const webServer = createServer(webHandler);
  limitSlowClients(webServer, slowClients);
  const ingress =
    config.ingressPort === 0
      ? undefined
      : createIngress({
          judge: core.judge,
          upstream: config.ingressUpstream,
          web: webHandler,
          prefixPath,
          stripCookies: stripFor(config).cookies.names,
          stripCookiePrefixes: stripFor(config).cookies.prefixes,
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
  core.issuers.start();
  deps.log.info({ ports }, 'listening');
  return {
    ...core,
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
      await core.close();
      await health.close();
      groupMetrics?.close();
    },
  };
}
