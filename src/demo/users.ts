/**
 * The demo's user accounts, known to the development OpenID Provider: two people in different
 * groups, so the demo can show a group-based rule allowing one and denying the other. Their
 * passwords are fixed and shown on the sign-in page on purpose: this is a demo, not an IdP.
 */
import { timingSafeEqual, createHash } from 'node:crypto';

export interface DemoUser {
  /** The stable subject identifier (`sub`). */
  readonly sub: string;
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly preferredUsername: string;
  readonly groups: readonly string[];
}

export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  Object.freeze({
    sub: 'alice',
    email: 'alice@example.com',
    password: 'alice-demo',
    name: 'Alice Admin',
    preferredUsername: 'alice',
    groups: Object.freeze(['admins', 'staff']),
  }),
  Object.freeze({
    sub: 'bob',
    email: 'bob@example.com',
    password: 'bob-demo',
    name: 'Bob Guest',
    preferredUsername: 'bob',
    groups: Object.freeze(['guests']),
  }),
]);

/** The OpenID claims of a user (the provider filters them by the granted scopes). */
export function userClaims(user: DemoUser): Record<string, unknown> {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: true,
    name: user.name,
    preferred_username: user.preferredUsername,
    groups: [...user.groups],
  };
}

/** The user signing in as `username` (their email or preferred username, any case). */
export function findUser(users: readonly DemoUser[], username: string): DemoUser | undefined {
  const u = username.trim().toLowerCase();
  if (u === '') return undefined;
  return users.find((x) => x.email.toLowerCase() === u || x.preferredUsername.toLowerCase() === u);
}

export function findUserBySub(users: readonly DemoUser[], sub: string): DemoUser | undefined {
  return users.find((x) => x.sub === sub);
}

/** The user whose credentials these are, or undefined; the password comparison is constant-time. */
export function authenticate(users: readonly DemoUser[], username: string, password: string): DemoUser | undefined {
  const user = findUser(users, username);
  const expected = digest(user?.password ?? 'no such user: compare anyway');
  const ok = timingSafeEqual(expected, digest(password));
  return user && ok ? user : undefined;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
