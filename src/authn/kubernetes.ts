/**
 * Kubernetes service-account tokens (`KUBERNETES_AUTHN_ENABLED`), checked by a TokenReview
 * (`authentication.k8s.io/v1`) with `AUDIENCES` as `spec.audiences`, as oidc-authservice did.
 *
 * Which tokens are tried: only compact JWTs whose unverified `sub` is
 * `system:serviceaccount:<ns>:<name>` (bound and legacy secret tokens both have it). Every other
 * bearer (OIDC access/ID tokens, opaque tokens, session ids) is "not mine" at once and costs no
 * API call; an opaque token is never judged here.
 *
 * The review itself is the core client's (`kube/token-review.ts`, shared with the kube mode).
 * Outcomes: authenticated, no `status.error`, and `status.audiences` intersecting `AUDIENCES` → ok
 * (username, UID and groups as returned; the token's claims, now vouched for by the API server); an `exp` already
 * past, or a review error saying the token has expired → 401; any other unauthenticated answer →
 * not mine; the API server unreachable, timing out or answering an error status → unavailable
 * (the token is a service-account token, so only the API server can tell).
 *
 * Cache (by SHA-256 of the token): positives until the token's `exp` and at most
 * `maxCacheSeconds` (default 120 s, kube-apiserver's webhook cache TTL, so a deleted pod's token is
 * refused soon after); negatives ("not mine", "expired") for `negativeCacheSeconds` (default 10 s)
 * in a separate bounded map, so a repeated bad token costs one review per 10 s; failures are never
 * cached. Concurrent checks of one token share one review.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import type { KubeClient } from '../kube/client.js';
import { TokenReviewClient } from '../kube/token-review.js';
import type { Logger } from '../obs/log.js';
import { VerifiedTokenCache } from './jwt-cache.js';
import { peekJwt, type PeekedJwt } from './jwt-peek.js';
import { NOT_MINE, bearerFrom, type AuthnOutcome, type Authenticator } from '../judge/ports.js';

const SA_PREFIX = 'system:serviceaccount:';

export interface KubernetesAuthnDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The API server the TokenReviews go to (`KubeClient`). */
  readonly kube: Pick<KubeClient, 'post'>;
}

export interface KubernetesAuthnOptions {
  /** Positive cache size (default 10 000). */
  readonly cacheSize?: number;
  /** Longest a positive result is reused (default 120 s); never beyond the token's `exp`. */
  readonly maxCacheSeconds?: number;
  /** How long a negative result is reused (default 10 s; 0 = not cached). */
  readonly negativeCacheSeconds?: number;
  /** Negative cache size (default 1 000). */
  readonly negativeCacheSize?: number;
  /** TokenReview deadline (default 5 000 ms). */
  readonly timeoutMs?: number;
  /** `iss` values of other clusters' issuers (`jwtIssuers`): their tokens are the JWT authenticator's, never reviewed here. */
  readonly foreignIssuers?: readonly string[];
}

export type KubernetesAuthnConfig = Pick<Config, 'idTokenHeader' | 'audiences'>;

/** A compact JWT whose (unverified) subject is a service account. */
export function isServiceAccountJwt(jwt: PeekedJwt | undefined): jwt is PeekedJwt {
  const sub = jwt?.payload.sub;
  return typeof sub === 'string' && sub.startsWith(SA_PREFIX) && sub.length > SA_PREFIX.length;
}

const EXPIRED: AuthnOutcome = Object.freeze({ kind: 'invalid', reason: 'service-account token has expired', error: 'invalid_token' });

export class KubernetesAuthenticator implements Authenticator {
  readonly name = 'kubernetes';
  readonly #header: string;
  readonly #deps: KubernetesAuthnDeps;
  readonly #cache: VerifiedTokenCache;
  readonly #maxCacheMs: number;
  readonly #negativeMs: number;
  readonly #negativeMax: number;
  readonly #reviews: TokenReviewClient;
  readonly #negatives = new Map<string, { readonly outcome: AuthnOutcome; readonly untilMs: number }>();
  readonly #inflight = new Map<string, Promise<AuthnOutcome>>();
  readonly #foreign: ReadonlySet<string>;

