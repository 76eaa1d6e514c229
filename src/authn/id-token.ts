/**
 * OIDC ID tokens from `ID_TOKEN_HEADER`: issuer = the main provider, audience = `CLIENT_ID`.
 * A token is ours when its unverified `iss` and `aud` say so; anything else is left to the next
 * authenticator. Ours but failing verification → 401 (a deliberate change: oidc-authservice fell
 * through to a login redirect). Groups are optional. Tokens typed as access tokens (`typ: at+jwt`)
 * are never taken as ID tokens. An ID token must have been issued to `CLIENT_ID` (OIDC Core
 * 3.1.3.7): with several audiences it must carry `azp`, and an `azp` must be `CLIENT_ID` — a token
 * another client obtained that merely lists us among its audiences is refused (401).
 */
import type { Config } from '../config/schema.js';
import { JwtBearerAuthenticator, type JwtBearerDeps } from './jwt-bearer.js';

export type IdTokenConfig = Pick<Config, 'idTokenHeader' | 'oidcProvider' | 'clientId' | 'jwtAlgorithms' | 'jwtLeeway' | 'userIdClaim' | 'groupsClaim'> &
  Partial<Pick<Config, 'groupsStripPrefix'>>;

export class IdTokenAuthenticator extends JwtBearerAuthenticator {
  constructor(config: IdTokenConfig, deps: JwtBearerDeps, cacheSize?: number) {
    super(
      {
        name: 'id_token',
        header: config.idTokenHeader,
        issuers: [config.oidcProvider],
        audiences: [config.clientId],
        authorizedParty: config.clientId,
        algorithms: config.jwtAlgorithms,
        leewaySeconds: config.jwtLeeway,
        userIdClaim: config.userIdClaim,
        groupsClaim: config.groupsClaim,
        groupsStripPrefix: config.groupsStripPrefix ?? '',
        groupsRequired: false,
        // An RFC 9068 access token whose audience happens to be the client is not an ID token.
        refusedTypes: ['at+jwt', 'application/at+jwt'],
        ...(cacheSize === undefined ? {} : { cacheSize }),
      },
      deps,
    );
  }
}
