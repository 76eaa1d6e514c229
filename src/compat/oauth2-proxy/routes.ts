/**
 * oauth2-proxy's browser endpoints under `AUTHSERVICE_URL_PREFIX` (`/oauth2/` in this mode), for
 * `COMPAT_ENDPOINTS=oauth2-proxy`; the callback is `REDIRECT_URL` (`/oauth2/callback`) as always,
 * and `/oauth2/auth` is the judge port's (judge/http/map.ts). With oauth2-proxy's statuses:
 *
 *   start     any method, `?rd=<url>`: 302 to the provider (the login start `<prefix>/login` is)
 *   sign_out  any method, `?rd=<url>` or `X-Auth-Request-Redirect`: ends the session, clears the
 *             cookie, 302 to the target (validated like every redirect here; else `/`)
 *   userinfo  200 `{"user","email","groups","preferredUsername"}` of the session, 401 without one
 *             (web server only: on the judge port a 200 would read as "allow" to Envoy)
 */
import type { Target } from '../../judge/ports.js';
import type { OwnRoutes } from '../../judge/decide.js';
import { deny, type Decision, type Identity } from '../../judge/decision.js';
import { header, type JudgeRequest } from '../../judge/request.js';
import { clearSessionCookie, JSON_TYPE, NO_STORE, requestOrigin, sessionCookies, type FlowConfig } from '../../oidc/flow.js';
import { rdOf } from '../../oidc/login.js';
import { safeRedirect, type RedirectPolicy } from '../../oidc/redirects.js';
import type { SessionEnder } from '../../oidc/logout.js';
import { isWellFormedId } from '../../sessions/ticket.js';
import { underPrefix } from '../../config/schema.js';
import { pathOf } from '../../net/url-path.js';

export interface Oauth2ProxyRouteDeps {
  readonly config: FlowConfig & { readonly authserviceUrlPrefix: string };
  readonly policy: RedirectPolicy;
  /** `<prefix>/login?rd=`: the login start, validated `rd`. */
  readonly startAt: (req: JudgeRequest) => Promise<Decision>;
  readonly endSession: SessionEnder;
  /** The session authenticator: who the session cookie belongs to. */
  readonly session: (req: JudgeRequest) => Promise<{ kind: 'ok'; identity: Identity } | { kind: string }>;
}

const UNAUTHORIZED = deny(401, 'no-credentials', JSON.stringify({ error: 'unauthenticated', message: 'No valid session in the request' }), [
  JSON_TYPE,
  NO_STORE,
]);
const RETRY = [JSON_TYPE, NO_STORE, ['retry-after', '5']] as const;
const UNAVAILABLE_BODY = JSON.stringify({ error: 'unavailable', message: 'Service unavailable, try again shortly' });

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** oauth2-proxy's userinfo body: `user` is the subject, as its OIDC provider sets it. */
export function userinfoBody(id: Identity): string {
  const groups = id.groups.length > 0 ? id.groups : undefined;
  return JSON.stringify({
    user: str(id.claims['sub']) ?? id.user,
    email: str(id.claims['email']) ?? '',
    ...(groups ? { groups } : {}),
    ...(str(id.claims['preferred_username']) ? { preferredUsername: id.claims['preferred_username'] } : {}),
  });
}

export function oauth2ProxyRoutes(deps: Oauth2ProxyRouteDeps, opts: { readonly userinfo: boolean }): OwnRoutes {
  const prefix = pathOf(deps.config.authserviceUrlPrefix);
  const start = underPrefix(prefix, 'start');
  const signOut = underPrefix(prefix, 'sign_out');
  const userinfo = underPrefix(prefix, 'userinfo');

  async function signOutAt(req: JudgeRequest): Promise<Decision> {
    const q = req.path.indexOf('?');
    const rd = rdOf(q < 0 ? '' : req.path.slice(q + 1)) ?? header(req, 'x-auth-request-redirect') ?? null;
    const target = (rd === null ? undefined : safeRedirect(rd, requestOrigin(req), deps.policy)) ?? '/';
    try {
      for (const id of sessionCookies(deps.config, req).filter(isWellFormedId)) await deps.endSession(id);
    } catch {
      return deny(503, 'logout-unavailable', UNAVAILABLE_BODY, RETRY);
    }
    return deny(302, 'logout', '', [['location', target], NO_STORE, clearSessionCookie(deps.config)]);
  }

  async function userinfoOf(req: JudgeRequest): Promise<Decision> {
    const out = await deps.session(req);
    if (out.kind === 'unavailable') return deny(503, 'unavailable', UNAVAILABLE_BODY, RETRY);
    if (out.kind !== 'ok' || !('identity' in out)) return UNAUTHORIZED;
    return deny(200, 'compat-userinfo', userinfoBody(out.identity), [JSON_TYPE, NO_STORE]);
  }

  return (req: JudgeRequest, target: Target) => {
    if (target.ambiguous) return undefined;
    const path = target.path;
    if (path === start) return deps.startAt(req);
    if (path === signOut) return signOutAt(req);
    if (opts.userinfo && path === userinfo && (req.method === 'GET' || req.method === 'HEAD')) return userinfoOf(req);
    return undefined;
  };
}

/** Two route tables as one: the first that answers wins. */
export function firstOf(a: OwnRoutes, b: OwnRoutes): OwnRoutes {
  return (req, target) => a(req, target) ?? b(req, target);
}