  constructor(config: KubernetesAuthnConfig, deps: KubernetesAuthnDeps, opts: KubernetesAuthnOptions = {}) {
    this.#header = config.idTokenHeader.toLowerCase();
    this.#deps = deps;
    this.#cache = new VerifiedTokenCache(deps.clock, opts.cacheSize);
    this.#maxCacheMs = (opts.maxCacheSeconds ?? 120) * 1000;
    this.#negativeMs = (opts.negativeCacheSeconds ?? 10) * 1000;
    this.#negativeMax = Math.max(1, opts.negativeCacheSize ?? 1000);
    this.#foreign = new Set(opts.foreignIssuers);
    this.#reviews = new TokenReviewClient(deps.kube, { audiences: config.audiences, timeoutMs: opts.timeoutMs ?? 5000 });
  }

  authenticate(req: JudgeRequest): AuthnOutcome | Promise<AuthnOutcome> {
    const token = bearerFrom(req.headers[this.#header]);
    if (token === undefined) return NOT_MINE;
    const key = VerifiedTokenCache.keyOf(token);
    const cached = this.#cache.get(key);
    if (cached) return { kind: 'ok', identity: { ...cached, token } };
    const jwt = peekJwt(token);
    if (!isServiceAccountJwt(jwt) || (typeof jwt.payload.iss === 'string' && this.#foreign.has(jwt.payload.iss))) return NOT_MINE;
    const now = this.#deps.clock.now();
    const exp = typeof jwt.payload.exp === 'number' ? jwt.payload.exp * 1000 : undefined;
    if (exp !== undefined && exp <= now) return EXPIRED;
    const negative = this.#negatives.get(key);
    if (negative !== undefined) {
      if (negative.untilMs > now) return negative.outcome;
      this.#negatives.delete(key);
    }
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#review(req, token, key, jwt).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending.then((o) => (o.kind === 'ok' ? { kind: 'ok', identity: { ...o.identity, token } } : o));
  }

  async #review(req: JudgeRequest, token: string, key: string, jwt: PeekedJwt): Promise<AuthnOutcome> {
    const { log } = this.#deps;
    const answer = await this.#reviews.review(token);
    if (answer.kind === 'failed' && answer.status === undefined) {
      log.warn({ authenticator: this.name, requestId: req.requestId, error: answer.reason }, 'TokenReview failed: Kubernetes API server not reachable');
      return { kind: 'unavailable', reason: 'Kubernetes API server not reachable' };
    }
    if (answer.kind === 'failed') {
      const hint =
        answer.status === 401 || answer.status === 403 ? ' (is `create` on tokenreviews.authentication.k8s.io granted to this service account?)' : '';
      log.warn({ authenticator: this.name, requestId: req.requestId, status: answer.status }, `${answer.reason}${hint}`);
      return { kind: 'unavailable', reason: answer.reason };
    }
    if (answer.kind === 'unauthenticated') {
      log.debug({ authenticator: this.name, requestId: req.requestId, error: answer.error, reason: answer.reason }, 'TokenReview: not authenticated');
      return this.#negative(key, jwt, /token has expired/i.test(answer.error) ? EXPIRED : NOT_MINE);
    }
    const { user } = answer;
    const identity: Identity = {
      user: user.username,
      groups: Object.freeze([...user.groups]),
      claims: Object.freeze({ ...jwt.payload }),
      method: 'header',
      authenticator: this.name,
      ...(user.uid !== undefined ? { uid: user.uid } : {}),
    };
    const nowS = this.#deps.clock.now() / 1000;
    const exp = typeof jwt.payload.exp === 'number' ? jwt.payload.exp : Infinity;
    this.#cache.set(key, identity, Math.min(exp, nowS + this.#maxCacheMs / 1000));
    return { kind: 'ok', identity };
  }

  /** Remembers a negative outcome briefly (never beyond the token's `exp`), in a bounded map. */
  #negative(key: string, jwt: PeekedJwt, outcome: AuthnOutcome): AuthnOutcome {
    if (this.#negativeMs <= 0) return outcome;
    const now = this.#deps.clock.now();
    const exp = typeof jwt.payload.exp === 'number' ? jwt.payload.exp * 1000 : Infinity;
    const untilMs = Math.min(now + this.#negativeMs, exp);
    if (untilMs <= now) return outcome;
    this.#negatives.delete(key);
    while (this.#negatives.size >= this.#negativeMax) {
      const oldest = this.#negatives.keys().next();
      if (oldest.done) break;
      this.#negatives.delete(oldest.value);
    }
    this.#negatives.set(key, { outcome, untilMs });
    return outcome;
  }
}
