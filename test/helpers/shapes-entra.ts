/**
 * Microsoft Entra ID's token shapes for the real test provider (`startOp(entraOpOptions(…))`):
 * a v2 issuer with the tenant in its path (`/<tid>/v2.0`), `oid`/`tid`/`ver`, app `roles`,
 * `preferred_username` (the UPN) and no `email` anywhere (not in the ID token, not in userinfo);
 * group object ids in `groups`, except for a user in too many groups, whose token carries the
 * overage claims (`_claim_names`/`_claim_sources`, pointing at the retired Azure AD Graph as
 * Entra does) instead. Access tokens are JWTs for Microsoft Graph (`User.Read`), as Entra issues
 * them to a web app that asked for a Graph scope.
 */
import type { DemoUser } from '../../src/demo/users.js';
import { GRAPH_AUDIENCES } from './graph.js';
import type { OpOptions } from './op.js';

export const ENTRA_TENANT = '5f2b6c1e-8d3a-4e7b-9a10-3c4d5e6f7a8b';
/** The issuer path after the provider's origin: Entra's v2 issuer is `https://login.microsoftonline.com/<tid>/v2.0`. */
export const ENTRA_V2_PATH = `/${ENTRA_TENANT}/v2.0`;
export const GRAPH_RESOURCE = GRAPH_AUDIENCES[0]!;
/** The delegated Graph scope a web app asks for; the judge then needs `OIDC_SCOPES=openid,profile,offline_access,User.Read`. */
export const GRAPH_SCOPE = 'User.Read';

/** The overage claims of a token whose user is in too many groups (no `groups` claim). */
export const ENTRA_OVERAGE_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({
  _claim_names: { groups: 'src1' },
  _claim_sources: { src1: { endpoint: `https://graph.windows.net/${ENTRA_TENANT}/users/9f1c0de2-0000-4000-8000-00000000ad01/getMemberObjects` } },
});

export interface EntraUser extends DemoUser {
  readonly oid: string;
  readonly roles: readonly string[];
  /** Group object ids in the token, or `overage` when they did not fit. */
  readonly tokenGroups: readonly string[] | 'overage';
}

const entraUser = (u: Omit<EntraUser, 'groups' | 'email'> & { upn: string }): EntraUser =>
  Object.freeze({ ...u, email: u.upn, groups: u.tokenGroups === 'overage' ? [] : u.tokenGroups });

/** Megan: a few groups, all in the token. Adele: too many, so Graph must be asked. */
export const MEGAN = entraUser({
  sub: 'AAAAAAAAAAAAAAAAAAAAAMeganPairwiseSub01',
  oid: '9f1c0de2-0000-4000-8000-00000000ad00',
  upn: 'megan@contoso.onmicrosoft.com',
  preferredUsername: 'megan@contoso.onmicrosoft.com',
  password: 'megan-entra',
  name: 'Megan Bowen',
  roles: ['Notebook.Reader'],
  tokenGroups: ['0000002a-0000-4000-8000-000000000000', '00000001-0000-4000-8000-000000000000'],
});
export const ADELE = entraUser({
  sub: 'AAAAAAAAAAAAAAAAAAAAAAdelePairwiseSub01',
  oid: '9f1c0de2-0000-4000-8000-00000000ad01',
  upn: 'adele@contoso.onmicrosoft.com',
  preferredUsername: 'adele@contoso.onmicrosoft.com',
  password: 'adele-entra',
  name: 'Adele Vance',
  roles: ['Notebook.Admin'],
  tokenGroups: 'overage',
});
export const ENTRA_USERS: readonly EntraUser[] = [MEGAN, ADELE];

/** The claims Entra puts in a v2 ID token for this user (no `email`). */
export function entraClaims(u: EntraUser): Record<string, unknown> {
  return {
    sub: u.sub,
    oid: u.oid,
    tid: ENTRA_TENANT,
    ver: '2.0',
    name: u.name,
    preferred_username: u.preferredUsername,
    roles: [...u.roles],
    ...(u.tokenGroups === 'overage' ? ENTRA_OVERAGE_CLAIMS : { groups: [...u.tokenGroups] }),
  };
}

/** Scope → claims: everything Entra-specific rides on `openid` (Entra sends it unasked). */
export const ENTRA_SCOPES: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub', 'oid', 'tid', 'ver', 'roles', 'groups', 'hasgroups', '_claim_names', '_claim_sources'],
  profile: ['name', 'preferred_username'],
  email: ['email'],
};

/** `startOp` options for an Entra-shaped provider whose browser logins come back to `redirectUris`. */
export function entraOpOptions(redirectUris: readonly string[]): OpOptions {
  return {
    issuerPath: ENTRA_V2_PATH,
    resource: GRAPH_RESOURCE,
    resourceScope: GRAPH_SCOPE,
    accounts: {
      claims: (sub) => {
        const u = ENTRA_USERS.find((x) => x.sub === sub);
        return u ? entraClaims(u) : undefined;
      },
      scopes: ENTRA_SCOPES,
    },
    interactive: { users: ENTRA_USERS, redirectUris },
  };
}
