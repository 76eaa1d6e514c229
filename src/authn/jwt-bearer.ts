/**
 * The flow both bearer-JWT authenticators share (access tokens and ID tokens):
 * header → bearer → verified-token cache → unverified peek ("mine": our issuer and audience) →
 * issuer keys → verification → claims → identity. Only the spec differs between them.
 */
import type { Clock } from '../clock.js';
import type { Identity } from '../judge/ports.js';
import type { JudgeRequest } from '../judge/ports.js';
import type { Logger } from '../obs/log.js';
import type { IssuerKeys } from '../oidc/issuers.js';
import { hasGroupOverage } from '../oidc/entra/overage.js';
import { issuerPolicies, requiredClaimProblem, type IssuerPolicy } from './issuer-policy.js';
import { VerifiedTokenCache } from './jwt-cache.js';
import { peekJwt, safeAlgorithms, type PeekedJwt } from './jwt-peek.js';
import { audienceIntersects, authorizedPartyProblem, verifyJwt } from './jwt-verify.js';
import { NOT_MINE, bearerFrom, groupsFrom, userIdFrom, type AuthnOutcome, type Authenticator } from '../judge/ports.js';

export interface JwtBearerSpec {
  /** `access_token` or `id_token`. */
  readonly name: string;
  /** Header carrying the token (any case; an optional `Bearer ` prefix is stripped). */
  readonly header: string;
  /** Issuers whose tokens are ours (exact `iss` match). */
  readonly issuers: readonly string[];
  /** A token is ours when its `aud` contains one of these. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly leewaySeconds: number;
  readonly userIdClaim: string;
  /** One claim or several, comma-separated (judge/claims.ts). */
  readonly groupsClaim: string;
  /** `GROUPS_STRIP_PREFIX`; default none. */
  readonly groupsStripPrefix?: string;
  /** Missing groups claim → invalid (access tokens, as oidc-authservice), else → no groups. */
  readonly groupsRequired: boolean;
  /** Per-issuer settings (`jwtIssuers` entries), replacing the ones above for the issuers it names; matched by `iss`. */
  readonly policies?: ReadonlyMap<string, IssuerPolicy>;
  /** Verified-token cache size (default 10 000). */
  readonly cacheSize?: number;
  /** ID tokens: the client they must have been issued to (`authorizedPartyProblem`: `azp`, several audiences). */
  readonly authorizedParty?: string;
  /** JWS `typ` values (lower case) this authenticator never takes as its own, e.g. `at+jwt` for ID tokens. */
  readonly refusedTypes?: readonly string[];
}

export interface JwtBearerDeps {
  readonly clock: Clock;
  readonly issuers: IssuerKeys;
  readonly log: Logger;
}

export class JwtBearerAuthenticator implements Authenticator {
  readonly name: string;
  readonly #spec: JwtBearerSpec;
  readonly #header: string;
  readonly #policies: ReadonlyMap<string, IssuerPolicy>;
  readonly #algorithms: readonly string[];
  readonly #deps: JwtBearerDeps;
  readonly #cache: VerifiedTokenCache;

  constructor(spec: JwtBearerSpec, deps: JwtBearerDeps) {
    this.name = spec.name;
    this.#spec = spec;
    this.#header = spec.header.toLowerCase();
    this.#policies = spec.policies ?? issuerPolicies(spec.issuers[0] ?? '', spec.issuers.slice(1), spec);
    this.#algorithms = Object.freeze(safeAlgorithms(spec.algorithms));
    if (this.#algorithms.length === 0) throw new Error(`${spec.name}: no asymmetric JWS algorithm allowed (JWT_ALGORITHMS)`);
    this.#deps = deps;
    this.#cache = new VerifiedTokenCache(deps.clock, spec.cacheSize);
  }

  authenticate(req: JudgeRequest): AuthnOutcome | Promise<AuthnOutcome> {
    const token = bearerFrom(req.headers[this.#header]);
    if (token === undefined) return NOT_MINE;
    const key = VerifiedTokenCache.keyOf(token);
    const cached = this.#cache.get(key);
    if (cached) return { kind: 'ok', identity: { ...cached, token } };
    const jwt = peekJwt(token);
    const policy = jwt && typeof jwt.payload.iss === 'string' ? this.#policies.get(jwt.payload.iss) : undefined;
    if (!jwt || policy === undefined) return NOT_MINE;
    if (this.#spec.refusedTypes && typeof jwt.header.typ === 'string' && this.#spec.refusedTypes.includes(jwt.header.typ.toLowerCase())) return NOT_MINE;
    if (!audienceIntersects(jwt.payload, policy.audiences)) return NOT_MINE;
    return this.#verify(req, token, key, jwt, jwt.payload.iss!, policy);
  }

  async #verify(req: JudgeRequest, token: string, key: string, jwt: PeekedJwt, iss: string, policy: IssuerPolicy): Promise<AuthnOutcome> {
    const { clock, issuers, log } = this.#deps;
    const status = issuers.status(iss);
    if (status.state !== 'ready') {
      log.debug({ authenticator: this.name, requestId: req.requestId, iss, state: status.state }, 'token issuer not discovered yet');
      return { kind: 'unavailable', reason: `issuer ${iss} not discovered yet` };
    }
    const result = await verifyJwt(token, jwt, status.jwks.getKey, {
      issuer: iss,
      audience: policy.audiences,
      algorithms: this.#algorithms,
      leewaySeconds: this.#spec.leewaySeconds,
      clock,
    });
    if (!result.ok) {
      if (result.unavailable) return { kind: 'unavailable', reason: `${result.reason} (${iss})` };
      return this.#invalid(req, iss, result.reason);
    }
    const party = this.#spec.authorizedParty === undefined ? undefined : authorizedPartyProblem(result.payload, this.#spec.authorizedParty);
    if (party !== undefined) return this.#invalid(req, iss, party);
    // Frozen: cache hits hand the same object to every request.
    const claims = Object.freeze(result.payload) as Readonly<Record<string, unknown>>;
    const required = requiredClaimProblem(claims, policy.requiredClaims);
    if (required !== undefined) return this.#invalid(req, iss, required);
    const user = userIdFrom(claims, policy.userIdClaim);
    if (user === undefined) return this.#invalid(req, iss, `missing or non-string "${policy.userIdClaim}" claim`);
    const groups = groupsFrom(claims, policy.groupsClaim, this.#spec.groupsStripPrefix);
    // Graph would need a token for Graph; this one is for us: refused rather than judged without groups.
    if (groups === undefined && hasGroupOverage(claims, policy.groupsClaim))
      return this.#invalid(req, iss, 'group overage: the token lists no groups (_claim_names/hasgroups); send a token with groups or app roles');
    if (groups === undefined && policy.groupsRequired) return this.#invalid(req, iss, `missing or malformed "${policy.groupsClaim}" claim`);
    const identity: Identity = { user, groups: groups ?? [], claims, method: 'header', authenticator: this.name };
    this.#cache.set(key, identity, result.payload.exp!);
    return { kind: 'ok', identity: { ...identity, token } };
  }

  #invalid(req: JudgeRequest, iss: string, reason: string): AuthnOutcome {
    this.#deps.log.debug({ authenticator: this.name, requestId: req.requestId, iss, reason }, 'bearer token rejected');
    return { kind: 'invalid', reason, error: 'invalid_token' };
  }
}
