/**
 * The `static` egress token source: the configured token, sent as it is whatever the audience.
 * A token that is not a JWT (an API key) never expires here. A JWT is checked for `exp`: already
 * past at start → a warning; once past, requests are answered 503 instead of sending a token the
 * target will refuse anyway (oidc-proxy kept sending it), and readiness turns false.
 */
import { peekJwt } from '../../../authn/jwt-peek.js';
import type { Clock } from '../../../clock.js';
import type { Logger } from '../../../obs/log.js';
import type { StaticTokenOptions } from './options.js';
import { TokenError, type TokenSource } from './source.js';

/** The token's `exp` in epoch ms, or undefined when it is not a JWT or has no numeric `exp`. */
function expiryOf(token: string): number | undefined {
  const exp = peekJwt(token)?.payload.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

export function staticSource(o: StaticTokenOptions, deps: { readonly clock: Clock; readonly log: Logger }): TokenSource {
  const expiresAt = expiryOf(o.token);
  const expired = (): boolean => expiresAt !== undefined && deps.clock.now() >= expiresAt;
  if (expired()) {
    deps.log.warn(
      { expiredAt: new Date(expiresAt!).toISOString() },
      'the static egress token (a JWT) has expired; requests will be answered 503 until it is replaced',
    );
  }
  return {
    token() {
      if (expired()) return Promise.reject(new TokenError('unavailable', 'the static token has expired'));
      return Promise.resolve(o.token);
    },
    ready: () => !expired(),
    close: () => Promise.resolve(),
  };
}
