/**
 * `GET <prefix>/userinfo`: who the browser's session is, as JSON, for frontends that show the user
 * (oauth2-proxy's `/oauth2/userinfo`, Authelia's `/api/user/info`): the user id as the upstream
 * gets it, email, groups, preferred username, how the session was presented, and when it ends at
 * the latest — never a token. Same-origin only: a cross-site or same-site fetch (`Sec-Fetch-Site`)
 * or a foreign `Origin` gets 403, and no CORS header is ever sent. Answered by the judge's own
 * routes and by the web server, like login and logout.
 */
import { deny, type Decision, type HeaderPair, type Identity } from '../judge/decision.js';
import { header, type JudgeRequest } from '../judge/request.js';
import type { AuthnOutcome } from '../judge/ports.js';
import type { Session } from '../sessions/session.js';
import { JSON_TYPE, NO_STORE, requestOrigin } from './flow.js';

export type UserInfo = (req: JudgeRequest) => Promise<Decision>;

export interface UserInfoDeps {
  /** The session authenticator's lookup (refreshes a due session, fails closed like a check). */
  readonly find: (req: JudgeRequest) => Promise<{ readonly outcome: AuthnOutcome; readonly session?: Session }>;
  /** The user id as the upstream's user header gets it (USERID_PREFIX, USERID_TRANSFORMERS). */
  readonly userId: (identity: Identity) => string;
}

const HEADERS: readonly HeaderPair[] = [JSON_TYPE, NO_STORE];
const NO_SESSION = JSON.stringify({ error: 'unauthenticated', message: 'No valid session in the request' });
const CROSS_SITE = JSON.stringify({ error: 'forbidden', message: 'Only pages of this origin may ask who is signed in' });
const UNAVAILABLE = JSON.stringify({ error: 'unavailable', message: 'Service unavailable, try again shortly' });

/** A fetch from this origin, or a navigation typed by the user: not another site's page reading who is signed in. */
export function sameOriginRead(req: JudgeRequest): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = header(req, 'origin');
  return origin === undefined || origin === requestOrigin(req);
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function createUserInfo(deps: UserInfoDeps): UserInfo {
  return async function userinfo(req) {
    if (!sameOriginRead(req)) return deny(403, 'userinfo-cross-site', CROSS_SITE, HEADERS);
    const { outcome, session } = await deps.find(req);
    if (outcome.kind === 'unavailable') return deny(503, 'userinfo-unavailable', UNAVAILABLE, [...HEADERS, ['retry-after', '5']]);
    if (outcome.kind !== 'ok' || session === undefined) return deny(401, 'userinfo-no-session', NO_SESSION, HEADERS);
    const id = outcome.identity;
    const body = {
      user: deps.userId(id),
      email: text(id.claims['email']) ?? null,
      groups: id.groups,
      preferred_username: text(id.claims['preferred_username']) ?? null,
      auth_method: id.method,
      expires_at: new Date(session.expiresAt).toISOString(),
    };
    return deny(200, 'userinfo', JSON.stringify(body), HEADERS, { identity: id, authenticator: 'session' });
  };
}
