/**
 * Login start: a browser navigation without a session gets a 302 to the provider's authorization
 * endpoint — authorization code flow with PKCE S256, `state` and `nonce`. The attempt is kept in
 * the browser, in one sealed cookie (`attempt.ts`) whose name carries a tag that the `state` value
 * repeats: nothing is written on the server for a stranger, several tabs each keep their own
 * attempt, and the attempt ends with `LOGIN_STATE_TTL`. At most `MAX_ATTEMPT_COOKIES` attempts
 * live at once: a start that sees that many reuses the oldest one's name. Exactly one
 * `Set-Cookie` per answer.
 */
import { hash } from 'node:crypto';
import * as oidc from 'openid-client';
import { deny, type Decision } from '../judge/decision.js';
import type { LoginStarter } from '../judge/decide.js';
import type { JudgeRequest } from '../judge/request.js';
import { serializeCookie } from '../net/cookies.js';
import { newTag, openAttempt, RandomPool, sealAttempt, type Attempt, type AttemptKey } from './attempt.js';
import {
  absolute,
  attemptCookieOptions,
  attemptCookiePrefix,
  attemptCookies,
  HTML,
  MAX_ATTEMPT_COOKIES,
  NO_STORE,
  requestOrigin,
  type FlowDeps,
} from './flow.js';
import { returnToFromRequest, safeRedirect } from './redirects.js';
import { encodeParams, type AuthParams } from '../config/auth-params.js';
import { hintsOf, NO_EXTRAS, type LoginExtras } from './login-params.js';

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

/**
 * Return URLs longer than this lose their query (then, if still too long, become the site root),
 * so an attempt cookie stays under ~1 KiB and the most a browser holds at once
 * (`MAX_ATTEMPT_COOKIES`) under ~5 KiB — within a proxy's request-header limit (nginx: 8 KiB for
 * the whole `Cookie` line) with room for the application's own cookies.
 */
export const MAX_RETURN_TO = 512;
/** Distinct `redirect_uri`s whose authorization-URL prefix is kept (REDIRECT_URL may be a path: one per host). */
const PREFIX_CACHE_SIZE = 64;
/** `serializeCookie` wants a date; without Max-Age it writes none. */
const EPOCH = new Date(0);

