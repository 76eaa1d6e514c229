/**
 * Dex's token shapes, as Kubeflow's manifests (`common/dex`) run it: the issuer is `<origin>/dex`;
 * `sub` is not the user id but base64url (no padding) of a protobuf message holding the user id
 * (field 1) and the connector id (field 2) — the static password database is the connector
 * `local`; `email` and `email_verified` with the `email` scope, `name` with `profile`, `groups`
 * only with the `groups` scope, `federated_claims` (`connector_id`, `user_id`) only with
 * `federated:id`. Kubeflow's one static user is `user@example.com` (user name `user`, user id
 * `15841185641784`), and it has no groups: the password database supplies none, so a test user
 * with groups stands for a connector that does (LDAP, GitHub, an upstream OIDC provider).
 */
import type { OpLoginOptions } from './op-login.js';

/** The path of Dex's issuer after the origin (Kubeflow: `http://dex.auth.svc.cluster.local:5556/dex`). */
export const DEX_ISSUER_PATH = '/dex';
/** The connector id Dex gives its built-in password database. */
export const DEX_LOCAL_CONNECTOR = 'local';

export interface DexUser {
  readonly userId: string;
  readonly connectorId: string;
  readonly email: string;
  /** Dex's `name`: the static password's `username` (or the connector's display name). */
  readonly name: string;
  readonly groups: readonly string[];
}

/** Kubeflow's static user (`staticPasswords` in common/dex/base/config-map.yaml). */
export const KUBEFLOW_USER: DexUser = Object.freeze({
  userId: '15841185641784',
  connectorId: DEX_LOCAL_CONNECTOR,
  email: 'user@example.com',
  name: 'user',
  groups: [],
});

/** One length-delimited protobuf field (wire type 2), for the short strings Dex puts in `sub`. */
function protoString(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 127) throw new Error('longer ids need a multi-byte length');
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

/** Dex's `sub`: base64url of the protobuf `IDTokenSubject{user_id = 1, conn_id = 2}`. */
export function dexSubject(userId: string, connectorId: string): string {
  return Buffer.concat([protoString(1, userId), protoString(2, connectorId)]).toString('base64url');
}

/** The user claims of a Dex ID token for the scopes the login asked for (without iss, aud, exp …). */
export function dexIdTokenClaims(u: DexUser, scopes: readonly string[]): Record<string, unknown> {
  const has = (s: string): boolean => scopes.includes(s);
  return {
    sub: dexSubject(u.userId, u.connectorId),
    ...(has('email') ? { email: u.email, email_verified: true } : {}),
    // Dex leaves an empty list out (`omitempty`).
    ...(has('groups') && u.groups.length > 0 ? { groups: [...u.groups] } : {}),
    ...(has('profile') ? { name: u.name } : {}),
    ...(has('federated:id') ? { federated_claims: { connector_id: u.connectorId, user_id: u.userId } } : {}),
  };
}

/** Every scope a Dex login can ask for claims with. */
const DEX_SCOPES = ['openid', 'profile', 'email', 'groups', 'federated:id'];

/**
 * Options for `opLogin`: the test provider answers like Dex for these users — accounts whose id is
 * Dex's encoded `sub` (sign one in with `login.next = { sub: dexSubject(…) }`), `groups` and
 * `federated_claims` released only for the `groups` and `federated:id` scopes.
 */
export function dexShape(users: readonly DexUser[]): Pick<OpLoginOptions, 'claims' | 'configure'> {
  return {
    claims: (sub) => {
      const u = users.find((x) => dexSubject(x.userId, x.connectorId) === sub);
      if (u === undefined) throw new Error(`no Dex user with sub ${sub}`);
      const { sub: _sub, ...claims } = dexIdTokenClaims(u, DEX_SCOPES);
      return claims;
    },
    configure: (c) => ({
      ...c,
      scopes: [...((c['scopes'] as string[] | undefined) ?? []), 'groups', 'federated:id'],
      claims: { ...(c['claims'] as Record<string, unknown>), profile: ['name'], groups: ['groups'], 'federated:id': ['federated_claims'] },
    }),
  };
}
