/**
 * Opaque access tokens through userinfo (`ACCESS_TOKEN_AUTHN=opaque`, as oidc-authservice): the
 * bearer from `ID_TOKEN_HEADER` goes to the provider's discovered `userinfo_endpoint`.
 * - 200: the claims; `USERID_CLAIM` and `GROUPS_CLAIM` are both required (missing → 401), and
 *   `email_verified` may be a boolean or the strings "true"/"false" (Apple, PayPal, Cognito).
 * - 400/401/403: the provider rejects the token → 401 `invalid_token`, unless a later
 *   authenticator vouches (the bearer may be a session id in the same header). oidc-authservice
 *   fell through to a login redirect instead.
 *   UserInfo takes access tokens only: a refresh token presented as a bearer ends here (tested
 *   against oidc-provider; Keycloak checks its `typ` the same way).
 * - not discovered yet, unreachable, timeout, 5xx, anything else → unavailable (503), never an allow.
 * Which bearers are sent at all: see `providerBearer`. Answers are cached per `CACHE_ENABLED`
 * (bearer-cache.ts): userinfo does not say when a token expires, so an entry lives
 * `CACHE_EXPIRATION_MINUTES`, or less when a JWT-shaped token's `exp` comes first.
 */
import type { Config } from '../config/schema.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import {
  BearerLookups,
  endpointOf,
  jwtExp,
  providerBearer,
  rejected,
  transportReason,
  type Lookup,
  type ProviderBearerScope,
  type ProviderTokenDeps,
} from './bearer-cache.js';
import { NOT_MINE, groupsFrom, userIdFrom, type AuthnOutcome, type Authenticator } from '../judge/ports.js';

export type OpaqueConfig = Pick<
  Config,
  'idTokenHeader' | 'oidcProvider' | 'clientId' | 'idtokenAuthnEnabled' | 'userIdClaim' | 'groupsClaim' | 'cacheEnabled' | 'cacheExpirationMinutes'
> &
  Partial<Pick<Config, 'groupsStripPrefix'>>;

/** The bearer scope both provider-asking authenticators use. */
export function bearerScope(config: OpaqueConfig): ProviderBearerScope {
  return { header: config.idTokenHeader.toLowerCase(), issuer: config.oidcProvider, clientId: config.clientId, idTokenAuthn: config.idtokenAuthnEnabled };
}

export function lookupsFor(config: OpaqueConfig, deps: ProviderTokenDeps, cacheSize?: number): BearerLookups {
  return new BearerLookups({
    enabled: config.cacheEnabled,
    ttlSeconds: config.cacheExpirationMinutes * 60,
    clock: deps.clock,
    ...(cacheSize === undefined ? {} : { maxEntries: cacheSize }),
  });
}

/** A JSON object body, or `undefined`. */
export function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Userinfo claims with `email_verified` as a boolean; a string reason when it cannot be read. */
export function normalizeUserinfo(claims: Record<string, unknown>): Record<string, unknown> | string {
  const ev = claims['email_verified'];
  if (ev === undefined || typeof ev === 'boolean') return claims;
  if (ev === 'true' || ev === 'false') return { ...claims, email_verified: ev === 'true' };
  return 'malformed "email_verified" claim';
}

export class OpaqueTokenAuthenticator implements Authenticator {
  readonly name = 'access_token';
  readonly #config: OpaqueConfig;
  readonly #deps: ProviderTokenDeps;
  readonly #scope: ProviderBearerScope;
  readonly #lookups: BearerLookups;

  constructor(config: OpaqueConfig, deps: ProviderTokenDeps, cacheSize?: number) {
    this.#config = config;
    this.#deps = deps;
    this.#scope = bearerScope(config);
    this.#lookups = lookupsFor(config, deps, cacheSize);
  }

  /** Cached answers (0 with CACHE_ENABLED=false). */
  get cacheSize(): number {
    return this.#lookups.size;
  }

  authenticate(req: JudgeRequest): AuthnOutcome | Promise<AuthnOutcome> {
    const token = providerBearer(req, this.#scope);
    if (token === undefined) return NOT_MINE;
    const key = BearerLookups.keyOf(token);
    const hit = this.#lookups.cached(key);
    if (hit) return { kind: 'ok', identity: { ...hit, token } };
    return this.#lookups.lookup(key, () => this.#ask(token)).then((answer) => this.#outcome(req, answer, token));
  }

  async #ask(token: string): Promise<Lookup> {
    const url = endpointOf(this.#deps, 'userinfo_endpoint');
    if (url === undefined) {
      return { kind: 'unavailable', reason: this.#deps.discovery.metadata ? 'the provider advertises no userinfo_endpoint' : 'provider not discovered yet' };
    }
    let res;
    try {
      res = await this.#deps.http.request(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, span: 'oidc.userinfo' });
    } catch (e) {
      return { kind: 'unavailable', reason: transportReason('userinfo', e) };
    }
    if (res.status === 400 || res.status === 401 || res.status === 403)
      return { kind: 'invalid', reason: `the provider rejected the token (userinfo ${res.status})` };
    if (res.status !== 200) return { kind: 'unavailable', reason: `userinfo answered ${res.status}` };
    const body = jsonObject(res.body);
    if (body === undefined) return { kind: 'unavailable', reason: 'userinfo did not answer a JSON object (signed userinfo is not supported)' };
    const claims = normalizeUserinfo(body);
    if (typeof claims === 'string') return { kind: 'invalid', reason: claims };
    const { userIdClaim, groupsClaim, groupsStripPrefix } = this.#config;
    const user = userIdFrom(claims, userIdClaim);
    if (user === undefined) return { kind: 'invalid', reason: `userinfo has no string "${userIdClaim}" claim` };
    const groups = groupsFrom(claims, groupsClaim, groupsStripPrefix);
    if (groups === undefined) return { kind: 'invalid', reason: `userinfo has no "${groupsClaim}" list` };
    // Frozen: cache hits hand the same object to every request.
    const identity: Identity = { user, groups, claims: Object.freeze(claims), method: 'header', authenticator: this.name };
    const exp = jwtExp(token);
    return { kind: 'ok', identity, ...(exp === undefined ? {} : { expSeconds: exp }) };
  }

  #outcome(req: JudgeRequest, answer: Lookup, token: string): AuthnOutcome {
    switch (answer.kind) {
      case 'ok':
        return { kind: 'ok', identity: { ...answer.identity, token } };
      case 'invalid':
        this.#deps.log.debug({ authenticator: this.name, requestId: req.requestId, reason: answer.reason }, 'opaque token rejected');
        return rejected(answer.reason);
      case 'unavailable':
        this.#deps.log.debug({ authenticator: this.name, requestId: req.requestId, reason: answer.reason }, 'userinfo unavailable');
        return { kind: 'unavailable', reason: answer.reason };
    }
  }
}
