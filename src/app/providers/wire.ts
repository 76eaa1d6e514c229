/**
 * Puts the dispatcher (dispatch.ts) together when `providers:` is set: the chooser page (each
 * provider's login link, on the default provider's theme), the per-provider metrics (a `provider`
 * label bounded by the configuration: checks per provider, and whether each provider's discovery
 * has succeeded), and the back-channel logout receivers, which hand each logout token to its provider.
 */
import { Counter, Gauge } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/schema.js';
import { deny, type Decision } from '../../judge/decision.js';
import type { Target } from '../../judge/ports.js';
import type { JudgeRequest } from '../../judge/request.js';
import { isNavigation } from '../../judge/browser.js';
import type { Metrics } from '../../obs/metrics.js';
import { backchannelRoute, type HttpRoute } from '../../oidc/backchannel/http.js';
import { rdOf } from '../../oidc/login.js';
import { backchannelPaths } from '../../oidc/routes.js';
import { chooserPage } from '../../web/chooser.js';
import type { ProviderParts } from './build.js';
import { choiceCookieOptions, createDispatch, type Dispatch } from './dispatch.js';

export interface ProviderRouting {
  readonly judge: Dispatch['judge'];
  readonly webRoutes: Dispatch['webRoutes'];
  readonly webBackchannelRoute: HttpRoute;
  readonly judgeBackchannelRoute: HttpRoute;
  readonly pagesFor: (host: string) => ProviderParts['pages'];
}

const idOf = (p: ProviderParts): string => p.id ?? 'default';

/** `oidc_judge_provider_checks_total{provider}` (counted as plain numbers, handed over when scraped) and `oidc_judge_provider_up{provider}`. */
function providerMetrics(metrics: Metrics, all: readonly ProviderParts[]): (id: string) => void {
  const counts = new Map(all.map((p) => [idOf(p), 0]));
  new Counter({
    name: 'oidc_judge_provider_checks_total',
    help: 'Checks and login starts sent to each identity provider (`providers:`; `default`: the environment’s).',
    labelNames: ['provider'] as const,
    registers: [metrics.registry],
    collect() {
      for (const [provider, n] of counts) {
        if (n === 0) continue;
        this.inc({ provider }, n);
        counts.set(provider, 0);
      }
    },
  });
  new Gauge({
    name: 'oidc_judge_provider_up',
    help: 'Whether each identity provider’s discovery has succeeded (1) or not yet (0): its logins and bearer tokens answer 503 while 0.',
    labelNames: ['provider'] as const,
    registers: [metrics.registry],
    aggregator: 'min',
    collect() {
      for (const p of all) this.set({ provider: idOf(p) }, p.issuers.primaryReady ? 1 : 0);
    },
  });
  return (id) => counts.set(id, (counts.get(id) ?? 0) + 1);
}

function chooser(fallback: ProviderParts, prefix: string) {
  const loginPath = fallback.browser.paths.login;
  return (req: JudgeRequest, candidates: readonly ProviderParts[]): Decision => {
    const here = `${req.scheme}://${req.host}${req.path}`;
    // On the login path itself the browser returns where its `rd` said (the login start validates it).
    const q = req.path.indexOf('?');
    const onLogin = req.path.slice(0, q < 0 ? undefined : q).replace(/\/+$/, '') === loginPath.replace(/\/+$/, '');
    // nginx cannot encode `rd` (`login.ts` rdOf reads it verbatim to the end of the query).
    const rd = onLogin ? (rdOf(q < 0 ? '' : req.path.slice(q + 1)) ?? '/') : here;
    const choices = candidates.map((p) => ({
      id: idOf(p),
      label: p.config.clientName,
      href: `${loginPath}?provider=${encodeURIComponent(idOf(p))}&rd=${encodeURIComponent(rd)}`,
    }));
    const headers = [['cache-control', 'no-store'] as const];
    if (req.denyStyle === 'redirect' && isNavigation(req)) {
      const page = chooserPage({ templates: fallback.pages.templates, themeUrl: fallback.pages.themeUrl, clientName: fallback.config.clientName }, choices);
      return deny(401, 'choose-provider', page, [['content-type', 'text/html; charset=utf-8'], ...headers]);
    }
    const body = JSON.stringify({ error: 'choose_provider', message: `Sign in at ${prefix}/login?provider=<id>`, providers: choices.map((c) => c.id) });
    return deny(401, 'choose-provider', body, [['content-type', 'application/json'], ...headers]);
  };
}

export function routeProviders(
  config: Config,
  fallback: ProviderParts,
  others: readonly ProviderParts[],
  deps: { readonly clock: Clock; readonly targetOf: (req: JudgeRequest) => Target; readonly metrics: Metrics },
): ProviderRouting {
  const all = [fallback, ...others];
  const dispatch = createDispatch({
    fallback,
    others,
    entries: config.providers,
    targetOf: deps.targetOf,
    choiceCookie: `${config.sessionCookieName}-provider`,
    choiceCookieOptions: choiceCookieOptions(config),
    chooser: chooser(fallback, fallback.browser.paths.prefix.replace(/\/+$/, '')),
    clock: deps.clock,
    count: providerMetrics(deps.metrics, all),
  });
  const paths = fallback.browser.paths;
  return {
    judge: dispatch.judge,
    webRoutes: dispatch.webRoutes,
    pagesFor: (host) => dispatch.providerOfHost(host).pages,
    webBackchannelRoute: backchannelRoute(dispatch.backchannel, { paths: backchannelPaths(paths, { alsoUnprefixed: true }) }),
    judgeBackchannelRoute: backchannelRoute(dispatch.backchannel, {
      paths: backchannelPaths(paths, { alsoUnprefixed: false, checkPathPrefix: config.httpCheckPathPrefix }),
      successStatus: 204,
      bodyRequired: true,
    }),
  };
}

/** The check's target, read once: the last request's is kept for the provider's judge that reads it again. */
export function lastTarget(targetOf: (req: JudgeRequest) => Target): (req: JudgeRequest) => Target {
  let lastReq: JudgeRequest | undefined;
  let last: Target | undefined;
  return (req) => {
    if (req === lastReq) return last!;
    last = targetOf(req);
    lastReq = req;
    return last;
  };
}
