/**
 * Sends each check, page route and back-channel logout to its provider (`providers:`). A check
 * belongs to the provider of its place (host and path, oidc/providers/choice.ts); a place several
 * providers share is resolved by the browser's remembered choice, else the session cookie it holds,
 * else its bearer token's `iss`, else the sign-in chooser answers. `<prefix>/login?provider=<id>`
 * starts that provider's login (if it serves the host) and remembers the choice. A provider's own
 * callback path (when its `redirectUrl` differs from the default's) is its own wherever it is.
 * Nothing here decides access: each provider's judge does, with its own sessions and issuers.
 */
import { peekJwt } from '../../authn/jwt-peek.js';
import type { Clock } from '../../clock.js';
import type { ProviderEntry } from '../../config/providers.js';
import type { Judge } from '../../judge/decide.js';
import { deny, type Decision } from '../../judge/decision.js';
import type { Target } from '../../judge/ports.js';
import { plainHostname } from '../../judge/host.js';
import { bearerFrom, header, type JudgeRequest } from '../../judge/request.js';
import { cookieValues, serializeCookie, type CookieOptions } from '../../net/cookies.js';
import type { BackchannelLogout } from '../../oidc/backchannel/backchannel.js';
import { compileChoice } from '../../oidc/providers/choice.js';
import type { ProviderParts } from './build.js';

export interface DispatchOptions {
  readonly fallback: ProviderParts;
  readonly others: readonly ProviderParts[];
  readonly entries: readonly ProviderEntry[];
  readonly targetOf: (req: JudgeRequest) => Target;
  /** The cookie remembering a browser's choice on a host several providers serve. */
  readonly choiceCookie: string;
  readonly choiceCookieOptions: CookieOptions;
  /** The sign-in chooser's answer (page or JSON) for a request several providers could take. */
  readonly chooser: (req: JudgeRequest, candidates: readonly ProviderParts[]) => Decision;
  readonly clock: Clock;
  /** Counts a check for its provider (metrics). */
  readonly count: (provider: string) => void;
}

export interface Dispatch {
  readonly judge: Judge;
  /** The web server's routes (login, callback, logout, …) of the request's provider. */
  readonly webRoutes: (req: JudgeRequest, target: Target) => Promise<Decision | undefined> | undefined;
  /** Back-channel logout: to the provider whose issuer (and client) the logout token names. */
  readonly backchannel: BackchannelLogout;
  /** The provider whose pages (theme, client name) a host shows: the one its root belongs to, else the default. */
  providerOfHost(host: string): ProviderParts;
}

/** Without trailing slashes (no new string for the usual path that has none). */
const trimSlash = (p: string): string => (p.length > 1 && p.charCodeAt(p.length - 1) === 0x2f ? p.replace(/\/+$/, '') || '/' : p);
const idOf = (p: ProviderParts): string => p.id ?? 'default';

function hostServed(e: ProviderEntry | undefined, hostname: string): boolean {
  if (e === undefined || e.hosts.length === 0) return true;
  return e.hosts.some((h) => h === hostname || (h.startsWith('*.') && hostname.endsWith(h.slice(1))));
}

