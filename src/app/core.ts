/**
 * Builds the decision core from a frozen config: issuers, sessions, pages, the browser login, the
 * authenticators and authorizers (plugins.ts), the judge with its deadline and its operations
 * wrapper (observe.ts). No listener: startApp (start.ts) and the benchmarks put it behind ports.
 */
import { codeOf } from '../errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { withDeadline } from '../judge/wrap/deadline.js';
import { createJudge, type Judge } from '../judge/decide.js';
import { apiRoutesTest } from '../judge/browser.js';
import { compileIdentityHeaders } from '../judge/upstream/identity-headers.js';
import { createResponses } from '../judge/responses.js';
import { compileSkipRules } from '../judge/skip.js';
import { stripFor } from '../judge/strip.js';
import { targetOf } from '../judge/target.js';
import { HttpClient } from '../net/http-client.js';
import { pathOf } from '../net/url-path.js';
import type { Logger } from '../obs/log.js';
import type { BuildInfo } from '../obs/build-info.js';
import { createMetrics, type Metrics } from '../obs/metrics.js';
import { Readiness } from '../obs/readiness.js';
import { IssuerRegistry } from '../oidc/issuers.js';
import { templatesDir } from '../paths.js';
import { openSessionStore } from '../sessions/open.js';
import { Sessions } from '../sessions/sessions.js';
import type { SessionStore } from '../sessions/store.js';
import { tracedStore } from '../sessions/traced.js';
import { activeTracing } from '../obs/trace/port.js';
import type { TraceSettings } from '../obs/trace/settings.js';
import { createPages, themeUrl } from '../web/pages.js';
import { wireAssertion, type AssertionWiring } from './assertion.js';
import { assembleBrowserLogin, type BrowserLogin } from './browser-login.js';
import { caPem } from './ca.js';
import { observe } from '../judge/wrap/observe.js';
import { authenticators, authorizers, type Closers } from './plugins.js';

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
  const issuers = new IssuerRegistry(config, { http, clock, log: deps.log, metrics });
  readiness.set(false, 'OIDC discovery has not succeeded yet');
  issuers.primary.once('ready', () => readiness.set(true));
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
  const browser = assembleBrowserLogin(config, { discovery: issuers.primary, keys: issuers, http, graphHttp, sessions, pages, clock, log: deps.log });
  const responses = createResponses(pages, { switchAccountPath: browser.paths.switchAccount });
  const closers: Closers = [];
  const strip = stripFor(config);
  const assertion = wireAssertion(config, { store, clock, log: deps.log, readFile: (p: string) => readFileSync(p, 'utf8') });
  const judge = createJudge({
    ownRoutes: browser.judgeRoutes,
    login: browser.login,
    ...(config.apiRoutes.length > 0 ? { apiRoute: apiRoutesTest(config.apiRoutes)! } : {}),
    // oidc-authservice signed a refused user out; by default the session stays (the 403 page offers another account).
    ...(config.revokeSessionOnForbidden ? { onForbidden: browser.onForbidden } : {}),
    ...(assertion !== undefined ? { assertion: assertion.signer } : {}),
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
    ...(assertion !== undefined ? { assertion } : {}),
    backend: opened,
    async close() {
      clearInterval(sweep);
      await assertion?.close();
      issuers.stop();
      http.close();
      graphHttp.close();
      for (const c of closers) c();
      await sessions.close();
      if (deps.keepStoreOpen !== true) await store.close();
    },
  };
}
