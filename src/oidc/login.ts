/**
 * Login start: a browser navigation without a session gets a 302 to the provider's authorization
 * endpoint — authorization code flow with PKCE S256, `state` and `nonce`. Every attempt has its
 * own state record (several tabs at once work), single use and expiring after `LOGIN_STATE_TTL`,
 * bound to the browser: by its `oidc_state_csrf` cookie when it has one (reused), else by a new
 * per-attempt cookie `oidc_state_csrf_<tag>` sent only to the callback — so two tabs starting at
 * the same instant in a fresh browser each keep their own. At most one `Set-Cookie` per answer.
 */
import * as oidc from 'openid-client';
import { deny, type Decision, type HeaderPair } from '../judge/decision.js';
import type { LoginStarter } from '../judge/decide.js';
import { header, type JudgeRequest } from '../judge/request.js';
import { isWellFormedId, newSecretId } from '../sessions/ticket.js';
import { cookieValues, serializeCookie } from '../web/cookies.js';
import { absolute, attemptCookieName, attemptCookieOptions, browserHash, HTML, LOGIN_COOKIE, NO_STORE, requestOrigin, type FlowDeps } from './flow.js';
import { returnToFromRequest, safeRedirect } from './redirects.js';

export interface Login extends LoginStarter {
  /**
   * `GET <prefix>/login?rd=<url>`: starts a login that returns to `rd` (validated like every
   * after-login target; anything unsafe returns to the site root). For proxies that can only
   * redirect to a fixed URL on 401, e.g. nginx `auth_request` with `error_page 401`.
   */
  startAt(req: JudgeRequest): Promise<Decision>;
  /** A login returning to `returnTo` (already validated), with extra authorization parameters (`prompt`). */
  startWith(req: JudgeRequest, returnTo: string, extra: LoginExtras): Promise<Decision>;
}

export interface LoginExtras {
  /** OIDC `prompt` (`select_account`, `login`): the provider asks which account, or for credentials again. */
  readonly prompt?: string;
}

export function createLogin(deps: FlowDeps): Login {
  const { config, client, sessions, pages, clock, log } = deps;
  const scope = config.oidcScopes.join(' ');

  /** The browser's binding cookie value, or a new one (`fresh`) for a per-attempt cookie. */
  function binding(req: JudgeRequest): { value: string; fresh: boolean } {
    const existing = cookieValues(header(req, 'cookie'), LOGIN_COOKIE).find(isWellFormedId);
    return existing !== undefined ? { value: existing, fresh: false } : { value: newSecretId(), fresh: true };
  }

  async function begin(req: JudgeRequest, returnTo: string, extra: LoginExtras = {}): Promise<Decision> {
      const configuration = client.configuration();
      if (!configuration) return deny(503, 'provider-unavailable', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']]);
      const browser = binding(req);
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const redirectUri = absolute(config.redirectUrl, req);
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
        ...(extra.prompt !== undefined ? { prompt: extra.prompt } : {}),
      });
      let location = url.href;
      if (config.oidcAuthUrl !== '') {
        const override = new URL(config.oidcAuthUrl, requestOrigin(req) + '/');
        override.search = url.search;
        location = override.href;
      }
      const headers: HeaderPair[] = [['location', location], NO_STORE];
      if (browser.fresh) headers.push(['set-cookie', serializeCookie(attemptCookieName(state), browser.value, attemptCookieOptions(config), new Date(clock.now()))]);
      return deny(302, 'login', '', headers);
  }

  return {
    start: (req) => begin(req, returnToFromRequest(req, deps.policy, absolute('/', req))),
    startAt(req) {
      const q = req.path.indexOf('?');
      const rd = rdOf(q < 0 ? '' : req.path.slice(q + 1));
      const target = rd === null ? undefined : safeRedirect(rd, requestOrigin(req), deps.policy);
      return begin(req, target ?? absolute('/', req));
    },
    startWith: (req, returnTo, extra) => begin(req, returnTo, extra),
  };
}

/**
 * The `rd` parameter of a login start. nginx cannot percent-encode it
 * (`return 302 <prefix>/login?rd=$scheme://$http_host$request_uri`), so the original URL's own
 * query would become parameters of ours and be lost: an `rd` whose raw value starts with
 * `http://`, `https://` or `/` (i.e. not encoded) runs verbatim to the end of the query string.
 * An encoded one (`rd=https%3A%2F%2F…`) is decoded as usual. The result is validated by the caller.
 */
export function rdOf(query: string): string | null {
  const raw = /(?:^|&)rd=(?=https?:\/\/|\/)/i.exec(query);
  if (raw) return query.slice(raw.index + raw[0].length);
  return new URLSearchParams(query).get('rd');
}
