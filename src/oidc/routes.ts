/**
 * Which requests are the login flow's own: `GET` at `REDIRECT_URL`'s path (the callback) and
 * `POST <prefix>/logout`, `GET <prefix>/login?rd=<url>` (a login start for proxies that can
 * only redirect to a fixed URL), and `POST <prefix>/switch-account?rd=<path>` (the 403 page's
 * "sign in with another account"), and `GET <prefix>/userinfo` (the session's identity for frontends). The judge answers them before its skip rules (as oidc-authservice's mux
 * did); the web server answers them too, also without the prefix (deployments that rewrite
 * `/authservice/` → `/` before the web server).
 *
 * `POST <prefix>/oidc/backchannel-logout` needs the request body, which checks do not carry, so it
 * is a `node:http` route (`backchannel/http.ts`) on the same paths: `backchannelPaths`.
 */
import type { Target } from '../judge/ports.js';
import { pathOf } from '../net/url-path.js';
import { underPrefix } from '../config/schema.js';
import type { OwnRoutes } from '../judge/decide.js';
import type { Decision } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';

export interface FlowHandlers {
  readonly login: (req: JudgeRequest) => Promise<Decision>;
  readonly callback: (req: JudgeRequest) => Promise<Decision>;
  readonly logout: (req: JudgeRequest) => Promise<Decision>;
  readonly switchAccount: (req: JudgeRequest) => Promise<Decision>;
  /** `GET <prefix>/userinfo` (userinfo.ts); absent: not served. */
  readonly userinfo?: (req: JudgeRequest) => Promise<Decision>;
}

export interface FlowPaths {
  readonly login: string;
  readonly callback: string;
  readonly logout: string;
  /** The 403 page's "sign in with another account": `<prefix>/switch-account`. */
  readonly switchAccount: string;
  /** The session's identity as JSON for frontends: `<prefix>/userinfo`. */
  readonly userinfo: string;
  /** OpenID Back-Channel Logout receiver: `<prefix>/oidc/backchannel-logout`. */
  readonly backchannel: string;
  readonly prefix: string;
}

const trimSlash = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);

export function flowPaths(config: { redirectUrl: string; authserviceUrlPrefix: string }): FlowPaths {
  const prefix = pathOf(config.authserviceUrlPrefix);
  return {
    login: trimSlash(underPrefix(prefix, 'login')),
    callback: trimSlash(pathOf(config.redirectUrl)),
    logout: trimSlash(underPrefix(prefix, 'logout')),
    switchAccount: trimSlash(underPrefix(prefix, 'switch-account')),
    userinfo: trimSlash(underPrefix(prefix, 'userinfo')),
    backchannel: trimSlash(underPrefix(prefix, 'oidc/backchannel-logout')),
    prefix,
  };
}

/** The same path without the service prefix (`/authservice/logout` → `/logout`), when it has it. */
function unprefixed(path: string, prefix: string): string | undefined {
  const p = trimSlash(prefix);
  return path.startsWith(p + '/') ? path.slice(p.length) : undefined;
}

/**
 * The paths of the back-channel logout receiver: the full one; without the prefix too (web
 * server); behind `HTTP_CHECK_PATH_PREFIX` too (the judge port, as Envoy `http_service` sends it).
 */
export function backchannelPaths(paths: FlowPaths, opts: { alsoUnprefixed: boolean; checkPathPrefix?: string }): string[] {
  const out = [paths.backchannel];
  const short = unprefixed(paths.backchannel, paths.prefix);
  if (opts.alsoUnprefixed && short) out.push(short);
  const check = (opts.checkPathPrefix ?? '').replace(/\/+$/, '');
  if (check !== '') out.push(check + paths.backchannel);
  return out;
}

export function flowRoutes(handlers: FlowHandlers, paths: FlowPaths, opts: { alsoUnprefixed: boolean }): OwnRoutes {
  const callbacks = new Set([paths.callback]);
  const logouts = new Set([paths.logout]);
  const logins = new Set([paths.login]);
  const switches = new Set([paths.switchAccount]);
  const userinfos = new Set([paths.userinfo]);
  if (opts.alsoUnprefixed) {
    for (const [set, path] of [
      [callbacks, paths.callback],
      [logouts, paths.logout],
      [logins, paths.login],
      [switches, paths.switchAccount],
      [userinfos, paths.userinfo],
    ] as const) {
      const short = unprefixed(path, paths.prefix);
      if (short) set.add(short);
    }
  }
  return (req: JudgeRequest, target: Target) => {
    if (target.ambiguous) return undefined;
    const path = trimSlash(target.path);
    if ((req.method === 'GET' || req.method === 'HEAD') && callbacks.has(path)) return handlers.callback(req);
    if (req.method === 'POST' && logouts.has(path)) return handlers.logout(req);
    if (req.method === 'GET' && logins.has(path)) return handlers.login(req);
    if (req.method === 'POST' && switches.has(path)) return handlers.switchAccount(req);
    if (req.method === 'GET' && handlers.userinfo !== undefined && userinfos.has(path)) return handlers.userinfo(req);
    return undefined;
  };
}
