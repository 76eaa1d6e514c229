/**
 * OpenID Connect Back-Channel Logout 1.0: the provider POSTs `logout_token=<JWT>`
 * (`application/x-www-form-urlencoded`) to `<prefix>/oidc/backchannel-logout`. A valid token
 * (`logout-token.ts`) whose `jti` was not seen before ends every session of its `sid` (of its
 * `sub` too, when both are given, §2.4/§2.7) or, with only `sub`, every session of that user — in
 * the store, and in every process's cache through the revocation feed.
 *
 * Answers (§2.8), always `Cache-Control: no-store`: 200 (also when no session matched; 204 on the
 * judge's check port, see `http.ts`), 400 `{"error":"invalid_request", …}` for any
 * invalid request or token (nothing ends), 503 `{"error":"temporarily_unavailable"}` when the store
 * or the provider's keys cannot be reached. Transport-neutral: it takes the body and answers a reply.
 */
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/schema.js';
import { codeOf } from '../../errors.js';
import type { HeaderPair } from '../../judge/decision.js';
import type { Logger } from '../../obs/log.js';
import type { Sessions } from '../../sessions/sessions.js';
import { claimKey } from '../../sessions/ticket.js';
import type { IssuerKeys } from '../issuers.js';
import { LOGOUT_TOKEN_MAX_AGE_SECONDS, verifyLogoutToken, type LogoutTokenPolicy } from './logout-token.js';

export interface BackchannelReply {
  readonly status: number;
  readonly headers: readonly HeaderPair[];
  readonly body: string;
}

/** Handles one request: its body and `Content-Type`. Never throws. */
export type BackchannelLogout = (body: string, contentType: string | undefined) => Promise<BackchannelReply>;

export type BackchannelConfig = Pick<Config, 'oidcProvider' | 'clientId' | 'jwtAlgorithms' | 'jwtLeeway'>;

export interface BackchannelDeps {
  readonly keys: IssuerKeys;
  readonly sessions: Sessions;
  readonly clock: Clock;
  readonly log: Logger;
  /** Default `LOGOUT_TOKEN_MAX_AGE_SECONDS`. */
  readonly maxAgeSeconds?: number;
}

const NO_STORE: HeaderPair = ['cache-control', 'no-store'];
const JSON_TYPE: HeaderPair = ['content-type', 'application/json'];

function error(status: 400 | 503, code: string, description: string): BackchannelReply {
  return { status, headers: [JSON_TYPE, NO_STORE], body: JSON.stringify({ error: code, error_description: description }) };
}

/** The single `logout_token` of a form body, or why there is none. */
function logoutTokenOf(body: string, contentType: string | undefined): { token: string } | { problem: string } {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { problem: 'expected an application/x-www-form-urlencoded body' };
  const tokens = new URLSearchParams(body).getAll('logout_token');
  if (tokens.length !== 1 || tokens[0] === '') return { problem: 'expected exactly one logout_token' };
  return { token: tokens[0]! };
}

export function createBackchannelLogout(config: BackchannelConfig, deps: BackchannelDeps): BackchannelLogout {
  const { keys, sessions, clock, log } = deps;
  const policy: LogoutTokenPolicy = {
    issuer: config.oidcProvider,
    clientId: config.clientId,
    algorithms: config.jwtAlgorithms,
    leewaySeconds: config.jwtLeeway,
    maxAgeSeconds: deps.maxAgeSeconds ?? LOGOUT_TOKEN_MAX_AGE_SECONDS,
    clock,
  };

  return async function backchannelLogout(body, contentType) {
    const form = logoutTokenOf(body, contentType);
    if ('problem' in form) {
      log.info({ reason: form.problem }, 'back-channel logout refused');
      return error(400, 'invalid_request', form.problem);
    }
    const verified = await verifyLogoutToken(form.token, keys, policy);
    if (!verified.ok) {
      if (verified.unavailable) {
        log.warn({ reason: verified.reason }, 'back-channel logout: cannot verify the logout token now');
        return error(503, 'temporarily_unavailable', 'cannot verify logout tokens now; try again later');
      }
      log.info({ reason: verified.reason }, 'back-channel logout refused');
      return error(400, 'invalid_request', `invalid logout token: ${verified.reason}`);
    }
    const { claims } = verified;
    try {
      // Kept until the token is too old to be accepted anyway.
      const until = (claims.iat + policy.maxAgeSeconds + policy.leewaySeconds) * 1000;
      if (!(await sessions.store.claimOnce(claimKey('logout-jti', claims.iss, claims.jti), until, clock.now()))) {
        log.info({ reason: 'replayed jti' }, 'back-channel logout refused');
        return error(400, 'invalid_request', 'invalid logout token: this "jti" was already used');
      }
      const ended = await sessions.revoke(claims);
      log.info({ ended, by: claims.sid !== undefined ? 'sid' : 'sub' }, 'back-channel logout');
      return { status: 200, headers: [NO_STORE], body: '' };
    } catch (e) {
      log.error({ err: { name: (e as Error).name, code: codeOf(e) } }, 'back-channel logout: the session store is unavailable');
      return error(503, 'temporarily_unavailable', 'the session store is unavailable; try again later');
    }
  };
}