export function createLogin(deps: FlowDeps): Login {
  const { config, client, pages, clock, log } = deps;
  const scope = config.oidcScopes.join(' ');
  const cookieOptions = attemptCookieOptions(config);
  const cookiePrefix = attemptCookiePrefix(config);
  const pool = new RandomPool();
  const random = (n: number): Buffer => pool.take(n);
  // OIDC_AUTH_PARAMS, encoded once: a plain login appends this string as it is.
  const staticParams: AuthParams = config.oidcAuthParams;
  const staticQuery = staticParams.length === 0 ? '' : `&${encodeParams(staticParams)}`;
  const unavailable = (): Decision => deny(503, 'provider-unavailable', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']]);

  /**
   * The authorization URL up to the per-attempt parameters (client_id, redirect_uri, scope,
   * response_type, code_challenge_method; OIDC_AUTH_URL applied, its own query kept first), built
   * by openid-client once per provider configuration and redirect URI.
   */
  let prefixes = new Map<string, string>();
  let prefixesOf: oidc.Configuration | undefined;
  function authorizationPrefix(configuration: oidc.Configuration, redirectUri: string, req: JudgeRequest): string {
    if (prefixesOf !== configuration || prefixes.size >= PREFIX_CACHE_SIZE) {
      prefixes = new Map();
      prefixesOf = configuration;
    }
    // A relative OIDC_AUTH_URL resolves against the request's origin, a relative REDIRECT_URL too.
    const cacheKey = `${requestOrigin(req)} ${redirectUri}`;
    let prefix = prefixes.get(cacheKey);
    if (prefix === undefined) {
      const url = oidc.buildAuthorizationUrl(configuration, { redirect_uri: redirectUri, scope, code_challenge_method: 'S256' });
      prefix = url.href;
      if (config.oidcAuthUrl !== '') {
        const override = new URL(config.oidcAuthUrl, requestOrigin(req) + '/');
        override.hash = '';
        // Its own query (Azure AD B2C `?p=<policy>`) stays as written, the protocol's follows.
        prefix = override.search.length > 1 ? `${override.href}&${url.search.slice(1)}` : `${override.origin}${override.pathname}${url.search}`;
      }
      prefixes.set(cacheKey, prefix);
    }
    return prefix;
  }

  /** The cookie tag for a new attempt: a new one, or the oldest pending attempt's when the browser already holds the most. */
  function tagFor(req: JudgeRequest, key: AttemptKey): string {
    const pending = attemptCookies(config, req);
    if (pending.length === 0 || new Set(pending.map((c) => c.tag)).size < MAX_ATTEMPT_COOKIES) return newTag(random);
    let oldest = pending[0]!;
    let oldestAt = Infinity;
    for (const c of pending) {
      // A cookie that does not open (tampered, sealed under an older key) goes first.
      const at = openAttempt(key, c.tag, c.value)?.createdAt ?? -Infinity;
      if (at < oldestAt) [oldest, oldestAt] = [c, at];
    }
    return oldest.tag;
  }

  // An absolute REDIRECT_URL is the same for every request.
  const fixedRedirectUri = /^https?:\/\//i.test(config.redirectUrl) ? new URL(config.redirectUrl).href : undefined;
  // Max-Age only (no Expires: every browser that speaks SameSite honours Max-Age), so nothing per request but name and value.
  const { maxAgeSeconds, ...cookieAttributes } = cookieOptions;
  // Everything after the value, serialized (and checked) once: a tag and a sealed value are base64url.
  const probe = serializeCookie(`${cookiePrefix}AAAAAAAA`, 'x', cookieAttributes, EPOCH);
  const cookieSuffix = `${probe.slice(probe.indexOf('=x') + 2)}; Max-Age=${maxAgeSeconds}`;

  async function begin(req: JudgeRequest, returnTo: string, root: string, extra: LoginExtras = NO_EXTRAS): Promise<Decision> {
    const configuration = client.configuration();
    if (!configuration) return unavailable();
    let key = deps.attemptKey.ready();
    if (key === undefined) {
      try {
        key = await deps.attemptKey.get();
      } catch (e) {
        log.warn({ err: { name: (e as Error).name, message: (e as Error).message } }, 'the login-attempt key could not be read from the session store');
        return deny(503, 'store-unavailable', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']]);
      }
    }
    const redirectUri = originUrls(req).redirectUri;
    const tag = tagFor(req, key);
    // 99 random bytes: the state's secret part, the nonce and the PKCE verifier (RFC 7636: 43+ characters).
    const secrets = random(99).toString('base64url');
    const attempt: Attempt = {
      v: 1,
      state: `${secrets.slice(0, 43)}.${tag}`,
      nonce: secrets.slice(43, 86),
      codeVerifier: secrets.slice(86),
      returnTo: boundedReturnTo(returnTo, root),
      redirectUri,
      createdAt: clock.now(),
      ...(extra.acrValues !== undefined || extra.maxAge !== undefined
        ? {
            stepUp: {
              ...(extra.acrValues !== undefined ? { acrValues: extra.acrValues } : {}),
              ...(extra.maxAge !== undefined ? { maxAge: extra.maxAge } : {}),
            },
          }
        : {}),
    };
    const challenge = hash('sha256', attempt.codeVerifier, 'base64url');
    // state, nonce and challenge are base64url (and `.`): nothing to percent-encode.
    const params = extra === NO_EXTRAS ? staticQuery : withExtras(extra);
    const location = `${authorizationPrefix(configuration, redirectUri, req)}&state=${attempt.state}&nonce=${attempt.nonce}&code_challenge=${challenge}${params}`;
    const cookie = `${cookiePrefix}${tag}=${sealAttempt(key, tag, attempt)}${cookieSuffix}`;
    return deny(302, 'login', '', [['location', location], NO_STORE, ['set-cookie', cookie]]);
  }

  /** OIDC_AUTH_PARAMS with this login's own parameters replacing those of their name. */
  function withExtras(extra: LoginExtras): string {
    const own: [string, string][] = [];
    if (extra.prompt !== undefined) own.push(['prompt', extra.prompt]);
    if (extra.acrValues !== undefined && extra.acrValues.length > 0) own.push(['acr_values', extra.acrValues.join(' ')]);
    if (extra.maxAge !== undefined) own.push(['max_age', String(extra.maxAge)]);
    if (extra.loginHint !== undefined) own.push(['login_hint', extra.loginHint]);
    if (extra.domainHint !== undefined) own.push(['domain_hint', extra.domainHint]);
    if (own.length === 0) return staticQuery;
    const names = new Set(own.map(([n]) => n));
    const all = [...staticParams.filter(([n]) => !names.has(n)), ...own];
    return `&${encodeParams(all)}`;
  }

  /** `absolute('/', req)` and the absolute `REDIRECT_URL`, remembered per origin (URL parses per login start otherwise). */
  let origins = new Map<string, { readonly root: string; readonly redirectUri: string }>();
  function originUrls(req: JudgeRequest): { readonly root: string; readonly redirectUri: string } {
    const origin = requestOrigin(req);
    let urls = origins.get(origin);
    if (urls === undefined) {
      urls = { root: absolute('/', req), redirectUri: fixedRedirectUri ?? absolute(config.redirectUrl, req) };
      if (origins.size >= PREFIX_CACHE_SIZE) origins = new Map();
      origins.set(origin, urls);
    }
    return urls;
  }
  const rootOf = (req: JudgeRequest): string => originUrls(req).root;

  return {
    start(req) {
      const root = rootOf(req);
      return begin(req, returnToFromRequest(req, deps.policy, root), root);
    },
    startAt(req) {
      const q = req.path.indexOf('?');
      const query = q < 0 ? '' : req.path.slice(q + 1);
      const rd = rdOf(query);
      const target = rd === null ? undefined : safeRedirect(rd, requestOrigin(req), deps.policy);
      const root = rootOf(req);
      return begin(req, target ?? root, root, hintsOf(query));
    },
    startWith: (req, returnTo, extra) => begin(req, returnTo, rootOf(req), extra),
    async stepUp(req, need) {
      const root = rootOf(req);
      const extra: LoginExtras = {
        ...(need.acrValues !== undefined ? { acrValues: need.acrValues } : {}),
        ...(need.maxAge !== undefined ? { maxAge: need.maxAge } : {}),
        // No parameter names `amr` members: the provider asks for credentials again.
        ...(need.missing.includes('amr') ? { prompt: 'login' } : {}),
      };
      const d = await begin(req, returnToFromRequest(req, deps.policy, root), root, extra);
      return d.kind === 'deny' && d.reason === 'login' ? deny(302, 'step-up', d.body, d.headers, { detail: need.missing.join(',') }) : d;
    },
  };
}

/** `returnTo` within `MAX_RETURN_TO`: as is, else without its query and fragment, else `root`. */
export function boundedReturnTo(returnTo: string, root: string): string {
  if (returnTo.length <= MAX_RETURN_TO) return returnTo;
  const cut = returnTo.search(/[?#]/);
  const bare = cut < 0 ? returnTo : returnTo.slice(0, cut);
  return bare.length <= MAX_RETURN_TO ? bare : root;
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
