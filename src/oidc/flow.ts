/**
 * What the browser login flow (login start, callback, logout) shares: its configuration, its
 * collaborators, and the cookies it reads and writes. Every flow step is transport-neutral: it
 * takes a `JudgeRequest` and answers a `Decision`, so the judge (gRPC, HTTP), the web server and
 * the forwarder all serve the same flow.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { pathOf } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { HeaderPair } from '../judge/decision.js';
import { header, type JudgeRequest } from '../judge/request.js';
import type { Logger } from '../obs/log.js';
import type { Sessions } from '../sessions/sessions.js';
import { clearCookie, cookieValues, parseCookies, serializeCookie, type CookieOptions } from '../web/cookies.js';
import type { OidcClient } from './client.js';
import type { RedirectPolicy } from './redirects.js';

/** The cookie binding login attempts to the browser that started them (oidc-authservice's name). */
export const LOGIN_COOKIE = 'oidc_state_csrf';
/**
 * Per-attempt binding cookies are `oidc_state_csrf_<tag>`: set when the browser has no binding
 * cookie yet, so two tabs starting a login at the same instant do not overwrite each other's.
 */
export const LOGIN_COOKIE_PREFIX = `${LOGIN_COOKIE}_`;

export type FlowConfig = Pick<
  Config,
  | 'clientId'
  | 'redirectUrl'
  | 'oidcAuthUrl'
  | 'oidcScopes'
  | 'homepageUrl'
  | 'afterLoginUrl'
  | 'afterLogoutUrl'
  | 'authHeader'
  | 'userIdClaim'
  | 'groupsClaim'
  | 'claimsSource'
  | 'loginStateTtl'
  | 'sessionMaxAge'
  | 'sessionSameSite'
  | 'sessionCookieName'
  | 'sessionCookieSecure'
  | 'sessionCookieHttpOnly'
  | 'sessionCookieDomain'
  | 'sessionCookiePath'
  | 'logoutAtProvider'
  | 'authserviceUrlPrefix'
>;

/** Pages the flow shows; all escape what they display. */
export interface FlowPages {
  /** The login-failed page: its status, the message (escaped) and where "Try again" goes. */
  loginFailed(message: string, retryHref: string, status: number): string;
  unavailable(): string;
}

export interface FlowDeps {
  readonly config: FlowConfig;
  readonly client: OidcClient;
  readonly sessions: Sessions;
  readonly pages: FlowPages;
  readonly policy: RedirectPolicy;
  readonly clock: Clock;
  readonly log: Logger;
}

export const HTML: HeaderPair = ['content-type', 'text/html; charset=utf-8'];
export const JSON_TYPE: HeaderPair = ['content-type', 'application/json'];
export const NO_STORE: HeaderPair = ['cache-control', 'no-store'];

/** `scheme://host` of the request as the browser sees it. */
export function requestOrigin(req: JudgeRequest): string {
  return `${req.scheme}://${req.host}`;
}

/** A setting that may be a path (`/authservice/oidc/callback`) made absolute for this request. */
export function absolute(urlOrPath: string, req: JudgeRequest): string {
  return new URL(urlOrPath, requestOrigin(req) + '/').href;
}

export function sessionCookieOptions(config: FlowConfig): CookieOptions {
  return {
    secure: config.sessionCookieSecure,
    httpOnly: config.sessionCookieHttpOnly,
    sameSite: config.sessionSameSite,
    path: config.sessionCookiePath,
    ...(config.sessionCookieDomain !== '' ? { domain: config.sessionCookieDomain } : {}),
    maxAgeSeconds: config.sessionMaxAge,
  };
}

/** The login-binding cookie: always HttpOnly, Lax (it must survive the provider's redirect back). */
export function loginCookieOptions(config: FlowConfig): CookieOptions {
  return {
    secure: config.sessionCookieSecure,
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    ...(config.sessionCookieDomain !== '' ? { domain: config.sessionCookieDomain } : {}),
    maxAgeSeconds: config.loginStateTtl,
  };
}

/** The per-attempt binding cookie's name: a short tag derived from the state id (not the id itself). */
export function attemptCookieName(stateId: string): string {
  return LOGIN_COOKIE_PREFIX + createHash('sha256').update('oidc-judge/attempt\0' + stateId).digest('base64url').slice(0, 12);
}

/** The per-attempt binding cookie: like the binding cookie, but sent only to the callback path. */
export function attemptCookieOptions(config: FlowConfig): CookieOptions {
  return { ...loginCookieOptions(config), path: pathOf(config.redirectUrl) };
}

/** Every binding cookie the browser sent (`oidc_state_csrf` and `oidc_state_csrf_*`), by name. */
export function bindingCookies(req: JudgeRequest): { readonly name: string; readonly value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const [name, values] of parseCookies(header(req, 'cookie'))) {
    if (name !== LOGIN_COOKIE && !name.startsWith(LOGIN_COOKIE_PREFIX)) continue;
    for (const value of values) out.push({ name, value });
  }
  return out;
}

export function setSessionCookie(config: FlowConfig, id: string, clock: Clock): HeaderPair {
  return ['set-cookie', serializeCookie(config.sessionCookieName, id, sessionCookieOptions(config), new Date(clock.now()))];
}

export function clearSessionCookie(config: FlowConfig): HeaderPair {
  const { maxAgeSeconds: _unused, ...opts } = sessionCookieOptions(config);
  return ['set-cookie', clearCookie(config.sessionCookieName, opts)];
}

/** The values of the session cookie the browser sent (several when Path/Domain variants coexist). */
export function sessionCookies(config: FlowConfig, req: JudgeRequest): string[] {
  return cookieValues(header(req, 'cookie'), config.sessionCookieName);
}

/** Hash of the login-binding cookie, as kept in login state records. */
export function browserHash(value: string): string {
  return createHash('sha256').update('oidc-judge/browser\0' + value).digest('base64url');
}
