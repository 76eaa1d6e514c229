/**
 * Browser sessions: the session id from `AUTH_HEADER` (optional `Bearer `; Auth-Method `header`),
 * then from the session cookie (Auth-Method `cookie`), as oidc-authservice. The session's tokens
 * are refreshed when due; with `STRICT_SESSION_VALIDATION` userinfo is asked on every check and
 * only its 401 ends the session. A program credential (oidc/programs/) is a session too, presented
 * as `Authorization: Bearer <credential>`: its identity's method and authenticator are `program`. A store that does not answer makes the check 503 — never a
 * logout, never an allow.
 */
import * as oidc from 'openid-client';
import { codeOf } from '../errors.js';
import type { Identity, Strength } from '../judge/ports.js';
import { header, type JudgeRequest } from '../judge/ports.js';
import type { Logger } from '../obs/log.js';
import type { OidcClient } from '../oidc/client.js';
import type { OverageGroups } from '../oidc/entra/overage.js';
import type { Refresher } from '../oidc/refresh.js';
import type { Session } from '../sessions/session.js';
import type { Sessions } from '../sessions/sessions.js';
import { isWellFormedId } from '../sessions/ticket.js';
import { cookieValues } from '../net/cookies.js';
import { bearerFrom } from '../judge/ports.js';
import { NOT_MINE, type Authenticator, type AuthnOutcome } from '../judge/ports.js';

export interface SessionAuthnConfig {
  readonly authHeader: string;
  readonly sessionCookieName: string;
  readonly strictSessionValidation: boolean;
  /** The provider this authenticator serves (`providers:`); absent: `default`. A session of another provider never vouches here. */
  readonly provider?: string;
}

export interface SessionAuthnDeps {
  readonly sessions: Sessions;
  readonly refresher: Refresher;
  readonly client: OidcClient;
  readonly log: Logger;
  /** Entra ID group overage: a session whose groups Graph has not given yet is resolved here, or 503. */
  readonly overage?: OverageGroups;
}

type Candidate = readonly [id: string, method: 'header' | 'cookie'];

/** Session ids tried per request (a browser legitimately sends one, rarely two or three). */
export const MAX_CANDIDATES = 4;

export class SessionAuthenticator implements Authenticator {
  readonly name = 'session';
  readonly #config: SessionAuthnConfig;
  readonly #deps: SessionAuthnDeps;
  readonly #authHeader: string;

  constructor(config: SessionAuthnConfig, deps: SessionAuthnDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#authHeader = config.authHeader.toLowerCase();
  }

  /**
   * The session ids to try: the header's, then the cookie's (several when Path/Domain variants
   * coexist) — at most MAX_CANDIDATES, so a Cookie header stuffed with ids costs a few store reads,
   * not hundreds.
   */
  #candidates(req: JudgeRequest): Candidate[] {
    const out: Candidate[] = [];
    const fromHeader = bearerFrom(header(req, this.#authHeader));
    if (fromHeader !== undefined && isWellFormedId(fromHeader)) out.push([fromHeader, 'header']);
    for (const v of cookieValues(header(req, 'cookie'), this.#config.sessionCookieName)) {
      if (out.length >= MAX_CANDIDATES) break;
      if (isWellFormedId(v)) out.push([v, 'cookie']);
    }
    return out;
  }

  async authenticate(req: JudgeRequest): Promise<AuthnOutcome> {
    return (await this.find(req)).outcome;
  }

  /** The outcome, and the session that vouched (for `<prefix>/userinfo`, which also tells when it ends). */
  async find(req: JudgeRequest): Promise<{ readonly outcome: AuthnOutcome; readonly session?: Session }> {
    const candidates = this.#candidates(req);
    if (candidates.length === 0) return { outcome: NOT_MINE };
    let stale: string | undefined;
    try {
      for (const [id, method] of candidates) {
        const found = await this.#deps.sessions.load(id);
        // A session made by another provider's login is no session here (its id in this provider's cookie included).
        if (!found || found.provider !== this.#config.provider) continue;
        const fresh = await this.#deps.refresher.ensureFresh(id, found);
        if (fresh.kind === 'ended') continue;
        // A forwarded token (FORWARD_*_TOKEN_HEADER) that expired and could not be renewed never goes upstream: fail closed.
        const expired = this.#deps.refresher.expiredForward(fresh.session);
        if (expired !== undefined) {
          if (fresh.stale) stale ??= `the forwarded ${expired} expired and the provider could not renew it now`;
          else
            this.#deps.log.debug(
              { user: fresh.session.user, forwarded: expired },
              'the forwarded token expired and cannot be renewed; the session cannot vouch',
            );
          continue;
        }
        if (this.#config.strictSessionValidation && !(await this.#stillValid(id, fresh.session))) continue;
        let session = fresh.session;
        if (session.groupsPending === true) {
          const resolved = this.#deps.overage ? await this.#deps.overage.resolve(id, session, this.#deps.sessions) : undefined;
          if (resolved?.kind !== 'ok') return { outcome: { kind: 'unavailable', reason: resolved?.reason ?? 'groups-unavailable' } };
          session = resolved.session;
        }
        return { outcome: { kind: 'ok', identity: identityOf(id, session, method) }, session };
      }
    } catch (e) {
      return { outcome: { kind: 'unavailable', reason: `session store: ${(e as Error).name}` } };
    }
    return { outcome: stale === undefined ? NOT_MINE : { kind: 'unavailable', reason: stale } };
  }

  /** Strict mode: userinfo with the session's access token; only a 401 ends the session. */
  async #stillValid(id: string, session: Session): Promise<boolean> {
    const configuration = this.#deps.client.configuration();
    if (!configuration || session.accessToken === undefined || !this.#deps.client.advertises('userinfo_endpoint')) return true;
    try {
      await oidc.fetchUserInfo(configuration, session.accessToken, session.sub);
      return true;
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      if (status !== 401) {
        this.#deps.log.warn({ err: { name: (e as Error).name, code: codeOf(e) } }, 'strict session validation: userinfo failed; the session is kept');
        return true;
      }
      this.#deps.log.info({ user: session.user }, 'strict session validation: the provider revoked the access; the session ends');
      await this.#deps.sessions.delete(id);
      return false;
    }
  }
}

const NOT_RECORDED: Strength = Object.freeze({});

export function identityOf(id: string, s: Session, method: 'header' | 'cookie'): Identity {
  return {
    user: s.user,
    groups: s.groups,
    claims: s.claims,
    // A program credential says so wherever it is judged, logged and counted (rules' `programs: false`).
    method: s.program === undefined ? method : 'program',
    authenticator: s.program === undefined ? 'session' : 'program',
    ...(s.idToken !== undefined ? { token: s.idToken } : {}),
    ...(s.accessToken !== undefined ? { accessToken: s.accessToken } : {}),
    sessionId: id,
    // Always set for a session (empty for one recorded without them): its claims never stand in for it.
    strength:
      s.acr === undefined && s.amr === undefined && s.authTime === undefined && s.stepUp === undefined
        ? NOT_RECORDED
        : {
            ...(s.acr !== undefined ? { acr: s.acr } : {}),
            ...(s.amr !== undefined ? { amr: s.amr } : {}),
            ...(s.authTime !== undefined ? { authTime: s.authTime } : {}),
            ...(s.stepUp !== undefined ? { asked: s.stepUp, loginAt: s.createdAt } : {}),
          },
  };
}
