/**
 * The one claim reader: every setting that names a claim (`USERID_CLAIM`, `GROUPS_CLAIM`,
 * `CLAIM_HEADERS`, the `claims` of access rules, the Kubernetes proxy's claims) reads it here, so a
 * name means the same thing everywhere. Providers put claims in different places — Keycloak nests
 * roles (`realm_access.roles`, `resource_access.<client>.roles`), Auth0 namespaces them under a URL
 * (`https://example.com/roles`) — so a name is looked up as:
 *   1. the EXACT top-level name, dots and all (Auth0's namespaced claims, any name with a dot);
 *   2. else, when it holds dots, the path through nested plain objects, one segment per dot.
 * Own properties only: `__proto__`, `constructor` and `prototype` never resolve, as a name or as a
 * segment. Never throws: a value of the wrong shape reads as such, for the caller to refuse.
 *
 * The user id (`USERID_CLAIM`) may name several claims, comma-separated: the first holding a
 * non-empty string is the user (`email,sub`: the address, else the subject).
 * Groups (`GROUPS_CLAIM`) may come from several sources, comma-separated, merged in order with
 * duplicates removed. A source that is absent (or `null`, or `""`) adds nothing; a string is one
 * group; a list must hold strings only, else the source is malformed. The result is *missing* when
 * every source is absent, and *malformed* when any source is malformed (the caller then treats the
 * groups as it treats a missing claim: no groups, or a refused token where groups are required).
 * `GROUPS_STRIP_PREFIX` takes one leading occurrence of a prefix off each group (Keycloak's full
 * group paths: `/team-a` → `team-a`, `/a/b` → `a/b`); a group left empty is dropped.
 */

/** Names that would reach an object's prototype machinery: never read, as a whole name or as a path segment. */
const REFUSED = new Set(['__proto__', 'constructor', 'prototype']);

type Claims = Readonly<Record<string, unknown>>;

function isPlainObject(v: unknown): v is Claims {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Why `name` can never name a claim (for start-up checks), or `undefined` when it is fine: empty, an
 * empty path segment (`a..b`, `.a`, `a.`), or a prototype name.
 */
export function claimNameProblem(name: string): string | undefined {
  if (name === '') return 'names no claim (empty)';
  if (REFUSED.has(name)) return `"${name}" is never read (a prototype name)`;
  const segments = name.split('.');
  if (segments.includes('')) return `"${name}" has an empty path segment (a leading, trailing or double dot)`;
  const bad = segments.find((s) => REFUSED.has(s));
  return bad === undefined ? undefined : `"${name}" has the segment "${bad}", which is never read (a prototype name)`;
}

/** The claim `name` names: the exact top-level name first, then the dot path through plain objects; `undefined` when absent. */
export function readClaim(claims: Claims, name: string): unknown {
  return claimReader(name)(claims);
}

const NEVER = (): undefined => undefined;

/** `readClaim` for one name, its path split once: for names read on every check (access rules, claim headers). */
export function claimReader(name: string): (claims: Claims) => unknown {
  if (REFUSED.has(name)) return NEVER;
  const segments = name.includes('.') ? name.split('.') : undefined;
  // A path with an empty or prototype segment never resolves; the exact name still may (`a..b` as a key).
  const walkable = segments !== undefined && !segments.some((s) => s === '' || REFUSED.has(s));
  return (claims) => {
    if (Object.hasOwn(claims, name)) return claims[name];
    if (!walkable) return undefined;
    let at: unknown = claims;
    for (const segment of segments!) {
      if (!isPlainObject(at) || !Object.hasOwn(at, segment)) return undefined;
      at = at[segment];
    }
    return at;
  };
}

/**
 * The user id claim: a non-empty string, else `undefined` (numbers, objects … are not accepted).
 * Several names, comma-separated (`email,sub`): the first that holds a non-empty string wins.
 */
export function userIdFrom(claims: Claims, setting: string): string | undefined {
  if (!setting.includes(',')) return userIdOne(claims, setting);
  for (const name of groupSources(setting)) {
    const v = userIdOne(claims, name);
    if (v !== undefined) return v;
  }
  return undefined;
}

function userIdOne(claims: Claims, name: string): string | undefined {
  const v = readClaim(claims, name);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The sources of a `GROUPS_CLAIM` setting: comma-separated names, trimmed, empty entries left out. */
export function groupSources(setting: string): readonly string[] {
  return setting
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Why a `GROUPS_CLAIM`-like setting (several sources) is unusable, or `undefined`. An empty setting names no source: never any groups. */
export function groupSourcesProblem(setting: string): string | undefined {
  for (const s of groupSources(setting)) {
    const problem = claimNameProblem(s);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

export type GroupsRead =
  | { readonly kind: 'ok'; readonly groups: readonly string[] }
  /** No source is present. */
  | { readonly kind: 'missing' }
  /** `source` holds something other than a string or a list of strings. */
  | { readonly kind: 'malformed'; readonly source: string };

const MISSING: GroupsRead = Object.freeze({ kind: 'missing' });

/** The groups of `claims` from every source of `setting`, merged in order, deduplicated, `stripPrefix` taken off (see the file comment). */
export function readGroups(claims: Claims, setting: string, stripPrefix = ''): GroupsRead {
  const out = new Set<string>();
  let present = false;
  for (const source of groupSources(setting)) {
    const v = readClaim(claims, source);
    if (v === undefined || v === null || v === '') continue;
    let values: readonly unknown[];
    if (typeof v === 'string') values = [v];
    else if (Array.isArray(v) && v.every((g) => typeof g === 'string')) values = v;
    else return { kind: 'malformed', source };
    present = true;
    for (const g of values as readonly string[]) {
      const group = stripPrefix !== '' && g.startsWith(stripPrefix) ? g.slice(stripPrefix.length) : g;
      if (group !== '') out.add(group);
    }
  }
  return present ? { kind: 'ok', groups: Object.freeze([...out]) } : MISSING;
}

/** The groups, or `undefined` when they are missing or malformed (`readGroups` tells which). */
export function groupsFrom(claims: Claims, setting: string, stripPrefix = ''): readonly string[] | undefined {
  const r = readGroups(claims, setting, stripPrefix);
  return r.kind === 'ok' ? r.groups : undefined;
}
