/**
 * One provider's settings as a whole `Config`: the global settings with the entry's own on top, so
 * every part built from a `Config` (client, login flow, session authenticator, issuers, pages,
 * authorizers) serves the provider unchanged. What an entry cannot set is shared (store, ports,
 * headers); what must never be shared is reset: its bearer issuers (only its own), its session
 * cookie (its own name), its access rules (those naming it, or naming none).
 */
import { underPrefix, type Config } from '../../config/schema.js';
import { DEFAULT_PROVIDER, providerCookieName, type ProviderEntry } from '../../config/providers.js';

/** The rules a provider's checks are judged by: those naming it, and those naming no provider. */
export function rulesFor(config: Config, id: string): Config['authzRules'] {
  if (!config.authzRules.some((r) => r.provider !== undefined)) return config.authzRules;
  return Object.freeze(config.authzRules.filter((r) => r.provider === undefined || r.provider === id)) as Config['authzRules'];
}

/** The default provider's config: the environment's, its access rules filtered when some name a provider. */
export function defaultProviderConfig(config: Config): Config {
  const rules = rulesFor(config, DEFAULT_PROVIDER);
  return rules === config.authzRules ? config : Object.freeze({ ...config, authzRules: rules });
}

/** The choice cookie (a host several providers serve): `<SESSION_COOKIE_NAME>-provider`. */
export const choiceCookieName = (config: Pick<Config, 'sessionCookieName'>): string => `${config.sessionCookieName}-provider`;

/** Every cookie of every provider (none when `providers:` is empty): each provider's judge strips them all before the upstream. */
export function allProviderCookies(config: Config): readonly string[] {
  if (config.providers.length === 0) return [];
  return [config.sessionCookieName, ...config.providers.map((e) => providerCookieName(e, config.sessionCookieName)), choiceCookieName(config)];
}

export function providerConfig(base: Config, e: ProviderEntry): Config {
  const pick = <T>(v: T | undefined, fallback: T): T => (v === undefined ? fallback : v);
  return Object.freeze({
    ...base,
    oidcProvider: e.issuer,
    clientId: e.clientId,
    clientSecret: e.clientSecret,
    oidcAuthUrl: pick(e.authUrl, ''),
    oidcEndpoints: pick(e.endpoints, Object.freeze({})),
    oidcAuthParams: pick(e.authParams, base.oidcAuthParams),
    oidcScopes: pick(e.scopes, base.oidcScopes),
    userIdClaim: pick(e.userIdClaim, base.userIdClaim),
    groupsClaim: pick(e.groupsClaim, base.groupsClaim),
    audiences: pick(e.audiences, base.audiences),
    // Its bearer tokens come from its own issuer only: the environment's extra issuers stay the default's.
    jwtIssuers: Object.freeze([]),
    sessionCookieName: providerCookieName(e, base.sessionCookieName),
    sessionCookieDomain: pick(e.cookieDomain, base.sessionCookieDomain),
    sessionCookiePath: pick(e.cookiePath, base.sessionCookiePath),
    // Its own callback path by default: the dispatcher knows a provider's callback wherever it is (path-scoped providers too).
    redirectUrl: pick(e.redirectUrl, underPrefix(base.authserviceUrlPrefix, `oidc/${e.id}/callback`)),
    afterLoginUrl: pick(e.afterLoginUrl, base.afterLoginUrl),
    afterLogoutUrl: pick(e.afterLogoutUrl, base.afterLogoutUrl),
    theme: pick(e.theme, base.theme),
    clientName: pick(e.clientName, base.clientName),
    groupsAllowlist: pick(e.groupsAllowlist, base.groupsAllowlist),
    authzRules: rulesFor(base, e.id),
    providers: Object.freeze([]),
  });
}
