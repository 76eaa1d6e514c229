/**
 * Logout at `POST <prefix>/logout`, two ways:
 * - oidc-authservice's: the session id in `AUTH_HEADER` (optional `Bearer `) → 201
 *   `{"afterLogoutURL": …}` and a cookie-clearing `Set-Cookie`; the cookie alone is not enough (401).
 * - a browser's: a same-origin form POST carrying the (HttpOnly) cookie. Cross-site requests are
 *   refused by checking `Origin` / `Sec-Fetch-Site` (and SameSite keeps the cookie off them
 *   anyway) → 303 to the provider's `end_session_endpoint` (`LOGOUT_AT_PROVIDER`) or the
 *   after-logout page.
 * Either way the provider's tokens are revoked (RFC 7009) when it advertises revocation, and the
 * session is deleted even if revocation fails.
 */
import * as oidc from 'openid-client';
import { codeOf } from '../errors.js';
import { bearerFrom } from '../judge/request.js';
import { deny, type Decision, type HeaderPair } from '../judge/decision.js';
import { header, type JudgeRequest } from '../judge/request.js';
import type { Session } from '../sessions/session.js';
import { isWellFormedId } from '../sessions/ticket.js';
import { absolute, clearSessionCookie, JSON_TYPE, NO_STORE, requestOrigin, sessionCookies, type FlowDeps } from './flow.js';
import { safeRedirect } from './redirects.js';

export type Logout = (req: JudgeRequest) => Promise<Decision>;

const UNAUTHORIZED = JSON.stringify({ error: 'unauthenticated', message: 'No valid session in the request' });

/**
 * True when the browser says the request comes from a page of the same origin. `Sec-Fetch-Site`
 * (which scripts cannot set) decides when present; pages served with `Referrer-Policy:
 * no-referrer` send `Origin: null`, so only a real, different origin refuses then. Without it, a
 * (non-null) `Origin` must equal ours.
 */
export function sameOriginPost(req: JudgeRequest): boolean {
  const site = header(req, 'sec-fetch-site');
  const origin = header(req, 'origin');
  if (site !== undefined) return site === 'same-origin' && (origin === undefined || origin === 'null' || origin === requestOrigin(req));
  return origin !== undefined && origin === requestOrigin(req);
}

/** Deletes a session (after revoking its tokens at the provider); resolves with it, or `undefined` when there was none. */
export type SessionEnder = (id: string) => Promise<Session | undefined>;

export function createSessionEnder(deps: Pick<FlowDeps, 'client' | 'sessions' | 'log'>): SessionEnder {
  const { client, sessions, log } = deps;

  async function revoke(session: Session): Promise<void> {
    const configuration = client.configuration();
    if (!configuration || !client.advertises('revocation_endpoint')) return;
    const tokens: [string | undefined, string][] = [
      [session.refreshToken, 'refresh_token'],
      [session.accessToken, 'access_token'],
    ];
    for (const [token, hint] of tokens) {
      if (token === undefined) continue;
      try {
        await oidc.tokenRevocation(configuration, token, { token_type_hint: hint });
      } catch (e) {
        log.warn({ err: { name: (e as Error).name, code: codeOf(e), hint } }, 'token revocation failed; the session is deleted anyway');
      }
    }
  }

  /** Deletes the session (after revoking its tokens); `undefined` when there was none. */
  async function end(id: string): Promise<Session | undefined> {
    const session = await sessions.load(id, { fresh: true });
    if (!session) return undefined;
    await sessions.delete(id);
    await revoke(session);
    log.info({ user: session.user }, 'logout');
    return session;
  }

  return end;
}

export function createLogout(deps: FlowDeps): Logout {
  const { config, client } = deps;
  const end = createSessionEnder(deps);

  function afterLogout(req: JudgeRequest): string {
    return safeRedirect(config.afterLogoutUrl, requestOrigin(req), deps.policy) ?? absolute(config.homepageUrl, req);
  }

  return async function logout(req) {
    const cleared = clearSessionCookie(config);
    const fromHeader = bearerFrom(header(req, config.authHeader.toLowerCase()));
    try {
      if (fromHeader !== undefined && isWellFormedId(fromHeader)) {
        if (!(await end(fromHeader))) return deny(401, 'logout-unknown-session', UNAUTHORIZED, [JSON_TYPE, NO_STORE]);
        return deny(201, 'logout', JSON.stringify({ afterLogoutURL: config.afterLogoutUrl }), [JSON_TYPE, NO_STORE, cleared]);
      }
      const cookies = sessionCookies(config, req).filter(isWellFormedId);
      if (cookies.length === 0 || !sameOriginPost(req)) return deny(401, 'logout-no-session', UNAUTHORIZED, [JSON_TYPE, NO_STORE]);
      let ended: Session | undefined;
      for (const id of cookies) ended = (await end(id)) ?? ended;
      const target = afterLogout(req);
      let location = target;
      if (ended && config.logoutAtProvider && client.advertises('end_session_endpoint')) {
        const configuration = client.configuration();
        if (configuration) {
          const params: Record<string, string> = { post_logout_redirect_uri: target, client_id: config.clientId };
          if (ended.idToken !== undefined) params['id_token_hint'] = ended.idToken;
          location = oidc.buildEndSessionUrl(configuration, params).href;
        }
      }
      const headers: HeaderPair[] = [['location', location], NO_STORE, cleared];
      return deny(303, 'logout', '', headers);
    } catch {
      return deny(503, 'logout-unavailable', JSON.stringify({ error: 'unavailable', message: 'Service unavailable, try again shortly' }), [
        JSON_TYPE,
        NO_STORE,
        ['retry-after', '5'],
      ]);
    }
  };
}
