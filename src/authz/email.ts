/**
 * E-mail addresses for the `emails` and `domains` conditions of the access rules, read strictly so
 * that the domain a rule compares is the domain the address really belongs to: one `@`, a dot-atom
 * local part (no quoted local parts, no comments, no whitespace), a DNS host name with at least two
 * labels (no trailing dot, no address literal), ASCII only, RFC 5321 lengths. Anything else is no
 * address at all — `a@evil.com@example.com` is not an address at `example.com`.
 *
 * Only the `email` claim counts, and only when the provider vouches for it: `email_verified` must be
 * `true` (or the string "true", as Cognito, Apple and PayPal send it). A missing `email_verified`
 * passes only with `EMAIL_VERIFIED_REQUIRED=false`, for providers that never send it; `false` never
 * passes. The user id is no fallback: it may come from a claim the user chose (`preferred_username`).
 */
import type { AllowSpec } from '../config/rules.js';
import type { Identity } from '../judge/decision.js';

export interface EmailAddress {
  /** The whole address, lower-cased. */
  readonly address: string;
  /** The part after the `@`, lower-cased. */
  readonly domain: string;
}

export interface EmailPolicy {
  /** `EMAIL_VERIFIED_REQUIRED`: a missing `email_verified` claim counts as unverified. */
  readonly verifiedRequired: boolean;
}

/** RFC 5322 dot-atom: atext runs separated by single dots. */
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** A host name of two or more LDH labels, each 1–63 characters, no hyphen at either end. */
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Whether `domain` is a host name an address may name (at most 253 characters, RFC 1035). */
export function isEmailDomain(domain: string): boolean {
  return domain.length <= 253 && DOMAIN.test(domain);
}

/** The address, lower-cased, or `undefined` when `value` is not one plain address. */
export function parseEmail(value: string): EmailAddress | undefined {
  if (value.length > 254) return undefined;
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) return undefined;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local) || !isEmailDomain(domain)) return undefined;
  return { address: value.toLowerCase(), domain: domain.toLowerCase() };
}

function claimOf(id: Identity, name: string): unknown {
  return Object.hasOwn(id.claims, name) ? id.claims[name] : undefined;
}

/** Whether the provider vouches for the `email` claim, as `policy` reads a missing claim. */
export function emailVerified(id: Identity, policy: EmailPolicy): boolean {
  const v = claimOf(id, 'email_verified');
  if (v === undefined) return !policy.verifiedRequired;
  return v === true || v === 'true';
}

/** The user's verified e-mail address from the `email` claim, or `undefined`. */
export function emailOf(id: Identity, policy: EmailPolicy): EmailAddress | undefined {
  const claim = claimOf(id, 'email');
  if (typeof claim !== 'string' || !emailVerified(id, policy)) return undefined;
  return parseEmail(claim);
}

/** A configured `domains` entry as compared: lower-cased, an optional leading `@` dropped. */
export function configuredDomain(entry: string): string {
  return entry.toLowerCase().replace(/^@/, '');
}

/** The `emails` and `domains` conditions of one `allow`, as identity tests (none when neither is set). */
export function emailConditions(a: Pick<AllowSpec, 'emails' | 'domains'>, policy: EmailPolicy): ((id: Identity) => boolean)[] {
  const tests: ((id: Identity) => boolean)[] = [];
  if (a.emails !== undefined && a.emails.length > 0) {
    const emails = new Set(a.emails.map((e) => e.toLowerCase()));
    tests.push((id) => {
      const e = emailOf(id, policy);
      return e !== undefined && emails.has(e.address);
    });
  }
  if (a.domains !== undefined && a.domains.length > 0) {
    const domains = new Set(a.domains.map(configuredDomain));
    tests.push((id) => {
      const e = emailOf(id, policy);
      return e !== undefined && domains.has(e.domain);
    });
  }
  return tests;
}
