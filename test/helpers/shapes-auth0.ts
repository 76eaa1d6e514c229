/**
 * The test provider (op.ts with op-login.ts) shaped like Auth0: roles and other custom claims under
 * a namespaced name (`https://example.com/roles`, as Auth0 Actions must add them), and the access
 * token a JWT for an API only when the authorization request names it with `audience` — without
 * it, an opaque token good for userinfo alone.
 */
import type { OpLoginOptions } from './op-login.js';

/** Auth0 requires custom claims to be namespaced by a URL. */
export const AUTH0_ROLES_CLAIM = 'https://example.com/roles';
/** The API identifier registered at "Auth0". */
export const AUTH0_API = 'https://api.example.com';

interface Auth0Ctx {
  readonly oidc: { readonly params?: Readonly<Record<string, unknown>> };
}

const claimsOf = (c: Record<string, unknown>): Record<string, unknown> => (c['claims'] ?? {}) as Record<string, unknown>;

/** Options for `opLogin`: Auth0's `audience` parameter and claim shapes; `roles` of each account by sub. */
export function auth0Shape(roles: (sub: string) => readonly string[]): Pick<OpLoginOptions, 'claims' | 'configure'> {
  return {
    claims: (sub) => ({ email: `${sub}@example.com`, email_verified: true, [AUTH0_ROLES_CLAIM]: [...roles(sub)] }),
    configure: (c) => ({
      ...c,
      extraParams: ['audience'],
      claims: { ...claimsOf(c), openid: [...((claimsOf(c)['openid'] as string[] | undefined) ?? ['sub']), AUTH0_ROLES_CLAIM] },
      features: {
        ...(c['features'] as Record<string, unknown>),
        resourceIndicators: {
          enabled: true,
          // `audience` names the API; none: no resource, so an opaque access token (userinfo only).
          defaultResource: (ctx: Auth0Ctx) => {
            const audience = ctx.oidc.params?.['audience'];
            return typeof audience === 'string' && audience !== '' ? audience : undefined;
          },
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== AUTH0_API) throw new Error(`unknown API ${indicator}`);
            return { scope: 'api', audience: indicator, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
    }),
  };
}
