/**
 * Keeps a session's access token fresh: shortly before it expires (`TOKEN_REFRESH_MARGIN`) the
 * refresh token is redeemed — once per session even under concurrent checks: one promise per
 * session in this process, and a store lock across processes and replicas (whoever does not get
 * the lock keeps serving the current session). A provider that cannot be reached never ends a
 * session; a refresh the provider rejects (`invalid_grant`, 401) does.
 */
import * as oidc from 'openid-client';
import type { Clock } from '../clock.js';
import type { Logger } from '../obs/log.js';
import type { Session } from '../sessions/session.js';
import { Sessions } from '../sessions/sessions.js';
import type { OidcClient } from './client.js';
import { forwardExpired, forwardRefreshWanted, type ForwardFreshness } from './forward-freshness.js';
import type { OverageGroups } from './entra/overage.js';

/** `stale`: a refresh was due but did not happen (provider out of reach, another replica holds the lock). */
export type RefreshOutcome = { readonly kind: 'live'; readonly session: Session; readonly stale?: true } | { readonly kind: 'ended' };

export interface RefresherDeps {
  readonly client: OidcClient;
  readonly sessions: Sessions;
  readonly clock: Clock;
  readonly log: Logger;
  readonly marginSeconds: number;
  /** How long the cross-replica refresh lock is held at most. */
  readonly lockMs?: number;
  /** Forwarded tokens (FORWARD_*_TOKEN_HEADER) that must stay valid: a refresh is also due when one is about to expire. */
  readonly forward?: ForwardFreshness;
  /** Entra ID group overage: groups read from Graph are read again with the new access token. */
  readonly overage?: OverageGroups;
}

/** True when the provider said no (the refresh token is dead), as opposed to "could not ask". */
export function rejectedByProvider(e: unknown): boolean {
  if (e instanceof oidc.ResponseBodyError) return e.status >= 400 && e.status < 500;
  if (e instanceof oidc.WWWAuthenticateChallengeError) return e.status === 401;
  return false;
}

export class Refresher {
  readonly #deps: RefresherDeps;
  readonly #inFlight = new Map<string, Promise<RefreshOutcome>>();
  /** Refresh-token grants performed by this process (for tests and metrics). */
  grants = 0;

  constructor(deps: RefresherDeps) {
    this.#deps = deps;
  }

  /** Whether this session's access token (or a forwarded token) is due for a refresh now. */
  due(session: Session): boolean {
    if (session.refreshToken === undefined) return false;
    const now = this.#deps.clock.now();
    if (session.accessExpiresAt !== undefined && session.accessExpiresAt - now <= this.#deps.marginSeconds * 1000) return true;
    return forwardRefreshWanted(this.#deps.forward, session, now);
  }

  /** Which forwarded token of this session has expired (it must not go upstream), if any. */
  expiredForward(session: Session): 'id_token' | 'access_token' | undefined {
    return forwardExpired(this.#deps.forward, session, this.#deps.clock.now());
  }

  /** The session to use: refreshed if it was due, unchanged when the provider is out of reach. */
  ensureFresh(id: string, session: Session): Promise<RefreshOutcome> {
    if (!this.due(session)) return Promise.resolve({ kind: 'live', session });
    let p = this.#inFlight.get(id);
    if (!p) {
      p = this.#refresh(id, session).finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, p);
    }
    return p;
  }

  async #refresh(id: string, current: Session): Promise<RefreshOutcome> {
    const { sessions, clock, log, client } = this.#deps;
    const configuration = client.configuration();
    if (!configuration) return { kind: 'live', session: current, stale: true };
    const lock = await sessions.store.lock(Sessions.lockName(id), this.#deps.lockMs ?? 30_000, clock.now());
    if (!lock) return { kind: 'live', session: current, stale: true };
    try {
      // Another replica may have refreshed (or ended) it while we waited for the lock.
      const latest = await sessions.load(id, { fresh: true });
      if (!latest) return { kind: 'ended' };
      if (!this.due(latest)) return { kind: 'live', session: latest };
      let tokens: oidc.TokenEndpointResponse;
      try {
        this.grants++;
        tokens = await oidc.refreshTokenGrant(configuration, latest.refreshToken!);
      } catch (e) {
        if (rejectedByProvider(e)) {
          log.info({ user: latest.user }, 'the provider rejected the refresh token; the session ends');
          await sessions.delete(id);
          return { kind: 'ended' };
        }
        log.warn({ err: { name: (e as Error).name, code: (e as { code?: string }).code } }, 'token refresh failed; the session is kept');
        return { kind: 'live', session: latest, stale: true };
      }
      const now = clock.now();
      const { accessExpiresAt: _old, idTokenKept: _kept, ...rest } = latest;
      const refreshed: Session = {
        ...rest,
        accessToken: tokens.access_token,
        ...(tokens.refresh_token !== undefined ? { refreshToken: tokens.refresh_token } : {}),
        // No new ID token: the old one is kept (and forwarded while it is valid), and not asked for again.
        ...(tokens.id_token !== undefined ? { idToken: tokens.id_token } : latest.idToken !== undefined ? { idTokenKept: true } : {}),
        ...(tokens.expires_in !== undefined ? { accessExpiresAt: now + tokens.expires_in * 1000 } : {}),
      };
      const next = this.#deps.overage ? await this.#deps.overage.afterRefresh(refreshed) : refreshed;
      // Ended (logout, back-channel logout, revocation) while the provider answered: stays ended.
      if (!(await sessions.update(id, next))) return { kind: 'ended' };
      return { kind: 'live', session: next };
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}
