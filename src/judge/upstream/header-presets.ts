/**
 * Which upstream header names carry which identity value: the settings' own names (each may be a
 * comma list: one value under several names), the header sets of the tools people migrate from
 * (`HEADER_PRESET`), and the forwarded tokens. One layout, computed once, serves both the headers
 * an allow sets (identity-headers.ts) and the names every request is stripped of (`../strip.ts`), so
 * a name the judge can set is always one a client cannot forge.
 */

/** What a preset sends: the user id and groups as the judge has them, and headers read from claims. */
export interface HeaderPreset {
  readonly user: readonly string[];
  readonly groups: readonly string[];
  /** header name → claim name */
  readonly claims: Readonly<Record<string, string>>;
}

/**
 * oauth2-proxy's `set_xauthrequest` headers (its access token header is `FORWARD_ACCESS_TOKEN_HEADER=X-Auth-Request-Access-Token`)
 * and Authelia's `Remote-*` headers. Names lower-case.
 */
export const HEADER_PRESETS: Readonly<Record<string, HeaderPreset>> = Object.freeze({
  'oauth2-proxy': {
    user: ['x-auth-request-user'],
    groups: ['x-auth-request-groups'],
    claims: { 'x-auth-request-email': 'email', 'x-auth-request-preferred-username': 'preferred_username' },
  },
  authelia: {
    user: ['remote-user'],
    groups: ['remote-groups'],
    claims: { 'remote-name': 'name', 'remote-email': 'email' },
  },
});

/** The settings the layout is made of (a `Config` has them all; the forward and preset ones are optional for older callers). */
export interface IdentityHeaderSettings {
  readonly useridHeader: string;
  readonly groupsHeader: string;
  readonly authMethodHeader: string;
  /** header name → claim name */
  readonly claimHeaders: Readonly<Record<string, string>>;
  readonly useridTokenHeader: string;
  readonly headerPreset?: readonly string[];
  readonly forwardIdTokenHeader?: string;
  readonly forwardAccessTokenHeader?: string;
  /** `ASSERTION_HEADER`: the judge's signed assertion (judge/upstream/assertion.ts). */
  readonly assertionHeader?: string;
}

/** Every identity value's header names, lower-case. */
export interface HeaderLayout {
  readonly user: readonly string[];
  readonly groups: readonly string[];
  readonly method: readonly string[];
  /** [header, claim] pairs: `CLAIM_HEADERS`, then the presets' claim headers. */
  readonly claims: readonly (readonly [string, string])[];
  /** `USERID_TOKEN_HEADER` ('' for none). */
  readonly token: string;
  readonly idToken: string;
  readonly accessToken: string;
  /** `ASSERTION_HEADER` ('' for none): set by the decision step, never by the identity headers. */
  readonly assertion: string;
  /** Every name above, once. */
  readonly names: readonly string[];
}

/** A comma list of header names, lower-case, without blanks and repeats. */
export function headerNames(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
}

export function headerLayout(s: IdentityHeaderSettings): HeaderLayout {
  const presets = (s.headerPreset ?? []).map((p) => HEADER_PRESETS[p]).filter((p): p is HeaderPreset => p !== undefined);
  const user = [...new Set([...headerNames(s.useridHeader), ...presets.flatMap((p) => p.user)])];
  const groups = [...new Set([...headerNames(s.groupsHeader), ...presets.flatMap((p) => p.groups)])];
  const method = headerNames(s.authMethodHeader);
  const taken = new Set([...user, ...groups, ...method]);
  const claims = new Map<string, string>();
  for (const [h, c] of [...Object.entries(s.claimHeaders), ...presets.flatMap((p) => Object.entries(p.claims))]) {
    const name = h.toLowerCase();
    if (!taken.has(name) && !claims.has(name)) claims.set(name, c);
  }
  const token = s.useridTokenHeader.trim().toLowerCase();
  const idToken = (s.forwardIdTokenHeader ?? '').trim().toLowerCase();
  const accessToken = (s.forwardAccessTokenHeader ?? '').trim().toLowerCase();
  const assertion = (s.assertionHeader ?? '').trim().toLowerCase();
  const names = [...new Set([...user, ...groups, ...method, ...claims.keys(), ...[token, idToken, accessToken, assertion].filter((n) => n !== '')])];
  return { user, groups, method, claims: [...claims], token, idToken, accessToken, assertion, names };
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Start-up problems of the identity-header settings, each with the setting at fault (`ConfigError` lines). */
export function identityHeaderProblems(s: IdentityHeaderSettings): { key: keyof IdentityHeaderSettings; message: string }[] {
  const out: { key: keyof IdentityHeaderSettings; message: string }[] = [];
  const lists = [
    ['useridHeader', false],
    ['groupsHeader', false],
    ['authMethodHeader', true],
  ] as const;
  for (const [key, mayBeEmpty] of lists) {
    const names = String(s[key])
      .split(',')
      .map((n) => n.trim());
    if (names.some((n) => !TOKEN.test(n)) && !(mayBeEmpty && String(s[key]).trim() === ''))
      out.push({ key, message: 'not a valid header name (or comma list of them)' });
  }
  for (const key of ['forwardIdTokenHeader', 'forwardAccessTokenHeader'] as const) {
    const v = (s[key] ?? '').trim();
    if (v !== '' && !TOKEN.test(v)) out.push({ key, message: 'not a valid header name' });
  }
  const id = (s.forwardIdTokenHeader ?? '').trim().toLowerCase();
  if (id !== '' && id === (s.forwardAccessTokenHeader ?? '').trim().toLowerCase())
    out.push({ key: 'forwardAccessTokenHeader', message: 'must differ from FORWARD_ID_TOKEN_HEADER (one header cannot carry both tokens)' });
  for (const p of s.headerPreset ?? [])
    if (HEADER_PRESETS[p] === undefined) out.push({ key: 'headerPreset', message: `unknown preset "${p}" (known: ${Object.keys(HEADER_PRESETS).join(', ')})` });
  const layout = headerLayout(s);
  for (const [key, name] of [
    ['forwardIdTokenHeader', layout.idToken],
    ['forwardAccessTokenHeader', layout.accessToken],
  ] as const) {
    const clash = name !== '' && [...layout.user, ...layout.groups, ...layout.method, ...layout.claims.map(([h]) => h), layout.token].includes(name);
    if (clash) out.push({ key, message: `"${name}" already carries another identity value` });
  }
  const a = layout.assertion;
  if (
    a !== '' &&
    [...layout.user, ...layout.groups, ...layout.method, ...layout.claims.map(([h]) => h), layout.token, layout.idToken, layout.accessToken].includes(a)
  )
    out.push({ key: 'assertionHeader', message: `"${a}" already carries another identity value` });
  return out;
}
