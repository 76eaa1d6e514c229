/**
 * The login callback at `REDIRECT_URL`'s path: opens the login attempt named by `state` from this
 * browser's attempt cookie (so another browser's callback URL finds none), refuses it when expired
 * or already spent (single use: the spent `state` is claimed in the store until the attempt would
 * have expired — a write only for a callback carrying a genuine, live attempt, never for a mere
 * navigation), exchanges the code (PKCE verifier, nonce and RFC 9207 `iss` checked
 * by openid-client), collects the claims (`CLAIMS_SOURCE`), creates a fresh session (never reusing
 * an id the browser brought: no fixation) and sends the browser back where it started. Every
 * failure is a themed page with its status, a short escaped message — never a stack trace — and a
 * "Try again" link to the page the user wanted (once the attempt is known to be this browser's),
 * else to the homepage.
 */
import * as oidc from 'openid-client';
import { groupsFrom, userIdFrom } from '../judge/claims.js';
import { deny, type Decision, type HeaderPair } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { HttpClientError } from '../net/http-client.js';
import type { Session } from '../sessions/session.js';
import { claimKey } from '../sessions/ticket.js';
import { clearCookie } from '../net/cookies.js';
import { openAttempt, tagOfState, type Attempt, type AttemptKey } from './attempt.js';
import {
  absolute,
  attemptCookieOptions,
  attemptCookiePrefix,
  attemptCookies,
  HTML,
  NO_STORE,
  sessionCookies,
  setSessionCookie,
  type FlowDeps,
} from './flow.js';
import { afterLoginTarget } from './redirects.js';

/** Claims that describe the token, not the user. */
const PROTOCOL_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash', 'aud', 'azp', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'acr', 'amr']);

export type Callback = (req: JudgeRequest) => Promise<Decision>;

/** An attempt created this far in our future (another replica's clock) is still accepted. */
const CLOCK_SKEW_MS = 60_000;

