/**
 * Claims shaped like the tokens real providers issue, for the test providers to put in the tokens
 * they mint (test/helpers/op.ts `accessTokenClaims`, the development provider's `extraClaims`) —
 * so the judge is tested on where providers put things, not on our own demo's flat claims:
 *   * Keycloak: `preferred_username`, realm roles under `realm_access.roles`, client roles under
 *     `resource_access.<client>.roles`, groups (with the "Full group path" mapper on) as `/team-a`
 *     paths, `typ` `ID`/`Bearer`, `azp` the client.
 *   * Google: `hd` (the Workspace domain), `email_verified`, no groups at all.
 * Other providers' shapes live in their own files.
 */

export interface KeycloakShape {
  /** Group paths as the "Full group path" mapper sends them; default `['/team-a']`. */
  readonly groups?: readonly string[];
  /** Realm roles; default Keycloak's own two. */
  readonly realmRoles?: readonly string[];
  /** Client id → client roles; default none. */
  readonly clientRoles?: Readonly<Record<string, readonly string[]>>;
  readonly email?: string;
  /** The client the token was issued to (`azp`); default `kubeflow`. */
  readonly azp?: string;
}

/** Keycloak's default realm roles, on every user. */
export const KEYCLOAK_DEFAULT_ROLES = ['offline_access', 'uma_authorization', 'default-roles-kubeflow'] as const;

/** The claims Keycloak puts about a user in its ID tokens, access tokens and userinfo (with the roles and groups mappers on). */
export function keycloakUserClaims(username: string, s: KeycloakShape = {}): Record<string, unknown> {
  return {
    preferred_username: username,
    email: s.email ?? `${username}@example.com`,
    email_verified: true,
    name: `${username[0]?.toUpperCase() ?? ''}${username.slice(1)} Keycloak`,
    given_name: username,
    family_name: 'Keycloak',
    groups: [...(s.groups ?? ['/team-a'])],
    realm_access: { roles: [...(s.realmRoles ?? KEYCLOAK_DEFAULT_ROLES)] },
    // Keycloak leaves `resource_access` out when the user has no client roles.
    ...(s.clientRoles === undefined
      ? {}
      : { resource_access: Object.fromEntries(Object.entries(s.clientRoles).map(([client, roles]) => [client, { roles: [...roles] }])) }),
  };
}

/** The user claims of a Keycloak ID token (without the JWT members the provider adds: iss, aud, exp …). */
export function keycloakIdTokenClaims(username: string, s: KeycloakShape = {}): Record<string, unknown> {
  return { typ: 'ID', azp: s.azp ?? 'kubeflow', ...keycloakUserClaims(username, s) };
}

/** The claims of a Keycloak access token besides the JWT members (its `typ` is `Bearer`, with a `scope`). */
export function keycloakAccessTokenClaims(username: string, s: KeycloakShape = {}): Record<string, unknown> {
  return { typ: 'Bearer', azp: s.azp ?? 'kubeflow', scope: 'openid email profile', ...keycloakUserClaims(username, s) };
}

/** The user claims of a Google ID token: `hd` for a Workspace account (not for gmail.com), `email_verified`, and no groups claim. */
export function googleIdTokenClaims(email: string): Record<string, unknown> {
  const [local = '', domain = ''] = email.split('@');
  return {
    email,
    email_verified: true,
    // Only Workspace accounts carry `hd`; a consumer account (gmail.com) has none.
    ...(domain === 'gmail.com' ? {} : { hd: domain }),
    name: `${local} Google`,
    given_name: local,
    family_name: 'Google',
    picture: 'https://lh3.googleusercontent.com/a/default-user',
    locale: 'en',
  };
}
