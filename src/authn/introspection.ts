/**
 * Access tokens checked by RFC 7662 introspection (`ACCESS_TOKEN_AUTHN=introspection`): the bearer
 * from `ID_TOKEN_HEADER` is POSTed (`token`, `token_type_hint=access_token`) to `INTROSPECTION_URL`
 * or the discovered `introspection_endpoint`, the client authenticated as at the token endpoint
 * (`TOKEN_ENDPOINT_AUTH_METHOD` with `CLIENT_ID`/`CLIENT_SECRET`).
 * - `active: false` → 401 `invalid_token` (unless a later authenticator vouches: the bearer may be
 *   a session id in the same header). So are an answer that does not name an access token (see
 *   `tokenTypeProblem`: a refresh token is active too, and oidc-provider says so only by leaving
 *   `token_type` out), a sender-constrained token (`cnf`: we cannot check its proof), and no user id.
 * - The identity: `USERID_CLAIM`, else `username`, else `sub`; groups from `GROUPS_CLAIM` when
 *   present; the whole response as claims.
 * - On every request, cache hit or not: `exp`/`nbf` (with `JWT_LEEWAY`), then
 *   `INTROSPECTION_REQUIRED_SCOPES` (all in `scope`) and `INTROSPECTION_AUDIENCES` (meets `aud`),
 *   read from the cached response itself — the cache never stands in for these checks.
 * - Endpoint unreachable, 5xx, our client refused (401/403: a configuration problem, logged), or a
 *   malformed answer → unavailable (503), never an allow.
 * Own form POST rather than openid-client's `tokenIntrospection`: every status is classified
 * here (a refused client is not a refused token), and `INTROSPECTION_URL` needs no second client
 * configuration. Client authentication is encoded as openid-client does it (RFC 6749 §2.3.1).
 */
import type { Config } from '../config/schema.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import {
  BearerLookups,
  endpointOf,
  providerBearer,
  rejected,
  transportReason,
  type Lookup,
  type ProviderBearerScope,
  type ProviderTokenDeps,
} from './bearer-cache.js';
import { bearerScope, jsonObject, lookupsFor, type OpaqueConfig } from './opaque.js';
import { NOT_MINE, groupsFrom, userIdFrom, type AuthnOutcome, type Authenticator } from '../judge/ports.js';

export type IntrospectionConfig = OpaqueConfig &
  Pick<
    Config,
    | 'clientSecret'
    | 'tokenEndpointAuthMethod'
    | 'introspectionUrl'
    | 'introspectionRequiredScopes'
    | 'introspectionAudiences'
    | 'introspectionTokenTypeRequired'
    | 'jwtLeeway'
  >;

/** What every request is checked against, also on cache hits. */
export interface IntrospectionPolicy {
  readonly requiredScopes: readonly string[];
  readonly audiences: readonly string[];
  readonly leewaySeconds: number;
}

/** Why an introspected token may not be used now, or `undefined` when it may. */
export function policyProblem(claims: Readonly<Record<string, unknown>>, policy: IntrospectionPolicy, nowMs: number): string | undefined {
  const now = nowMs / 1000;
  const { exp, nbf } = claims;
  if (typeof exp === 'number' && exp + policy.leewaySeconds <= now) return 'token expired';
  if (typeof nbf === 'number' && nbf - policy.leewaySeconds > now) return 'token not valid yet';
  if (policy.requiredScopes.length > 0) {
    const granted = new Set(typeof claims['scope'] === 'string' ? claims['scope'].split(' ') : []);
    const missing = policy.requiredScopes.filter((s) => !granted.has(s));
    if (missing.length > 0) return `token lacks scope ${missing.join(' ')}`;
  }
  if (policy.audiences.length > 0) {
    const aud = claims['aud'];
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && policy.audiences.includes(a))) return 'token audience not accepted';
  }
  return undefined;
}

/** RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic; or both in the body. */
export function clientAuthentication(config: Pick<Config, 'clientId' | 'clientSecret' | 'tokenEndpointAuthMethod'>): {
  readonly headers: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, string>>;
} {
  if (config.tokenEndpointAuthMethod === 'client_secret_post')
    return { headers: {}, params: { client_id: config.clientId, client_secret: config.clientSecret } };
  const enc = (s: string): string => new URLSearchParams({ v: s }).toString().slice(2);
  const basic = Buffer.from(`${enc(config.clientId)}:${enc(config.clientSecret)}`).toString('base64');
  return { headers: { authorization: `Basic ${basic}` }, params: {} };
}

/** RFC 7662 `token_type` values (lower case) naming an access token: RFC 6750 `Bearer`, and what some providers send instead. */
const ACCESS_TOKEN_TYPES: ReadonlySet<string> = new Set(['bearer', 'access_token', 'urn:ietf:params:oauth:token-type:access_token']);

const lower = (v: unknown): string | undefined => (typeof v === 'string' ? v.toLowerCase() : undefined);

/**
 * Why an active answer is not about a bearer access token, or `undefined` when it is. Three
 * members may say what the token is; each one present must name an access token: `token_type`
 * (RFC 7662: `Bearer`; also `access_token` and the RFC 8693 access-token URN), Keycloak's `typ`
 * (`Bearer`; `Refresh`, `Offline`, `ID` otherwise) and Ory Hydra's `token_use` (`access_token`;
 * Hydra says `token_type: bearer` for refresh tokens too). When none is present — how
 * oidc-provider describes a refresh token — the token is refused unless `typeRequired` is off
 * (`INTROSPECTION_TOKEN_TYPE_REQUIRED=false`, for providers that never send one).
 */