export function createCallback(deps: FlowDeps): Callback {
  const { config, client, sessions, pages, clock, log } = deps;

  /** `retry`: where "Try again" goes — a validated after-login target, else the homepage. */
  const failed = (status: 400 | 403 | 500, reason: string, message: string, retry: string): Decision =>
    deny(status, 'login-failed', pages.loginFailed(message, retry, status), [HTML, NO_STORE], { detail: reason });
  const unavailable = (reason: string): Decision => deny(503, 'login-failed', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']], { detail: reason });

  async function claimsOf(
    configuration: oidc.Configuration,
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  ): Promise<Record<string, unknown>> {
    const idClaims = tokens.claims();
    if (!idClaims) throw new Error('no ID token in the token response');
    const fromIdToken = Object.fromEntries(Object.entries(idClaims).filter(([k]) => !PROTOCOL_CLAIMS.has(k)));
    if (config.claimsSource === 'id_token' || !client.advertises('userinfo_endpoint')) return fromIdToken;
    const info = await oidc.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
    return config.claimsSource === 'userinfo' ? { ...info, iss: idClaims.iss } : { ...fromIdToken, ...info };
  }

  return async function callback(req) {
    const query = new URLSearchParams(req.path.includes('?') ? req.path.slice(req.path.indexOf('?') + 1) : '');
    const code = query.get('code');
    const error = query.get('error');
    const stateId = query.get('state');
    if (code === null && error === null) return deny(302, 'login-no-code', '', [['location', absolute(config.homepageUrl, req)], NO_STORE]);
    const homepage = absolute(config.homepageUrl, req);
    if (stateId === null) return failed(400, 'no-state', 'This sign-in link is incomplete. Please start again from the application.', homepage);

    const badState = (): Decision =>
      failed(400, 'bad-state', 'This sign-in attempt has expired, was already used, or was started in another browser. Please start again.', homepage);
    let key: AttemptKey;
    try {
      key = await deps.attemptKey.get();
    } catch {
      return unavailable('store');
    }
    const state = attemptOf(req, stateId, key);
    if (!state) return badState();
    const retry = state.returnTo;
    const now = clock.now();
    const expiresAt = state.createdAt + config.loginStateTtl * 1000;
    if (now >= expiresAt || state.createdAt > now + CLOCK_SKEW_MS) {
      return failed(400, 'expired-state', 'This sign-in attempt has expired. Please start again.', retry);
    }
    // RFC 9207: an answer naming another issuer (a mix-up attack) is refused before anything is
    // done with its code — also an error answer.
    const issuerProblem = issuerMismatch(query, client.metadata);
    if (issuerProblem !== undefined) {
      log.warn({ problem: issuerProblem }, 'login refused: authorization response from another issuer (RFC 9207)');
      return failed(400, 'issuer-mismatch', 'This sign-in answer did not come from the expected identity provider. Please start again.', retry);
    }
    if (error !== null) {
      log.info({ error: error.slice(0, 64) }, 'provider refused the login');
      const text =
        error === 'access_denied'
          ? 'Sign-in was cancelled or denied by the identity provider.'
          : `The identity provider could not sign you in (${error.slice(0, 64)}).`;
      return failed(error === 'access_denied' ? 403 : 400, `provider:${error.slice(0, 32)}`, text, retry);
    }

    const configuration = client.configuration();
    if (!configuration) return unavailable('discovery');
    // Single use, before the provider is asked: a replayed callback never reaches the token
    // endpoint (which, seeing a code twice, should revoke what it issued for it).
    try {
      if (!(await sessions.store.claimOnce(claimKey('login-state', config.clientId, stateId), expiresAt, now))) {
        return failed(400, 'replayed-state', 'This sign-in attempt was already used. Please start again.', retry);
      }
    } catch {
      return unavailable('store');
    }
    const current = new URL(state.redirectUri);
    current.search = query.toString();
    let session: Session;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: state.codeVerifier,
        expectedState: stateId,
        expectedNonce: state.nonce,
        idTokenExpected: true,
      });
      const claims = await claimsOf(configuration, tokens);
      const idClaims = tokens.claims()!;
      const user = userIdFrom(claims, config.userIdClaim);
      if (user === undefined) {
        log.warn({ claim: config.userIdClaim }, 'login refused: the user id claim is missing or not a string');
        return failed(403, 'no-user-claim', `Your account has no usable "${config.userIdClaim}" and cannot sign in here.`, retry);
      }
      const loggedInAt = clock.now();
      session = {
        v: 1,
        user,
        groups: groupsFrom(claims, config.groupsClaim, config.groupsStripPrefix) ?? [],
        claims,
        iss: idClaims.iss,
        sub: idClaims.sub,
        ...(deps.provider !== undefined ? { provider: deps.provider } : {}),
        ...(typeof idClaims['sid'] === 'string' ? { sid: idClaims['sid'] } : {}),
        ...strengthOf(idClaims),
        ...(state.stepUp !== undefined ? { stepUp: state.stepUp } : {}),
        ...(tokens.id_token !== undefined ? { idToken: tokens.id_token } : {}),
        accessToken: tokens.access_token,
        ...(tokens.refresh_token !== undefined ? { refreshToken: tokens.refresh_token } : {}),
        tokenType: tokens.token_type,
        ...(tokens.expires_in !== undefined ? { accessExpiresAt: loggedInAt + tokens.expires_in * 1000 } : {}),
        createdAt: loggedInAt,
        expiresAt: loggedInAt + config.sessionMaxAge * 1000,
      };
    } catch (e) {
      return exchangeFailure(e, retry);
    }
    // Entra ID group overage: the groups from Graph, or a session marked pending (its checks are 503).
    if (deps.overage) session = await deps.overage.atLogin(session);

    let id: string;
    try {
      for (const old of sessionCookies(config, req)) await sessions.delete(old);
      id = await sessions.create(session);
    } catch {
      return unavailable('store');
    }
    log.info({ user: session.user }, 'login');
    const target = config.afterLoginUrl === '' ? state.returnTo : afterLoginTarget(absolute(config.afterLoginUrl, req), state.returnTo);
    const headers: HeaderPair[] = [['location', target], NO_STORE, setSessionCookie(config, id, clock)];
    // The spent attempt cookie goes too — only where we write the response ourselves: through
    // Envoy a deny keeps to one Set-Cookie (the session's); the cookie then just expires (and is
    // refused as spent meanwhile).
    if (req.via === 'web' || req.via === 'forwarder') {
      const { maxAgeSeconds: _unused, ...opts } = attemptCookieOptions(config);
      headers.push(['set-cookie', clearCookie(attemptCookiePrefix(config) + tagOfState(stateId)!, opts)]);
    }
    return deny(302, 'login-complete', '', headers);
  };

  /** The attempt `stateId` names, opened from this browser's cookie of its tag; `undefined` when there is none. */
  function attemptOf(req: JudgeRequest, stateId: string, key: AttemptKey): Attempt | undefined {
    const tag = tagOfState(stateId);
    if (tag === undefined) return undefined;
    for (const c of attemptCookies(config, req)) {
      if (c.tag !== tag) continue;
      const a = openAttempt(key, tag, c.value);
      if (a?.state === stateId) return a;
    }
    return undefined;
  }

  function exchangeFailure(e: unknown, retry: string): Decision {
    if (providerUnreachable(e)) {
      log.warn({ err: { name: (e as Error).name, code: (e as { code?: string }).code } }, 'provider unreachable during login');
      return unavailable('provider');
    }
    if (e instanceof oidc.ResponseBodyError) {
      log.warn({ err: { name: e.name, error: e.error, status: e.status } }, 'provider refused the code exchange');
      return failed(400, 'exchange', 'The identity provider did not accept this sign-in. Please start again.', retry);
    }
    const err = e as Error;
    log.warn({ err: { name: err.name, code: (err as { code?: string }).code, message: err.message?.slice(0, 200) } }, 'login could not be completed');
    return failed(500, 'exchange', 'Sign-in could not be completed. Please start again.', retry);
  }
}

