/**
 * What the provider said about a bearer token (userinfo, RFC 7662 introspection), shared by the
 * `opaque` and `introspection` authenticators: which bearers may be sent to the provider at all,
 * and the answers, cached (`CACHE_ENABLED`) under the SHA-256 of the token in a
 * `VerifiedTokenCache` for min(token `exp` when known, `CACHE_EXPIRATION_MINUTES`), bounded in
 * size. Only identities are cached — never a rejection, never a provider failure. Concurrent
 * lookups of one token share one provider call, cache or not.
 */
import type { Clock } from '../clock.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import { HttpClientError, type HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import { VerifiedTokenCache } from './jwt-cache.js';
import { peekJwt, type PeekedJwt } from './jwt-peek.js';
import { audienceIntersects, isLogoutToken } from './jwt-verify.js';
import { bearerFrom, type AuthnOutcome } from '../judge/ports.js';

/** The provider's answer about one token. `expSeconds`: the token's `exp`, when the answer says. */
export type Lookup =
  | { readonly kind: 'ok'; readonly identity: Identity; readonly expSeconds?: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface BearerCacheOptions {
  /** `CACHE_ENABLED`. Off: every lookup asks the provider (concurrent ones still share a call). */
  readonly enabled: boolean;
  /** `CACHE_EXPIRATION_MINUTES`, in seconds: no entry lives longer. */
  readonly ttlSeconds: number;
  readonly clock: Clock;
  /** Default 10 000. */
  readonly maxEntries?: number;
}

export class BearerLookups {
  readonly #cache: VerifiedTokenCache | undefined;
  readonly #ttlSeconds: number;
  readonly #clock: Clock;
  readonly #inflight = new Map<string, Promise<Lookup>>();

  constructor(opts: BearerCacheOptions) {
    this.#cache = opts.enabled ? new VerifiedTokenCache(opts.clock, opts.maxEntries) : undefined;
    this.#ttlSeconds = opts.ttlSeconds;
    this.#clock = opts.clock;
  }

  /** Cached entries (0 when the cache is off). */
  get size(): number {
    return this.#cache?.size ?? 0;
  }

  /** The SHA-256 of a token: the only form in which a token is kept. */
  static keyOf(token: string): string {
    return VerifiedTokenCache.keyOf(token);
  }

  /** The cached identity for a token key, while its entry lives (answers hits without a promise). */
  cached(key: string): Identity | undefined {
    return this.#cache?.get(key);
  }

  /**
   * What `ask()` says about the token with this key, joined with a lookup of the same token under
   * way; an `ok` answer is cached. `ask` should not throw; if it does, the answer is `unavailable`.
   */
  lookup(key: string, ask: () => Promise<Lookup>): Promise<Lookup> {
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = ask()
        .catch((e: unknown): Lookup => ({ kind: 'unavailable', reason: `lookup failed (${e instanceof Error ? e.name : 'error'})` }))
        .then((answer) => {
          if (answer.kind === 'ok') this.#remember(key, answer);
          return answer;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  #remember(key: string, answer: Extract<Lookup, { kind: 'ok' }>): void {
    if (!this.#cache) return;
    const bound = this.#clock.now() / 1000 + this.#ttlSeconds;
    const exp = answer.expSeconds;
    this.#cache.set(key, answer.identity, exp !== undefined && Number.isFinite(exp) ? Math.min(exp, bound) : bound);
  }
}

/** Which bearers an authenticator that asks the provider may send there. */
export interface ProviderBearerScope {
  /** `ID_TOKEN_HEADER`, lower-case. */
  readonly header: string;
  /** `OIDC_PROVIDER`: the only issuer whose JWTs go to its own endpoints. */
  readonly issuer: string;
  /** `CLIENT_ID`: JWTs for this audience are ID tokens … */
  readonly clientId: string;
  /** … left to the `id_token` authenticator when it is on (`IDTOKEN_AUTHN_ENABLED`). */
  readonly idTokenAuthn: boolean;
}

/**
 * The bearer to ask the provider about, or `undefined` when it is not ours to send: anything that
 * is not a JWT goes (that is what "opaque" means); a JWT goes only when its unverified `iss` is
 * the provider itself — another issuer's token (a Kubernetes service-account token, a partner's
 * token) is never handed to our provider — and it is not an ID token for this client that the
 * `id_token` authenticator verifies locally (unless it is typed as an access token). Logout
 * tokens never go.
 */
export function providerBearer(req: JudgeRequest, scope: ProviderBearerScope): string | undefined {
  const token = bearerFrom(req.headers[scope.header]);
  if (token === undefined) return undefined;
  const jwt = peekJwt(token);
  if (jwt === undefined) return token;
  if (isLogoutToken(jwt) || jwt.payload.iss !== scope.issuer) return undefined;
  if (scope.idTokenAuthn && audienceIntersects(jwt.payload, [scope.clientId]) && !typedAsAccessToken(jwt)) return undefined;
  return token;
}

/** RFC 9068 `typ: at+jwt`, or Keycloak's `typ: Bearer` claim. */
function typedAsAccessToken(jwt: PeekedJwt): boolean {
  const typ = typeof jwt.header.typ === 'string' ? jwt.header.typ.toLowerCase() : '';
  return typ === 'at+jwt' || typ === 'application/at+jwt' || jwt.payload['typ'] === 'Bearer';
}

/** The unverified `exp` of a JWT-shaped bearer (only ever used to shorten a cache entry). */
export function jwtExp(token: string): number | undefined {
  const exp = peekJwt(token)?.payload.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}

/** What the `opaque` and `introspection` authenticators are given. */
export interface ProviderTokenDeps {
  /** The main provider's discovery (`IssuerRegistry.primary`): where its endpoints are. */
  readonly discovery: { readonly metadata: Readonly<Record<string, unknown>> | undefined };
  /** Our HTTP client (`CA_BUNDLE`, timeout, size limit). */
  readonly http: Pick<HttpClient, 'request'>;
  readonly clock: Clock;
  readonly log: Logger;
}

/** A provider rejection: 401, unless a later authenticator vouches (the bearer may be a session id). */
export function rejected(reason: string): AuthnOutcome {
  return { kind: 'invalid', reason, error: 'invalid_token', fallThrough: true };
}

/** The endpoint URL a discovered provider advertises under `member`, if it is an http(s) URL. */
export function endpointOf(deps: ProviderTokenDeps, member: string): string | undefined {
  const v = deps.discovery.metadata?.[member];
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** A transport failure, as a short token-free reason. */
export function transportReason(what: string, e: unknown): string {
  return e instanceof HttpClientError ? `${what}: ${e.code}` : `${what}: ${e instanceof Error ? e.name : 'error'}`;
}
