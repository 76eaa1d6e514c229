/**
 * Entra ID's group overage: a user in too many groups gets a token without `groups`, saying so with
 * `_claim_names.groups` (+ `_claim_sources`) or `hasgroups: true`. Sessions then read their groups
 * from Microsoft Graph (`graph-groups.ts`) with their own access token — at login, after each
 * refresh — and keep them in the session. When Graph cannot answer, the session is marked pending:
 * its checks answer 503 (`groups-unavailable`) and Graph is asked again (once per session at a
 * time, not before `GRAPH_RETRY_INTERVAL` or Graph's `Retry-After`) — a pending session is never
 * judged as having no groups. The endpoint the token names in `_claim_sources` is never called (it
 * is the retired Azure AD Graph, and a token must not choose where its holder's token goes).
 */
import type { Clock } from '../../clock.js';
import { codeOf } from '../../errors.js';
import type { Logger } from '../../obs/log.js';
import type { Session } from '../../sessions/session.js';
import type { Sessions } from '../../sessions/sessions.js';
import { GraphGroupsError, readGraphGroups, type GraphGroupsOptions } from './graph-groups.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The groups claim is absent and the token says they did not fit (only when `groups` is one of `groupsClaim`'s sources). */
export function hasGroupOverage(claims: Readonly<Record<string, unknown>>, groupsClaim: string): boolean {
  if (!groupsClaim.split(',').some((c) => c.trim() === 'groups') || Object.hasOwn(claims, 'groups')) return false;
  if (claims['hasgroups'] === true || claims['hasgroups'] === 'true') return true;
  const names = claims['_claim_names'];
  const sources = claims['_claim_sources'];
  if (!isObj(names) || typeof names['groups'] !== 'string') return false;
  return isObj(sources) && Object.hasOwn(sources, names['groups']);
}

export type PendingOutcome = { readonly kind: 'ok'; readonly session: Session } | { readonly kind: 'unavailable'; readonly reason: string };

export interface OverageDeps extends GraphGroupsOptions {
  readonly groupsClaim: string;
  readonly retryIntervalSeconds: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export class OverageGroups {
  readonly #deps: OverageDeps;
  readonly #inFlight = new Map<string, Promise<PendingOutcome>>();
  /** Session id → earliest next Graph call (epoch ms) after a failure. */
  readonly #notBefore = new Map<string, number>();
  /** Graph calls made (for tests). */
  calls = 0;

  constructor(deps: OverageDeps) {
    this.#deps = deps;
  }

  /** A new session (at login): its groups from Graph when its claims say so; pending when Graph fails. */
  async atLogin(session: Session): Promise<Session> {
    if (!hasGroupOverage(session.claims, this.#deps.groupsClaim)) return session;
    const read = await this.#read(session);
    return read.ok ? this.#withGroups(session, read.groups) : this.#pending(session);
  }

  /** After a refresh: read again with the new access token; when Graph fails, the groups read before stay. */
  async afterRefresh(session: Session): Promise<Session> {
    if (session.groupsFrom !== 'graph') return session;
    const read = await this.#read(session);
    // Failed (logged): a pending session stays pending; read groups stay those of the last good read.
    return read.ok ? this.#withGroups(session, read.groups) : session;
  }

  /** A check of a pending session: read the groups now (stored with the session), or 503. */
  resolve(id: string, session: Session, sessions: Sessions): Promise<PendingOutcome> {
    let p = this.#inFlight.get(id);
    if (!p) {
      p = this.#resolve(id, session, sessions).finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, p);
    }
    return p;
  }

  async #resolve(id: string, session: Session, sessions: Sessions): Promise<PendingOutcome> {
    const now = this.#deps.clock.now();
    const wait = this.#notBefore.get(id);
    if (wait !== undefined && now < wait) return { kind: 'unavailable', reason: 'groups-unavailable: Graph is asked again later' };
    const read = await this.#read(session);
    if (!read.ok) {
      if (this.#notBefore.size >= 10_000) this.#notBefore.delete(this.#notBefore.keys().next().value!);
      this.#notBefore.set(id, now + Math.max(this.#deps.retryIntervalSeconds, read.retryAfterSeconds ?? 0) * 1000);
      return { kind: 'unavailable', reason: `groups-unavailable: ${read.reason}` };
    }
    this.#notBefore.delete(id);
    // Onto the stored session: a refresh meanwhile (new tokens) must not be written over.
    const latest = await sessions.load(id, { fresh: true });
    if (!latest) return { kind: 'unavailable', reason: 'groups-unavailable: the session ended meanwhile' };
    if (latest.groupsPending !== true) return { kind: 'ok', session: latest };
    const next = this.#withGroups(latest, read.groups);
    if (!(await sessions.update(id, next))) return { kind: 'unavailable', reason: 'groups-unavailable: the session ended meanwhile' };
    return { kind: 'ok', session: next };
  }

  async #read(session: Session): Promise<{ ok: true; groups: readonly string[] } | { ok: false; reason: string; retryAfterSeconds?: number }> {
    const { log, clock } = this.#deps;
    if (session.accessToken === undefined) return { ok: false, reason: 'the session has no access token for Graph' };
    this.calls++;
    try {
      const groups = await readGraphGroups(session.accessToken, this.#deps, clock.now());
      log.info({ user: session.user, groups: groups.length }, 'groups read from Microsoft Graph (group overage)');
      return { ok: true, groups };
    } catch (e) {
      if (!(e instanceof GraphGroupsError)) throw e;
      log.warn({ user: session.user, err: { message: e.message, code: codeOf(e) } }, 'groups could not be read from Microsoft Graph');
      return { ok: false, reason: e.message, ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}) };
    }
  }

  #withGroups(session: Session, groups: readonly string[]): Session {
    const { groupsPending: _p, ...rest } = session;
    return { ...rest, groups, groupsFrom: 'graph' };
  }

  #pending(session: Session): Session {
    return { ...session, groups: [], groupsFrom: 'graph', groupsPending: true };
  }
}