export function createDispatch(o: DispatchOptions): Dispatch {
  const choose = compileChoice(o.entries);
  const byId = new Map<string, ProviderParts>([['default', o.fallback], ...o.others.map((p) => [idOf(p), p] as const)]);
  const entryOf = new Map(o.entries.map((e) => [e.id, e]));
  const all = [o.fallback, ...o.others];
  // Callback paths of their own (a `redirectUrl` other than the default's): the provider whose it is answers there.
  const defaultCallback = trimSlash(o.fallback.browser.paths.callback);
  const callbacks = new Map<string, ProviderParts[]>();
  for (const p of o.others) {
    const path = trimSlash(p.browser.paths.callback);
    if (path !== defaultCallback) callbacks.set(path, [...(callbacks.get(path) ?? []), p]);
  }
  const paths = o.fallback.browser.paths;
  const prefix = trimSlash(paths.prefix);
  const short = (p: string): string | undefined => (p.startsWith(prefix + '/') ? p.slice(prefix.length) : undefined);
  const loginPaths = new Set([trimSlash(paths.login)]);
  const webLoginPaths = new Set([...loginPaths, ...[short(paths.login)].filter((p) => p !== undefined)]);
  // The flow's routes that name no provider of their own: `?provider=<id>` may name it (a path-scoped provider's logout).
  const flowPaths = [paths.login, paths.logout, paths.userinfo, paths.switchAccount].map(trimSlash);
  const namable = new Set(flowPaths);
  const webNamable = new Set([...flowPaths, ...flowPaths.map(short).filter((p) => p !== undefined)]);

  /** The provider of a request, or the candidates when several share its place and nothing tells them apart. */
  function pick(req: JudgeRequest, target: Target): ProviderParts | readonly ProviderParts[] {
    const own = callbacks.get(trimSlash(target.path));
    if (own !== undefined) {
      const p = own.find((x) => hostServed(entryOf.get(idOf(x)), target.hostname));
      if (p !== undefined) return p;
    }
    const ids = choose(target.hostname, target.path);
    if (ids === undefined) return o.fallback;
    if (ids.length === 1) return byId.get(ids[0]!)!;
    const candidates = ids.map((id) => byId.get(id)!);
    const cookie = header(req, 'cookie');
    const chosen = cookieValues(cookie, o.choiceCookie);
    for (const c of chosen) if (ids.includes(c)) return byId.get(c)!;
    if (cookie !== undefined) for (const p of candidates) if (cookieValues(cookie, p.config.sessionCookieName).length > 0) return p;
    const iss = issuerOf(bearerFrom(header(req, 'authorization')));
    if (iss !== undefined) for (const p of candidates) if (p.config.oidcProvider === iss) return p;
    return candidates;
  }

  /**
   * `?provider=<id>` on the flow's own routes: that provider (if it serves the host), or a refusal;
   * `undefined` when the request names none.
   */
  function named(req: JudgeRequest, target: Target, web: boolean): ProviderParts | Decision | undefined {
    const q = req.path.indexOf('?');
    if (q < 0 || !req.path.includes('provider=', q)) return undefined;
    if (!(web ? webNamable : namable).has(trimSlash(target.path))) return undefined;
    const wanted = new URLSearchParams(req.path.slice(q + 1)).get('provider');
    if (wanted === null) return undefined;
    const p = byId.get(wanted);
    if (p !== undefined && hostServed(entryOf.get(wanted), target.hostname)) return p;
    const body = JSON.stringify({ error: 'unknown_provider', message: 'No such sign-in provider here' });
    return deny(400, 'unknown-provider', body, [
      ['content-type', 'application/json'],
      ['cache-control', 'no-store'],
    ]);
  }

  /** A named provider's answer: its login start (remembered for the host), or its own route. */
  function atNamed(req: JudgeRequest, target: Target, p: ProviderParts, web: boolean): Promise<Decision | undefined> | undefined {
    o.count(idOf(p));
    const path = trimSlash(target.path);
    if (req.method === 'GET' && (web ? webLoginPaths : loginPaths).has(path)) return p.browser.login.startAt(req).then((d) => remember(d, idOf(p)));
    return web ? p.browser.webRoutes(req, target) : p.judge(req);
  }

  function remember(d: Decision, id: string): Decision {
    if (d.kind !== 'deny' || d.status !== 302) return d;
    const cookie = serializeCookie(o.choiceCookie, id, o.choiceCookieOptions, new Date(o.clock.now()));
    return { ...d, headers: [...d.headers, ['set-cookie', cookie]] };
  }

  const judge: Judge = (req) => {
    const target = o.targetOf(req);
    const n = named(req, target, false);
    if (n !== undefined) return 'kind' in n ? Promise.resolve(n) : (atNamed(req, target, n, false) as Promise<Decision>);
    const p = pick(req, target);
    if (!('judge' in p)) return Promise.resolve(o.chooser(req, p));
    o.count(idOf(p));
    return p.judge(req);
  };

  return {
    judge,
    providerOfHost(host) {
      const ids = choose(plainHostname(host) ?? '', '/');
      return ids?.length === 1 ? byId.get(ids[0]!)! : o.fallback;
    },
    webRoutes(req, target) {
      const n = named(req, target, true);
      if (n !== undefined) return 'kind' in n ? Promise.resolve(n) : atNamed(req, target, n, true);
      const p = pick(req, target);
      if ('judge' in p) return p.browser.webRoutes(req, target);
      // Several providers and no choice: the login start shows the chooser; the other routes are the first one's.
      if (req.method === 'GET' && webLoginPaths.has(trimSlash(target.path))) return Promise.resolve(o.chooser(req, p));
      return p[0]!.browser.webRoutes(req, target);
    },
    async backchannel(body, contentType) {
      const token = new URLSearchParams(body).get('logout_token') ?? undefined;
      const claims = token === undefined ? undefined : peekJwt(token)?.payload;
      const aud = claims?.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      const p =
        all.find((x) => x.config.oidcProvider === claims?.iss && aud.includes(x.config.clientId)) ?? all.find((x) => x.config.oidcProvider === claims?.iss);
      // No provider of that issuer: the default's receiver refuses it (400) as before.
      return (p ?? o.fallback).browser.backchannel(body, contentType);
    },
  };
}

function issuerOf(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const iss = peekJwt(token)?.payload.iss;
  return typeof iss === 'string' ? iss : undefined;
}

/** The choice cookie's attributes: host-only, Lax, HttpOnly, Secure like the session cookie, for a session's lifetime. */
export function choiceCookieOptions(c: { sessionCookieSecure: boolean; sessionMaxAge: number }): CookieOptions {
  return { secure: c.sessionCookieSecure, httpOnly: true, sameSite: 'Lax', path: '/', maxAgeSeconds: c.sessionMaxAge };
}
