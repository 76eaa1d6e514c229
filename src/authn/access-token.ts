/**
 * JWT access tokens (`ACCESS_TOKEN_AUTHN=jwt`) from `ID_TOKEN_HEADER`. A token is ours when its
 * unverified `iss` is the main provider or one of `jwtIssuers` and its `aud` intersects that
 * issuer's audiences (`AUDIENCES` unless its entry says otherwise); anything else is left to the
 * next authenticator. An issuer's entry may also set the claims read and claims required. Ours but failing verification → 401;
 * issuer or keys not available → 503. As in oidc-authservice, both the user-id and the groups
 * claims are required.
 */
import type { Config } from '../config/schema.js';
import { issuerNames } from '../config/jwt-issuers.js';
import { issuerPolicies } from './issuer-policy.js';
import { JwtBearerAuthenticator, type JwtBearerDeps } from './jwt-bearer.js';

export type AccessTokenConfig = Pick<
  Config,
  'idTokenHeader' | 'oidcProvider' | 'jwtIssuers' | 'audiences' | 'jwtAlgorithms' | 'jwtLeeway' | 'userIdClaim' | 'groupsClaim'
> &
  Partial<Pick<Config, 'groupsStripPrefix'>>;

export class AccessTokenAuthenticator extends JwtBearerAuthenticator {
  constructor(config: AccessTokenConfig, deps: JwtBearerDeps, cacheSize?: number) {
    super(
      {
        name: 'access_token',
        header: config.idTokenHeader,
        issuers: [config.oidcProvider, ...issuerNames(config.jwtIssuers)],
        audiences: config.audiences,
        algorithms: config.jwtAlgorithms,
        leewaySeconds: config.jwtLeeway,
        userIdClaim: config.userIdClaim,
        groupsClaim: config.groupsClaim,
        groupsStripPrefix: config.groupsStripPrefix ?? '',
        groupsRequired: true,
        policies: issuerPolicies(config.oidcProvider, config.jwtIssuers, { ...config, groupsRequired: true }),
        ...(cacheSize === undefined ? {} : { cacheSize }),
      },
      deps,
    );
  }
}
