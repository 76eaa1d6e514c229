/**
 * Everything that belongs to one provider, built from its `Config` (the environment's for
 * `default`, providers/config.ts for the others) over what all providers share (the session store,
 * HTTP clients, clock, log, metrics): its issuers (discovery and keys, so one provider down stays
 * its own trouble), its pages (theme, client name), its browser login, and its judge with its own
 * authenticators and authorizers. core.ts builds one for `default` and one per `providers:` entry.
 */
import { join } from 'node:path';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/schema.js';
import { apiRoutesTest } from '../../judge/browser.js';
import { createJudge, type Judge } from '../../judge/decide.js';
import type { Authorizer, Target } from '../../judge/ports.js';
import type { JudgeRequest } from '../../judge/request.js';
import type { AssertionSigner } from '../../judge/upstream/assertion.js';
import { createResponses } from '../../judge/responses.js';
import { compileSkipRules } from '../../judge/skip.js';
import { stripFor } from '../../judge/strip.js';
import { compileIdentityHeaders } from '../../judge/upstream/identity-headers.js';
import type { HttpClient } from '../../net/http-client.js';
import { pathOf } from '../../net/url-path.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import { IssuerRegistry } from '../../oidc/issuers.js';
import { templatesDir } from '../../paths.js';
import type { Sessions } from '../../sessions/sessions.js';
import { createPages, themeUrl } from '../../web/pages.js';
import { assembleBrowserLogin, type BrowserLogin } from '../browser-login.js';
import { authenticators, authorizers, type Closers } from '../plugins.js';

export interface SharedParts {
  readonly http: HttpClient;
  readonly graphHttp: HttpClient;
  readonly sessions: Sessions;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly closers: Closers;
  /** Every provider's cookies (`allProviderCookies`): no provider's judge lets any of them through to the upstream. */
  readonly judgeCookies: readonly string[];
  /** The request's target (the dispatcher's, when it already read it). */
  readonly targetOf: (req: JudgeRequest) => Target;
  /** `ASSERTION_HEADER`: one signer for every provider's allows. */
  readonly assertion?: AssertionSigner;
}

export interface ProviderParts {
  /** `undefined` for the environment's provider (`default`). */
  readonly id: string | undefined;
  readonly config: Config;
  readonly issuers: IssuerRegistry;
  readonly pages: ReturnType<typeof createPages>;
  readonly browser: BrowserLogin;
  readonly judge: Judge;
}

/** Access rules were set, none for this provider: its checks are all refused (rules deny what none allows). */
const NO_RULE_FOR_PROVIDER: Authorizer = Object.freeze({
  name: 'rules',
  authorize: () => Object.freeze({ kind: 'deny' as const, reason: 'No access rule applies to this identity provider.' }),
});

export function buildProvider(id: string | undefined, config: Config, shared: SharedParts, rulesSet: boolean): ProviderParts {
  const { http, graphHttp, sessions, clock, log, metrics, closers } = shared;
  const plog = id === undefined ? log : log.child({ provider: id });
  const issuers = new IssuerRegistry(config, { http, clock, log: plog, metrics });
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
    // The logout page's form may post to the provider (RP-initiated logout), as the web server allows.
    formActions: [new URL(config.oidcProvider).origin],
  });
  const browser = assembleBrowserLogin(config, {
    discovery: issuers.primary,
    keys: issuers,
    http,
    graphHttp,
    sessions,
    pages,
    clock,
    log: plog,
    ...(id !== undefined ? { provider: id } : {}),
  });
  const responses = createResponses(pages, { switchAccountPath: browser.paths.switchAccount, loginPath: browser.paths.login });
  const strip = stripFor(shared.judgeCookies.length === 0 ? config : { ...config, moreJudgeCookies: shared.judgeCookies });
  const authz = authorizers(config, clock, plog, closers);
  const judge = createJudge({
    ownRoutes: browser.judgeRoutes,
    login: browser.login,
    ...(config.apiRoutes.length > 0 ? { apiRoute: apiRoutesTest(config.apiRoutes)! } : {}),
    // oidc-authservice signed a refused user out; by default the session stays (the 403 page offers another account).
    ...(config.revokeSessionOnForbidden ? { onForbidden: browser.onForbidden } : {}),
    ...(shared.assertion !== undefined ? { assertion: shared.assertion } : {}),
    targetOf: shared.targetOf,
    skip: compileSkipRules(config),
    authenticators: authenticators(config, issuers, clock, plog, browser, closers),
    authorizers: rulesSet && config.authzRules.length === 0 ? [...authz, NO_RULE_FOR_PROVIDER] : authz,
    identityHeaders: compileIdentityHeaders({ ...config, alsoRemove: strip.spellings }),
    strip,
    authHeader: config.authHeader,
    responses,
  });
  return { id, config, issuers, pages, browser, judge };
}