export function tokenTypeProblem(claims: Readonly<Record<string, unknown>>, typeRequired: boolean): string | undefined {
  const tokenType = claims['token_type'];
  const typ = claims['typ'];
  const use = claims['token_use'];
  if (tokenType !== undefined && !ACCESS_TOKEN_TYPES.has(lower(tokenType) ?? '')) return `not a bearer access token (token_type ${String(tokenType)})`;
  if (typ !== undefined && lower(typ) !== 'bearer') return `not a bearer access token (typ ${String(typ)})`;
  if (use !== undefined && lower(use) !== 'access_token') return `not a bearer access token (token_use ${String(use)})`;
  if (typeRequired && tokenType === undefined && typ === undefined && use === undefined)
    return 'the introspection answer does not name an access token (no token_type)';
  return undefined;
}

/** The identity an active introspection response names, or why it names none. */
export function identityFromIntrospection(
  claims: Record<string, unknown>,
  config: Pick<Config, 'userIdClaim' | 'groupsClaim' | 'introspectionTokenTypeRequired'> & Partial<Pick<Config, 'groupsStripPrefix'>>,
  name: string,
): Identity | string {
  const notAccess = tokenTypeProblem(claims, config.introspectionTokenTypeRequired);
  if (notAccess !== undefined) return notAccess;
  if (claims['cnf'] !== undefined) return 'sender-constrained tokens are not supported';
  const user = userIdFrom(claims, config.userIdClaim) ?? userIdFrom(claims, 'username') ?? userIdFrom(claims, 'sub');
  if (user === undefined) return `no user id in the introspection response ("${config.userIdClaim}", "username" or "sub")`;
  return {
    user,
    groups: groupsFrom(claims, config.groupsClaim, config.groupsStripPrefix) ?? [],
    claims: Object.freeze(claims),
    method: 'header',
    authenticator: name,
  };
}

export class IntrospectionAuthenticator implements Authenticator {
  readonly name = 'access_token';
  readonly #config: IntrospectionConfig;
  readonly #deps: ProviderTokenDeps;
  readonly #scope: ProviderBearerScope;
  readonly #lookups: BearerLookups;
  readonly #policy: IntrospectionPolicy;
  readonly #auth: ReturnType<typeof clientAuthentication>;

  constructor(config: IntrospectionConfig, deps: ProviderTokenDeps, cacheSize?: number) {
    this.#config = config;
    this.#deps = deps;
    this.#scope = bearerScope(config);
    this.#lookups = lookupsFor(config, deps, cacheSize);
    this.#policy = { requiredScopes: config.introspectionRequiredScopes, audiences: config.introspectionAudiences, leewaySeconds: config.jwtLeeway };
    this.#auth = clientAuthentication(config);
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
    if (hit) return this.#admit(req, hit, token);
    return this.#lookups
      .lookup(key, () => this.#ask(token))
      .then((answer) => {
        if (answer.kind === 'ok') return this.#admit(req, answer.identity, token);
        this.#deps.log.debug({ authenticator: this.name, requestId: req.requestId, reason: answer.reason }, `introspection: ${answer.kind}`);
        return answer.kind === 'invalid' ? rejected(answer.reason) : { kind: 'unavailable', reason: answer.reason };
      });
  }

  /** The per-request checks, from the introspection response (fresh or cached). */
  #admit(req: JudgeRequest, identity: Identity, token: string): AuthnOutcome {
    const problem = policyProblem(identity.claims, this.#policy, this.#deps.clock.now());
    if (problem === undefined) return { kind: 'ok', identity: { ...identity, token } };
    this.#deps.log.debug({ authenticator: this.name, requestId: req.requestId, reason: problem }, 'introspected token refused');
    return rejected(problem);
  }

  async #ask(token: string): Promise<Lookup> {
    const url = this.#config.introspectionUrl || endpointOf(this.#deps, 'introspection_endpoint');
    if (!url) {
      return {
        kind: 'unavailable',
        reason: this.#deps.discovery.metadata ? 'the provider advertises no introspection_endpoint (set INTROSPECTION_URL)' : 'provider not discovered yet',
      };
    }
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', ...this.#auth.params }).toString();
    let res;
    try {
      res = await this.#deps.http.request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...this.#auth.headers },
        body,
        span: 'oidc.introspection',
      });
    } catch (e) {
      return { kind: 'unavailable', reason: transportReason('introspection', e) };
    }
    if (res.status === 401 || res.status === 403) {
      this.#deps.log.error(
        { status: res.status },
        'introspection endpoint refused our client credentials (CLIENT_ID, CLIENT_SECRET, TOKEN_ENDPOINT_AUTH_METHOD)',
      );
      return { kind: 'unavailable', reason: `introspection refused the client (${res.status})` };
    }
    if (res.status !== 200) return { kind: 'unavailable', reason: `introspection answered ${res.status}` };
    const claims = jsonObject(res.body);
    if (claims === undefined || typeof claims['active'] !== 'boolean') return { kind: 'unavailable', reason: 'introspection answer has no boolean "active"' };
    if (!claims['active']) return { kind: 'invalid', reason: 'token is not active' };
    const identity = identityFromIntrospection(claims, this.#config, this.name);
    if (typeof identity === 'string') return { kind: 'invalid', reason: identity };
    const exp = claims['exp'];
    return { kind: 'ok', identity, ...(typeof exp === 'number' && Number.isFinite(exp) ? { expSeconds: exp } : {}) };
  }
}
