/**
 * The authenticators (in `AUTHN_CHAIN` order) and authorizers a config turns on, built from the
 * plug-ins in `authn/`, `authz/` and `kube/` against the core's ports (judge/ports.ts).
 */
import { AccessTokenAuthenticator } from '../authn/access-token.js';
import { IdTokenAuthenticator } from '../authn/id-token.js';
import { IntrospectionAuthenticator } from '../authn/introspection.js';
import { OpaqueTokenAuthenticator } from '../authn/opaque.js';
import { externalAuthorizer, MAX_RESPONSE_BYTES } from '../authz/external.js';
import { groupsAuthorizer } from '../authz/groups.js';
import { rulesAuthorizer } from '../authz/rules.js';
import { trustMatcher } from '../net/cidr.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Authenticator, Authorizer } from '../judge/ports.js';
import { HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { IssuerRegistry } from '../oidc/issuers.js';
import type { BrowserLogin } from './browser-login.js';
import { caPem } from './ca.js';
import { createKubernetesAuthenticator } from './kubernetes.js';

/** What Core.close() must also close: the HTTP clients the authenticators and authorizers own. */
export type Closers = (() => void)[];

/** The authenticators, in `AUTHN_CHAIN` order, skipping those turned off or not available. */
export function authenticators(config: Config, issuers: IssuerRegistry, clock: Clock, log: Logger, browser: BrowserLogin, closers: Closers): Authenticator[] {
  const deps = { clock, issuers, log };
  const out: Authenticator[] = [];
  for (const name of config.authnChain) {
    switch (name) {
      case 'access_token':
        if (!config.accessTokenAuthnEnabled) break;
        if (config.accessTokenAuthn === 'jwt') out.push(new AccessTokenAuthenticator(config, deps));
        else {
          const ca = caPem(config);
          // No redirects: the bearer must not follow one to another host.
          const http = new HttpClient({ maxRedirects: 0, ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
          closers.push(() => http.close());
          const lookup = { discovery: issuers.primary, http, clock, log };
          out.push(config.accessTokenAuthn === 'opaque' ? new OpaqueTokenAuthenticator(config, lookup) : new IntrospectionAuthenticator(config, lookup));
        }
        break;
      case 'id_token':
        if (config.idtokenAuthnEnabled) out.push(new IdTokenAuthenticator(config, deps));
        break;
      case 'kubernetes': {
        const kube = config.kubernetesAuthnEnabled ? createKubernetesAuthenticator(config, { clock, log, onClose: (c) => closers.push(c) }) : undefined;
        if (kube) out.push(kube);
        break;
      }
      case 'session':
        out.push(browser.authenticator);
        break;
    }
  }
  return out;
}

export function authorizers(config: Config, clock: Clock, log: Logger, closers: Closers): Authorizer[] {
  const rules = rulesAuthorizer(config.authzRules, { verifiedRequired: config.emailVerifiedRequired }, clock, trustMatcher(config.trustedProxies));
  const out = [groupsAuthorizer(config.groupsAllowlist), ...(rules ? [rules] : [])];
  if (config.externalAuthzUrl !== '') {
    const ca = caPem(config);
    const http = new HttpClient({
      timeoutMs: config.externalAuthzTimeout,
      maxBytes: MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      ...(ca !== undefined ? { caPem: ca } : {}),
      userAgent: 'oidc-judge',
    });
    closers.push(() => http.close());
    if (config.checkTimeout > 0 && config.externalAuthzTimeout >= config.checkTimeout)
      log.warn('EXTERNAL_AUTHZ_TIMEOUT is not below CHECK_TIMEOUT: a slow external authorizer ends the check with 503 instead of 403');
    out.push(externalAuthorizer({ url: config.externalAuthzUrl, http, clock, log }));
  }
  return out;
}
