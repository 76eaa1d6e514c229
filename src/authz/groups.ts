/**
 * `GROUPS_ALLOWLIST`, exactly as oidc-authservice: `*` in the list lets everyone in (also users
 * without groups); otherwise the user needs at least one listed group (exact, case-sensitive);
 * an empty list denies everyone.
 */
import type { Identity } from '../judge/ports.js';
import { ALLOW, type Authorizer, type AuthzOutcome } from '../judge/ports.js';

export const WILDCARD = '*';

/** oidc-authservice's deny reason, word for word (Go's `%v` of a string slice: `[a b]`). */
export function groupsDenyReason(groups: readonly string[]): string {
  return `User's groups ([${groups.join(' ')}]) are not in allowlist.`;
}

export function groupsAuthorizer(allowlist: readonly string[]): Authorizer {
  if (allowlist.includes(WILDCARD)) return { name: 'groups', authorize: () => ALLOW };
  const allowed = new Set(allowlist);
  return {
    name: 'groups',
    authorize(identity: Identity): AuthzOutcome {
      for (const g of identity.groups) if (allowed.has(g)) return ALLOW;
      return { kind: 'deny', reason: groupsDenyReason(identity.groups) };
    },
  };
}