/** The ID token's `acr`, `amr` and `auth_time`, as the session records them (each only when well-formed). */
export function strengthOf(idClaims: Readonly<Record<string, unknown>>): Pick<Session, 'acr' | 'amr' | 'authTime'> {
  const { acr, amr, auth_time: authTime } = idClaims;
  return {
    ...(typeof acr === 'string' ? { acr } : {}),
    ...(Array.isArray(amr) && amr.every((m) => typeof m === 'string') ? { amr: amr as string[] } : {}),
    ...(typeof authTime === 'number' && Number.isFinite(authTime) ? { authTime } : {}),
  };
}

/**
 * What is wrong with the authorization response's `iss` parameter (RFC 9207), or `undefined`:
 * given more than once, naming another issuer than the one discovered, or missing although the
 * provider says it always sends it (`authorization_response_iss_parameter_supported`).
 */
export function issuerMismatch(query: URLSearchParams, metadata: { readonly issuer: string; readonly [k: string]: unknown } | undefined): string | undefined {
  const given = query.getAll('iss');
  if (given.length > 1) return 'iss given more than once';
  if (metadata === undefined) return undefined;
  if (given.length === 0) return metadata['authorization_response_iss_parameter_supported'] === true ? 'iss missing' : undefined;
  return given[0] === metadata.issuer ? undefined : 'iss names another issuer';
}

/**
 * True when the provider could not be asked, or failed on its side: our transport failed
 * (openid-client wraps it as the `cause` of a ClientError), or it answered 5xx (with or without
 * an OAuth error body). Those are 503s; everything else is a login failure.
 */
export function providerUnreachable(e: unknown): boolean {
  if (e instanceof oidc.ResponseBodyError) return e.status >= 500;
  for (let c: unknown = e, depth = 0; depth < 5; depth++) {
    if (c instanceof HttpClientError) return true;
    if (c instanceof Response) return c.status >= 500;
    if (!(c instanceof Error)) return false;
    c = c.cause;
  }
  return false;
}
