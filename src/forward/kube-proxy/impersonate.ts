/**
 * Kubernetes impersonation headers, both directions, as pure functions:
 * - out: the `Impersonate-User`, `Impersonate-Uid`, one `Impersonate-Group` per group and one
 *   `Impersonate-Extra-<key>` per extra value the proxy sends; extra keys are escaped and
 *   canonicalised exactly as client-go does (`headerKeyEscape` + Go's canonical header case), so
 *   the API server (which lower-cases and percent-decodes them) reads back the same key;
 * - in: the `Impersonate-*` headers a client sent (`kubectl --as …`), read the way kube-apiserver
 *   reads them, with anything unknown reported.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Who a request is for: what an authenticator, TokenReview or SubjectAccessReview talks about. */
export interface KubeUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** Extra keys are lower-case; each key may carry several values. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export const SYSTEM_AUTHENTICATED = 'system:authenticated';
const EXTRA_PREFIX = 'impersonate-extra-';

/** RFC 9110 `tchar`, minus `%` (client-go escapes it so that decoding is unambiguous). */
function legalHeaderByte(b: number): boolean {
  if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) return true;
  return "!#$&'*+-.^_`|~".includes(String.fromCharCode(b));
}

/** client-go's `headerKeyEscape`: every byte (of the UTF-8 form) that is not a token character becomes `%XX`. */
export function escapeExtraKey(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) out += legalHeaderByte(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** kube-apiserver's reading of an extra header's key: lower-cased, then percent-decoded (left as is when that fails). */
export function unescapeExtraKey(escaped: string): string {
  const lower = escaped.toLowerCase();
  try {
    return decodeURIComponent(lower);
  } catch {
    return lower;
  }
}

/** Go's `textproto.CanonicalMIMEHeaderKey` for token-only names: upper case after `-` and at the start, lower case elsewhere. */
export function canonicalHeaderName(name: string): string {
  let out = '';
  let upper = true;
  for (const c of name) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** `Impersonate-Extra-<escaped key>` in canonical case. */
export function extraHeaderName(key: string): string {
  return canonicalHeaderName('Impersonate-Extra-' + escapeExtraKey(key));
}

/** `groups` plus `system:authenticated` when missing, without duplicates, in order. */
export function withAuthenticated(groups: readonly string[]): string[] {
  const out = [...new Set(groups)];
  if (!out.includes(SYSTEM_AUTHENTICATED)) out.push(SYSTEM_AUTHENTICATED);
  return out;
}

/** Appends values to an extras map (keys lower-cased, as kube-apiserver keeps them). */
export function addExtra(into: Record<string, string[]>, key: string, values: readonly string[]): void {
  const k = key.toLowerCase();
  (into[k] ??= []).push(...values);
}

/** The headers the API server gets for `user` (groups as given: add `system:authenticated` first). */
export function impersonationHeaders(user: KubeUser): [string, string][] {
  const out: [string, string][] = [['Impersonate-User', user.username]];
  if (user.uid !== undefined && user.uid !== '') out.push(['Impersonate-Uid', user.uid]);
  for (const g of user.groups) out.push(['Impersonate-Group', g]);
  for (const key of Object.keys(user.extra).sort()) {
    const name = extraHeaderName(key);
    for (const v of user.extra[key] ?? []) out.push([name, v]);
  }
  return out;
}

/** A header value as Node gives it (Latin-1) read as the UTF-8 it carries. */
const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');

/** Whether a lower-case header name is an impersonation header (any `impersonate-…`, `-uid` and unknown ones included). */
export function isImpersonationHeader(lowerName: string): boolean {
  return lowerName.startsWith('impersonate-');
}

/** The lower-case names of the impersonation headers a request carries. */
export function impersonationHeaderNames(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter(isImpersonationHeader);
}

/** What a client asked to impersonate, read from its headers. */
export interface InboundImpersonation {
  readonly username: string | undefined;
  readonly uid: string | undefined;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
  /** Lower-case `impersonate-*` header names that are none of the above. */
  readonly unknown: readonly string[];
}

/**
 * Reads the `Impersonate-*` headers from Node's `headersDistinct` (each header line one value):
 * user and uid take the first line, groups and extras every line; extra keys as kube-apiserver
 * decodes them; values read as the UTF-8 they carry. Undefined when the request has none.
 */
export function readInbound(distinct: Readonly<Record<string, readonly string[] | undefined>>): InboundImpersonation | undefined {
  let any = false;
  let username: string | undefined;
  let uid: string | undefined;
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(distinct)) {
    if (!isImpersonationHeader(name) || raw === undefined) continue;
    const values = raw.map(utf8);
    any = true;
    if (name === 'impersonate-user') username = values[0];
    else if (name === 'impersonate-uid') uid = values[0];
    else if (name === 'impersonate-group') groups.push(...values);
    else if (name.startsWith(EXTRA_PREFIX) && name.length > EXTRA_PREFIX.length) addExtra(extra, unescapeExtraKey(name.slice(EXTRA_PREFIX.length)), values);
    else unknown.push(name);
  }
  return any ? { username, uid, groups, extra, unknown } : undefined;
}
