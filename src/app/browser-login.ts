/**
 * Puts the browser login together from one config: the relying-party client, sessions over the
 * configured store, the session authenticator (with refresh), login start, callback, logout,
 * back-channel logout, and the routes through which the judge and the web server answer them.
 */
import { SessionAuthenticator } from '../authn/session.js';
import type { Target } from '../judge/ports.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { codeOf } from '../errors.js';
import type { OwnRoutes } from '../judge/decide.js';
import type { Decision, Identity } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import type { HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { Sessions } from '../sessions/sessions.js';
import { attemptKeySource, type AttemptKeySource } from '../oidc/attempt-key.js';
import { createBackchannelLogout, type BackchannelLogout } from '../oidc/backchannel/backchannel.js';
import { backchannelRoute, type HttpRoute } from '../oidc/backchannel/http.js';
import { createCallback } from '../oidc/callback.js';
import { OidcClient } from '../oidc/client.js';
import type { Discovery } from '../oidc/discovery.js';
import type { IssuerKeys } from '../oidc/issuers.js';
import type { FlowDeps, FlowPages } from '../oidc/flow.js';
import { createLogin, type Login } from '../oidc/login.js';
import { createLogout, createSessionEnder } from '../oidc/logout.js';
import { OverageGroups } from '../oidc/entra/overage.js';
import { Refresher } from '../oidc/refresh.js';
import { backchannelPaths, flowPaths, flowRoutes, type FlowPaths } from '../oidc/routes.js';
import { createSwitchAccount } from '../oidc/switch-account.js';
import { createUserInfo } from '../oidc/userinfo.js';
import { programRoutes, type ProgramRoutes } from '../oidc/programs/routes.js';
import type { DevicePages } from '../oidc/programs/device-page.js';
import type { ProgramLoginDeps } from '../oidc/programs/login.js';
import { compileUserIdTransformers } from '../judge/upstream/userid-transform.js';
import { firstOf, oauth2ProxyRoutes } from '../compat/oauth2-proxy/routes.js';

export interface BrowserLogin {
  readonly client: OidcClient;
  readonly refresher: Refresher;
  readonly authenticator: SessionAuthenticator;
  readonly login: Login;
  /** The judge's own routes (full paths only). */
  readonly judgeRoutes: OwnRoutes;
  /** The web server's routes (also without the prefix). */
  readonly webRoutes: (req: JudgeRequest, target: Target) => Promise<Decision | undefined> | undefined;
  readonly paths: FlowPaths;
  /** The key of the login-attempt cookies (tests open them with it). */
  readonly attemptKey: AttemptKeySource;
  /** OpenID Back-Channel Logout: the handler, and its routes for the web server (also unprefixed) and the judge's HTTP port. */
  readonly backchannel: BackchannelLogout;
  readonly webBackchannelRoute: HttpRoute;
  readonly judgeBackchannelRoute: HttpRoute;
  /** Program logins (`<prefix>/api/…`, oidc/programs/): the form endpoints for the web server (its `GET` step is in `webRoutes`). */
  readonly programs: ProgramRoutes;
  /** Ends the session of an identity an authorizer refused (oidc-authservice did; REVOKE_SESSION_ON_FORBIDDEN). */
  onForbidden(identity: Identity): Promise<void>;
}

export interface BrowserLoginDeps {
  readonly discovery: Discovery;
  /** The provider's signing keys (logout tokens are verified with them). */
  readonly keys: IssuerKeys;
  readonly http: HttpClient;
  /** Microsoft Graph calls (Entra ID group overage); default `http`. */
  readonly graphHttp?: HttpClient;
  readonly sessions: Sessions;
  readonly pages: FlowPages & DevicePages & ProgramLoginDeps['pages'];
  readonly clock: Clock;
  readonly log: Logger;
  /** The provider (`providers:`) this login serves; absent: `default`. Its sessions and login attempts are its own. */
  readonly provider?: string;
}

export function assembleBrowserLogin(config: Config, deps: BrowserLoginDeps): BrowserLogin {
  const { sessions, clock, log } = deps;
  const client = new OidcClient(config, { discovery: deps.discovery, http: deps.http, log });
  const attemptKey = attemptKeySource(config.loginStateSecret, sessions.store, deps.provider);
  const provider = deps.provider !== undefined ? { provider: deps.provider } : {};
  const overage = new OverageGroups({
    baseUrl: config.graphUrl,
    maxGroups: config.graphMaxGroups,
    maxPages: config.graphMaxPages,
    retryIntervalSeconds: config.graphRetryInterval,
    groupsClaim: config.groupsClaim,
    http: deps.graphHttp ?? deps.http,
    clock,
    log,
  });
  const flow: FlowDeps = {
    config,
    client,
    sessions,
    pages: deps.pages,
    policy: { allowedHosts: config.allowedRedirectHosts },
    attemptKey,
    clock,
    log,
    overage,
    ...provider,
  };
  const forward = {
    idToken: config.forwardIdTokenHeader !== '',
    accessToken: config.forwardAccessTokenHeader !== '',
    minTtlSeconds: config.forwardTokenMinTtl,
  };
  const refresher = new Refresher({
    client,
    sessions,
    clock,
    log,
    marginSeconds: config.tokenRefreshMargin,
    overage,
    ...(forward.idToken || forward.accessToken ? { forward } : {}),
  });
  const login = createLogin(flow);
  const authenticator = new SessionAuthenticator({ ...config, ...provider }, { sessions, refresher, client, log, overage });
  const userIdOf = compileUserIdTransformers(config.useridTransformers);
  const handlers = {
    login: (req: JudgeRequest) => login.startAt(req),
    callback: createCallback(flow),
    logout: createLogout(flow),
    switchAccount: createSwitchAccount(flow, login, createSessionEnder(flow)),
    userinfo: createUserInfo({ find: (req) => authenticator.find(req), userId: (id) => config.useridPrefix + userIdOf(id.user) }),
  };
  const paths = flowPaths(config);
  const backchannel = createBackchannelLogout(config, { keys: deps.keys, sessions, clock, log });
  let judgeRoutes = flowRoutes(handlers, paths, { alsoUnprefixed: false });
  const programs = programRoutes({ flow, pages: deps.pages, login, find: (req) => authenticator.find(req), maxAgeSeconds: config.programSessionMaxAge }, paths);
  let webRoutes = firstOf(programs.own, flowRoutes(handlers, paths, { alsoUnprefixed: true }));
  if (config.compatEndpoints === 'oauth2-proxy') {
    // oauth2-proxy's /oauth2/start, sign_out and userinfo (COMPAT_ENDPOINTS; compat/oauth2-proxy/routes.ts).
    const compat = {
      config,
      policy: flow.policy,
      startAt: handlers.login,
      endSession: createSessionEnder(flow),
      session: (r: JudgeRequest) => authenticator.authenticate(r),
    };
    // Its endpoints answer first: /oauth2/userinfo is oauth2-proxy's (its body), served on the web
    // server only — on the judge port a 200 reads as "allow" to Envoy, so no userinfo there at all.
    const { userinfo: _ownUserinfo, ...withoutUserinfo } = handlers;
    judgeRoutes = firstOf(oauth2ProxyRoutes(compat, { userinfo: false }), flowRoutes(withoutUserinfo, paths, { alsoUnprefixed: false }));
    webRoutes = firstOf(oauth2ProxyRoutes(compat, { userinfo: true }), webRoutes);
  }
  return {
    client,
    refresher,
    authenticator,
    login,
    judgeRoutes,
    webRoutes,
    paths,
    attemptKey,
    backchannel,
    programs,
    webBackchannelRoute: backchannelRoute(backchannel, { paths: backchannelPaths(paths, { alsoUnprefixed: true }) }),
    judgeBackchannelRoute: backchannelRoute(backchannel, {
      paths: backchannelPaths(paths, { alsoUnprefixed: false, checkPathPrefix: config.httpCheckPathPrefix }),
      successStatus: 204,
      bodyRequired: true,
    }),
    async onForbidden(identity) {
      if (identity.authenticator !== 'session' || identity.sessionId === undefined) return;
      try {
        await sessions.delete(identity.sessionId);
      } catch (e) {
        log.warn({ err: { name: (e as Error).name, code: codeOf(e) } }, 'could not end the session of a refused user');
      }
    },
  };
}
