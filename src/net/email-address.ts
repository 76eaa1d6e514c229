/**
 * E-mail address syntax, read strictly: one `@`, a dot-atom local part (no quoted local parts, no
 * comments, no whitespace), a DNS host name with at least two labels (no trailing dot, no address
 * literal), ASCII only, RFC 5321 lengths. Anything else is no address at all. The config checks
 * (config/rules.ts, `emails:`/`domains:` entries) and the access rules' claim tests (authz/email.ts)
 * read addresses this one way.
 */

export interface EmailAddress {
  /** The whole address, lower-cased. */
  readonly address: string;
  /** The part after the `@`, lower-cased. */
  readonly domain: string;
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

/** A configured `domains` entry as compared: lower-cased, an optional leading `@` dropped. */
export function configuredDomain(entry: string): string {
  return entry.toLowerCase().replace(/^@/, '');
}
