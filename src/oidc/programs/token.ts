/**
 * `POST <prefix>/api/token` (RFC 6749 §3.2): a program exchanges what it got for a program
 * credential — the loopback login's one-time code with its PKCE verifier and the same
 * `redirect_uri` (`authorization_code`), or its device code once the user approved
 * (`urn:ietf:params:oauth:grant-type:device_code`, RFC 8628 §3.4, `device.ts`). Errors are
 * RFC 6749 §5.2 JSON. `POST <prefix>/api/revoke` (RFC 7009): ends a program credential; it answers
 * 200 whatever the token was, so it tells nothing about tokens.
 */
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { Session } from '../../sessions/session.js';
import type { Sessions } from '../../sessions/sessions.js';
import { redeemCode } from './codes.js';
import { tokenBody } from './credential.js';
import type { FormHandler, FormReply } from './http.js';
import { jsonReply, oauthError } from './http.js';
import { verifierMatches } from './loopback.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface TokenDeps {
  readonly sessions: Sessions;
  readonly clock: Clock;
  readonly log: Logger;
  /** The device grant (`device.ts`); absent: not offered. */
  readonly deviceGrant?: FormHandler;
}

const unavailable = (): FormReply => oauthError(503, 'temporarily_unavailable');

export function createTokenEndpoint(deps: TokenDeps): FormHandler {
  const { sessions, clock } = deps;
  async function authorizationCode(form: URLSearchParams): Promise<FormReply> {
    const code = form.get('code');
    const verifier = form.get('code_verifier');
    if (code === null || verifier === null || form.get('redirect_uri') === null)
      return oauthError(400, 'invalid_request', 'code, code_verifier and redirect_uri are required');
    let pending;
    try {
      pending = await redeemCode(sessions.store, clock, code);
    } catch {
      return unavailable();
    }
    if (pending === undefined) return oauthError(400, 'invalid_grant', 'the code is unknown, expired or already used');
    if (form.get('redirect_uri') !== pending.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri differs from the login’s');
    if (!verifierMatches(verifier, pending.challenge)) return oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    return issueCredential(deps, pending.session);
  }

  return async (form, req) => {
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') return authorizationCode(form);
    if (grant === DEVICE_GRANT && deps.deviceGrant !== undefined) return deps.deviceGrant(form, req);
    if (grant === null) return oauthError(400, 'invalid_request', 'grant_type is required');
    return oauthError(400, 'unsupported_grant_type');
  };
}

/** Stores a program credential, its lifetime counted from now (not from when its code or approval was made), and answers it. */
export async function issueCredential(deps: Pick<TokenDeps, 'sessions' | 'clock' | 'log'>, waiting: Session): Promise<FormReply> {
  const now = deps.clock.now();
  const session: Session = { ...waiting, createdAt: now, expiresAt: now + (waiting.expiresAt - waiting.createdAt) };
  let id: string;
  try {
    id = await deps.sessions.create(session);
  } catch {
    return unavailable();
  }
  deps.log.info({ user: session.user, client: session.program?.client, via: session.program?.via }, 'program credential issued');
  return { ...jsonReply(200, {}), body: tokenBody(id, session, now) };
}

export function createRevokeEndpoint(deps: Pick<TokenDeps, 'sessions' | 'log'>): FormHandler {
  return async (form) => {
    const token = form.get('token');
    if (token === null) return oauthError(400, 'invalid_request', 'token is required');
    try {
      const session = await deps.sessions.load(token, { fresh: true });
      // Only program credentials: a browser session ends at the logout route.
      if (session?.program !== undefined && (await deps.sessions.delete(token)))
        deps.log.info({ user: session.user, client: session.program.client }, 'program credential revoked');
    } catch {
      return unavailable();
    }
    return jsonReply(200, {});
  };
}
