/**
 * Login start: a browser navigation without a session gets a 302 to the provider's authorization
 * endpoint — authorization code flow with PKCE S256, `state` and `nonce`. Every attempt has its
 * own state record (several tabs at once work), bound to the browser by the `oidc_state_csrf`
 * cookie (set once, reused by later attempts), single use and expiring after `LOGIN_STATE_TTL`.
 */
import * as oidc from 'openid-client';
import { deny, type Decision, type HeaderPair } from '../judge/decision.js';
import type { LoginStarter } from '../judge/decide.js';
import { header, type JudgeRequest } from '../judge/request.js';
import { isWellFormedId, newSecretId } from '../sessions/ticket.js';
import { cookieValues, serializeCookie } from '../web/cookies.js';
import { absolute, browserHash, HTML, LOGIN_COOKIE, loginCookieOptions, NO_STORE, requestOrigin, type FlowDeps } from './flow.js';
import { returnToFromRequest } from './redirects.js';

export function createLogin(deps: FlowDeps): LoginStarter {
  const { config, client, sessions, pages, clock, log } = deps;
  const scope = config.oidcScopes.join(' ');

  /** The browser's binding cookie, or a new one to set. */
  function binding(req: JudgeRequest): { value: string; setCookie?: HeaderPair } {
    const existing = cookieValues(header(req, 'cookie'), LOGIN_COOKIE).find(isWellFormedId);
    if (existing !== undefined) return { value: existing };
    const value = newSecretId();
    return { value, setCookie: ['set-cookie', serializeCookie(LOGIN_COOKIE, value, loginCookieOptions(config), new Date(clock.now()))] };
  }

  return {
    async start(req: JudgeRequest): Promise<Decision> {
      const configuration = client.configuration();
      if (!configuration) return deny(503, 'provider-unavailable', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']]);
      const browser = binding(req);
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const redirectUri = absolute(config.redirectUrl, req);
      const returnTo = returnToFromRequest(req, deps.policy, absolute('/', req));
      let state: string;
      try {
        state = await sessions.saveLoginState(
          { v: 1, browser: browserHash(browser.value), nonce, codeVerifier, returnTo, redirectUri, createdAt: clock.now() },
          config.loginStateTtl,
        );
      } catch (e) {
        log.warn({ err: { name: (e as Error).name, message: (e as Error).message } }, 'login state could not be saved');
        return deny(503, 'store-unavailable', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']]);
      }
      const url = oidc.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri,
        scope,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      let location = url.href;
      if (config.oidcAuthUrl !== '') {
        const override = new URL(config.oidcAuthUrl, requestOrigin(req) + '/');
        override.search = url.search;
        location = override.href;
      }
      const headers: HeaderPair[] = [['location', location], NO_STORE];
      if (browser.setCookie) headers.push(browser.setCookie);
      return deny(302, 'login', '', headers);
    },
  };
}
