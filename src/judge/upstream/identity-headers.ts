/**
 * The identity headers the judge sends upstream on allow, and the list of headers to remove so a
 * client can never forge them: every header the judge can set, in every `-`/`_` spelling (header
 * names are case-insensitive, so lower case covers case), plus the fixed strip list (strip.ts).
 * A value can never carry structure the provider did not issue: a list element (group) holding the
 * separator, a control character or edge whitespace is dropped, and a user id that cannot travel
 * as it is refuses the allow. All lists are built once at start-up.
 */
import { claimReader } from '../claims.js';
import type { HeaderPair, Identity } from '../decision.js';
import { compileForwardTokens } from './forward-tokens.js';
import { headerLayout, type IdentityHeaderSettings } from './header-presets.js';
import { spellings } from '../strip.js';
import { compileUserIdTransformers, type UserIdTransformer } from './userid-transform.js';

export { spellings };

export interface IdentityHeaderOptions extends IdentityHeaderSettings {
  readonly useridPrefix: string;
  readonly useridTransformers: readonly UserIdTransformer[];
  /** `ID_TOKEN_HEADER`: where bearer tokens come in (a verified one stays there when it is a forward header). */
  readonly idTokenHeader?: string;
  readonly forwardTokenBearerPrefix?: 'authorization' | 'always' | 'never';
  /** More headers to remove on every allow and skip (`Strip.spellings`); those the judge sets are left out. */
  readonly alsoRemove?: readonly string[];
}

/** What an allow for one identity sends: the headers to set, and the spellings to remove. */
export interface AllowHeaders {
  readonly upstream: readonly HeaderPair[];
  readonly remove: readonly string[];
}

export interface IdentityHeaders {
  /**
   * `upstream(identity)` and `removeOnAllow` of it, remembered per claims object: a cached session
   * or bearer token presents the same claims check after check, so the headers are built once.
   * `undefined` when the user id cannot be sent (see `upstream`).
   */
  forAllow(identity: Identity): AllowHeaders | undefined;
  /**
   * Headers to set upstream for this identity; `undefined` when the user id holds a control
   * character or starts or ends with whitespace (a header parser would cut or trim it into
   * another user's id, so the allow is refused).
   */
  upstream(identity: Identity): HeaderPair[] | undefined;
  /** Headers to remove on an allow whose `upstream()` result is `set` (never one of those set). */
  removeOnAllow(set: readonly HeaderPair[]): readonly string[];
  /** Headers to remove on a skipped path (every spelling of every judge header). */
  readonly removeOnSkip: readonly string[];
  /** Canonical lower-case names of every header the judge may set. */
  readonly names: readonly string[];
}

/** Removes characters that cannot travel in a header value (CR, LF, NUL and other controls except tab). */
export function headerSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x08\x0a-\x1f\x7f]/.test(value) ? value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '') : value;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
/** A single value a header parser would read back unchanged: no control character (tab included), no edge whitespace. */
function singleSafe(v: string): boolean {
  return !CONTROL.test(v) && v.trim() === v;
}
/** A list element an upstream splitting on `,` (and trimming) reads back as itself. */
function elementSafe(v: string): boolean {
  return v !== '' && singleSafe(v) && !v.includes(',');
}

/** The comma-joined list of the elements that survive the split; groups holding a comma are dropped, never split. */
function safeList(items: readonly string[]): string {
  let ok = true;
  for (const x of items) if (!elementSafe(x)) ok = false;
  return (ok ? items : items.filter(elementSafe)).join(',');
}

/** A claim as a header value: strings and numbers as they are, lists comma-joined (unsafe elements dropped); else none. */
function claimString(v: unknown): string | undefined {
  if (typeof v === 'string') return singleSafe(v) ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return safeList(v.map(String));
  return undefined;
}

export function compileIdentityHeaders(o: IdentityHeaderOptions): IdentityHeaders {
  const transform = compileUserIdTransformers(o.useridTransformers);
  const layout = headerLayout(o);
  const { user, groups, method, token, names } = layout;
  const claims = layout.claims.map(([h, c]) => [h, claimReader(c)] as const);
  const forward = compileForwardTokens({
    idToken: layout.idToken,
    accessToken: layout.accessToken,
    bearerHeader: (o.idTokenHeader ?? '').toLowerCase(),
    bearerPrefix: o.forwardTokenBearerPrefix ?? 'authorization',
  });
  const always = new Set([...user, ...groups, ...method]);
  const ownNames = new Set(names);
  const alsoRemove = (o.alsoRemove ?? []).filter((n) => !ownNames.has(n));
  const removeOnSkip = Object.freeze([...new Set([...names.flatMap(spellings), ...alsoRemove])]);
  const removeBase = Object.freeze(removeOnSkip.filter((n) => !always.has(n)));
  const optional = names.filter((n) => !always.has(n));
  const removeWhenAllSet = Object.freeze(removeBase.filter((n) => !optional.includes(n)));
  // Tokens count in the remembered headers only when some header passes them on.
  const tokensCount = token !== '' || forward !== undefined;

  interface Remembered extends AllowHeaders {
    readonly user: string;
    readonly groups: readonly string[];
    readonly method: string;
    readonly token: string | undefined;
    readonly accessToken: string | undefined;
  }
  // Keyed by the claims object, checked against everything else the headers are made of (claims
  // are read-only, and the same object means the same claim values).
  const remembered = new WeakMap<object, Remembered>();

  const self: IdentityHeaders = {
    names: Object.freeze(names),
    removeOnSkip,
    forAllow(id) {
      const r = remembered.get(id.claims);
      // The token counts only when it is passed on: comparing a bearer token (a new string of a
      // kilobyte each check) would cost more than the rest of the lookup.
      if (
        r !== undefined &&
        r.user === id.user &&
        r.groups === id.groups &&
        r.method === id.method &&
        (!tokensCount || (r.token === id.token && r.accessToken === id.accessToken))
      )
        return r;
      const headers = self.upstream(id);
      if (headers === undefined) return undefined;
      const set = Object.freeze(headers);
      const fresh: Remembered = {
        user: id.user,
        groups: id.groups,
        method: id.method,
        token: id.token,
        accessToken: id.accessToken,
        upstream: set,
        remove: Object.freeze(self.removeOnAllow(set)),
      };
      remembered.set(id.claims, fresh);
      return fresh;
    },
    upstream(id) {
      const userId = o.useridPrefix + transform(id.user);
      if (!singleSafe(userId)) return undefined;
      const out: HeaderPair[] = [];
      for (const h of user) out.push([h, userId]);
      if (groups.length > 0) {
        const list = safeList(id.groups);
        for (const h of groups) out.push([h, list]);
      }
      for (const h of method) out.push([h, id.method]);
      for (const [h, read] of claims) {
        const v = claimString(read(id.claims));
        if (v !== undefined) out.push([h, v]);
      }
      if (token && id.token !== undefined && singleSafe(id.token)) out.push([token, id.token]);
      if (forward !== undefined) for (const pair of forward(id)) if (!out.some(([n]) => n === pair[0])) out.push(pair);
      return out;
    },
    removeOnAllow(set) {
      if (optional.length === 0) return removeBase;
      if (set.length === names.length) return removeWhenAllSet;
      const setNames = new Set(set.map(([n]) => n));
      return removeBase.filter((n) => !setNames.has(n));
    },
  };
  return self;
}
