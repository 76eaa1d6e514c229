/**
 * Builds the decision core from a frozen config: the sessions, then per provider (providers/build.ts:
 * the environment's `default`, and each of `providers:`) its issuers, pages, browser login,
 * authenticators and authorizers and judge; with several, the dispatcher in front (providers/wire.ts);
 * the judge with its deadline and its operations wrapper (observe.ts). No listener: startApp (start.ts) and the benchmarks put it behind ports.
 */
import { codeOf } from '../errors.js';
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { withDeadline } from '../judge/wrap/deadline.js';
import type { Judge } from '../judge/decide.js';
import { createResponses } from '../judge/responses.js';
import { targetOf } from '../judge/target.js';
import { HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { BuildInfo } from '../obs/build-info.js';
import { createMetrics, type Metrics } from '../obs/metrics.js';
import { Readiness } from '../obs/readiness.js';
import type { HttpRoute } from '../oidc/backchannel/http.js';
import type { IssuerRegistry } from '../oidc/issuers.js';
import { allProviderCookies, defaultProviderConfig, providerConfig } from '../oidc/providers/config.js';
import { openSessionStore } from '../sessions/open.js';
import { Sessions } from '../sessions/sessions.js';
import type { SessionStore } from '../sessions/store.js';
import { tracedStore } from '../sessions/traced.js';
import { activeTracing } from '../obs/trace/port.js';
import type { TraceSettings } from '../obs/trace/settings.js';
import type { createPages } from '../web/pages.js';
import { wireAssertion, type AssertionWiring } from './assertion.js';
import type { BrowserLogin } from './browser-login.js';
import { caPem } from './ca.js';
import { observe } from '../judge/wrap/observe.js';
import type { Closers } from './plugins.js';
import { buildProvider, type ProviderParts, type SharedParts } from './providers/build.js';
import { lastTarget, routeProviders } from './providers/wire.js';

export interface AppDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
  /** A store to use instead of the configured one (tests). */
  readonly store?: SessionStore;
  /** The running build (package and Node.js versions): `oidc_judge_build_info` and `/healthz` name it. */
  readonly build?: BuildInfo;
  /** `OTEL_*` trace settings (obs/trace/settings.ts); traces are off without them. */
  readonly traces?: TraceSettings;
  /** `close()` leaves `store` open: a reloaded configuration's core shares the running one's store (reload/live.ts). */
  readonly keepStoreOpen?: boolean;
}

export interface Core {
  readonly judge: Judge;
  readonly issuers: IssuerRegistry;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly sessions: Sessions;
  readonly browser: BrowserLogin;
  readonly pages: ReturnType<typeof createPages>;
  /** The providers: `default` (the environment's; `issuers`, `browser` and `pages` above are its) first, then each of `providers:`. */
  readonly providers: readonly ProviderParts[];
  /** The web server's login, callback, logout … routes, each request's provider's. */
  readonly webRoutes: BrowserLogin['webRoutes'];
  readonly webBackchannelRoute: HttpRoute;
  readonly judgeBackchannelRoute: HttpRoute;
  /** With `providers:`, the pages (theme, client name) of the provider a host belongs to. */
  readonly pagesFor?: (host: string) => ReturnType<typeof createPages>;
  /** Starts every provider's discovery and key refreshes (does not wait). */
  startDiscovery(): void;
  /** `ASSERTION_HEADER`: the signer's documents and readiness (await `ready` before serving). */
  readonly assertion?: AssertionWiring;
  /** The session store as opened (without tracing), for a reloaded configuration to share. */
  readonly backend: SessionStore;
  /** Stops background work (discovery retries, key refreshes, sweeps), closes provider connections and the store. */
  close(): Promise<void>;
}

export function buildCore(config: Config, deps: AppDeps): Core {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics(true, deps.build);
  const readiness = new Readiness();
  const ca = caPem(config);
  const http = new HttpClient({ ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
  // Microsoft Graph (Entra ID group overage) gets the user's access token: no redirects, no extra CAs.
  const graphHttp = new HttpClient({ maxRedirects: 0, userAgent: 'oidc-judge' });
  const opened = deps.store ?? openSessionStore(config, (p: string) => readFileSync(p, 'utf8'));
  const tracing = activeTracing();
  const store = tracing === undefined ? opened : tracedStore(opened, tracing);
  const sessions = new Sessions(store, clock, {
    idleTimeoutSeconds: config.sessionIdleTimeout,
    cacheTtlSeconds: config.sessionCacheTtl,
    // Sessions ended in another process (logout, back-channel logout, revocation) leave this one's cache at once.
    feed: store.revocationFeed({ onProblem: (what) => deps.log.warn(`session revocations: ${what}`) }),
    onFeedError: (e) =>
      deps.log.warn(
        { err: { name: e.name, code: codeOf(e) } },
        'could not tell other processes that sessions ended; their caches expire within SESSION_CACHE_TTL',
      ),
  });
  sessions.listen();
  const closers: Closers = [];
  const assertion = wireAssertion(config, { store, clock, log: deps.log, readFile: (p: string) => readFileSync(p, 'utf8') });
  // With `providers:`, the dispatcher reads a check's target once and each provider's judge reuses it.
  const targets = config.providers.length === 0 ? targetOf : lastTarget(targetOf);
  const judgeCookies = allProviderCookies(config);
  const shared: SharedParts = {
    http,
    graphHttp,
    sessions,
    clock,
    log: deps.log,
    metrics,
    closers,
    judgeCookies,
    targetOf: targets,
    ...(assertion !== undefined ? { assertion: assertion.signer } : {}),
  };
  const rulesSet = config.authzRules.length > 0;
  const fallback = buildProvider(undefined, defaultProviderConfig(config), shared, rulesSet);
  const others = config.providers.map((e) => buildProvider(e.id, providerConfig(config, e), shared, rulesSet));
  const { issuers, browser, pages } = fallback;
  const all = [fallback, ...others];
  // Ready once a provider has been discovered: one provider down answers 503 on its own hosts only.
  readiness.set(false, 'OIDC discovery has not succeeded yet');
  for (const p of all) p.issuers.primary.once('ready', () => readiness.set(true));
  const routing = others.length === 0 ? undefined : routeProviders(config, fallback, others, { clock, targetOf: targets, metrics });
  const judge = routing?.judge ?? fallback.judge;
  const responses = createResponses(pages, { switchAccountPath: browser.paths.switchAccount, loginPath: browser.paths.login });
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
    providers: all,
    webRoutes: routing?.webRoutes ?? browser.webRoutes,
    webBackchannelRoute: routing?.webBackchannelRoute ?? browser.webBackchannelRoute,
    judgeBackchannelRoute: routing?.judgeBackchannelRoute ?? browser.judgeBackchannelRoute,
    ...(routing ? { pagesFor: routing.pagesFor } : {}),
    startDiscovery() {
      for (const p of all) p.issuers.start();
    },
    ...(assertion !== undefined ? { assertion } : {}),
    backend: opened,
    async close() {
      clearInterval(sweep);
      await assertion?.close();
      for (const p of all) p.issuers.stop();
      http.close();
      graphHttp.close();
      for (const c of closers) c();
      await sessions.close();
      if (deps.keepStoreOpen !== true) await store.close();
    },
  };
}
