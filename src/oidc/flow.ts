/**
 * What the browser login flow (login start, callback, logout) shares: its configuration, its
 * collaborators, and the cookies it reads and writes. Every flow step is transport-neutral: it
 * takes a `JudgeRequest` and answers a `Decision`, so the judge (gRPC, HTTP), the web server and
 * the forwarder all serve the same flow.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { HeaderPair } from '../judge/decision.js';
import { header, type JudgeRequest } from '../judge/request.js';
import type { Logger } from '../obs/log.js';
import type { Sessions } from '../sessions/sessions.js';
import { clearCookie, cookieValues, parseCookies, serializeCookie, type CookieOptions } from '../net/cookies.js';
import type { AttemptKeySource } from './attempt-key.js';
import { isTag } from './attempt.js';
import type { OidcClient } from './client.js';
import type { OverageGroups } from './entra/overage.js';
import type { RedirectPolicy } from './redirects.js';

/** oidc-authservice's login cookie name; ours are `oidc_state_csrf_<tag>` (`attempt.ts`). */
export const LOGIN_COOKIE = 'oidc_state_csrf';
/** Login-attempt cookies are `oidc_state_csrf_<tag>`, one per attempt (`__Host-oidc_state_csrf_<tag>` with a `__Host-` session cookie). */
export const LOGIN_COOKIE_PREFIX = `${LOGIN_COOKIE}_`;
export const HOST_LOGIN_COOKIE_PREFIX = `__Host-${LOGIN_COOKIE_PREFIX}`;
/**
 * At most this many attempt cookies are kept: a login start that sees this many already reuses the
 * name of the oldest (one Set-Cookie, no pile-up towards a 431); fewer, and it takes a new name.
 */
export const MAX_ATTEMPT_COOKIES = 5;

export type FlowConfig = Pick<
  Config,
  | 'clientId'
  | 'redirectUrl'
  | 'oidcAuthUrl'
  | 'oidcAuthParams'
  | 'oidcScopes'
  | 'homepageUrl'
  | 'afterLoginUrl'
  | 'afterLogoutUrl'
  | 'authHeader'
  | 'userIdClaim'
  | 'groupsClaim'
  | 'groupsStripPrefix'
  | 'claimsSource'
  | 'loginStateTtl'
  | 'loginStateSecret'
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
  /** The key of the login-attempt cookies. */
  readonly attemptKey: AttemptKeySource;
  readonly clock: Clock;
  readonly log: Logger;
  /** Entra ID group overage: groups read from Microsoft Graph at login. */
  readonly overage?: OverageGroups;
  /** The provider (`providers:`) this flow signs in at, recorded in its sessions; absent: `default`. */
  readonly provider?: string;
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

/** The attempt cookies' name prefix: `__Host-` too when the session cookie has it. */
export function attemptCookiePrefix(config: FlowConfig): string {
  return config.sessionCookieName.startsWith('__Host-') ? HOST_LOGIN_COOKIE_PREFIX : LOGIN_COOKIE_PREFIX;
}

/**
 * A login-attempt cookie: HttpOnly, Lax (it must survive the provider's redirect back), Secure
 * like the session cookie, the session cookie's Domain (the callback may be on another subdomain
 * than the page that started the login), expiring with the attempt. `Path=/`, not the callback's
 * path: the login start must see the attempts already pending to cap them (and `__Host-` needs it).
 */
export function attemptCookieOptions(config: FlowConfig): CookieOptions {
  return {
    secure: config.sessionCookieSecure,
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    ...(config.sessionCookieDomain !== '' ? { domain: config.sessionCookieDomain } : {}),
    maxAgeSeconds: config.loginStateTtl,
  };
}

/** Every attempt cookie the browser sent, by tag (a name can come several times: Domain variants). */
export function attemptCookies(config: FlowConfig, req: JudgeRequest): { readonly tag: string; readonly value: string }[] {
  const out: { tag: string; value: string }[] = [];
  const header_ = header(req, 'cookie');
  const prefix = attemptCookiePrefix(config);
  if (header_ === undefined || !header_.includes(prefix)) return out;
  for (const [name, values] of parseCookies(header_)) {
    if (!name.startsWith(prefix)) continue;
    const tag = name.slice(prefix.length);
    if (!isTag(tag)) continue;
    for (const value of values) out.push({ tag, value });
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
