/**
 * E-mail addresses for the `emails` and `domains` conditions of the access rules. Addresses are
 * read strictly (net/email-address.ts), so that the domain a rule compares is the domain the
 * address really belongs to — `a@evil.com@example.com` is not an address at `example.com`.
 *
 * Only the `email` claim counts, and only when the provider vouches for it: `email_verified` must be
 * `true` (or the string "true", as Cognito, Apple and PayPal send it). A missing `email_verified`
 * passes only with `EMAIL_VERIFIED_REQUIRED=false`, for providers that never send it; `false` never
 * passes. The user id is no fallback: it may come from a claim the user chose (`preferred_username`).
 */
import type { AllowSpec } from '../config/rules.js';
import type { Identity } from '../judge/ports.js';
import { configuredDomain, parseEmail, type EmailAddress } from '../net/email-address.js';

export interface EmailPolicy {
  /** `EMAIL_VERIFIED_REQUIRED`: a missing `email_verified` claim counts as unverified. */
  readonly verifiedRequired: boolean;
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
