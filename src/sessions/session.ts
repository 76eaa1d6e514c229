/**
 * What a browser session holds once the login completed. Serialized as JSON, then encrypted by
 * `ticket.ts` before it reaches a store.
 */
export interface Session {
  readonly v: 1;
  /** The user id (`USERID_CLAIM`) and groups (`GROUPS_CLAIM`) as found at login. */
  readonly user: string;
  readonly groups: readonly string[];
  /** Claims from the ID token and/or userinfo (`CLAIMS_SOURCE`). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly iss: string;
  readonly sub: string;
  /** The provider (`providers:`) whose login made it; absent: the provider `default`. Valid only where that provider applies. */
  readonly provider?: string;
  readonly sid?: string;
  readonly idToken?: string;
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly tokenType?: string;
  /** When the access token expires (epoch ms), when the provider said. */
  readonly accessExpiresAt?: number;
  /** The last refresh brought no new ID token, so the one from before is kept (FORWARD_ID_TOKEN_HEADER asks no more refreshes for it). */
  readonly idTokenKept?: boolean;
  /** `graph`: the groups were read from Microsoft Graph (Entra ID group overage, `oidc/entra/overage.ts`). */
  readonly groupsFrom?: 'graph';
  /** The groups could not be read yet: checks answer 503 until they are (never judged as no groups). */
  readonly groupsPending?: true;
  /**
   * The ID token's `acr`, `amr` and `auth_time` (epoch seconds) at login: how strongly the user
   * signed in, for access rules that require it. Kept across refreshes (the sign-in they describe
   * does not change); absent when the provider did not say — and in sessions from before they were recorded.
   */
  readonly acr?: string;
  readonly amr?: readonly string[];
  readonly authTime?: number;
  /**
   * What the login that made this session asked for (`acr_values`, `max_age`: a step-up). A
   * session still short of what it asked for was refused it by the provider: asking again would loop.
   */
  readonly stepUp?: { readonly acrValues?: readonly string[]; readonly maxAge?: number };
  /**
   * A program credential (`oidc-judge login`, oidc/programs/): a session of its own, copied from the
   * browser session that approved it, without the provider's tokens, ending `PROGRAM_SESSION_MAX_AGE`
   * after it was issued. `client`: the name the program gave; `via`: how it was obtained.
   */
  readonly program?: { readonly client: string; readonly via: 'loopback' | 'device' };
  /** Login time (epoch ms). */
  readonly createdAt: number;
  /** Absolute end: `createdAt + SESSION_MAX_AGE` (epoch ms); refreshes never move it. */
  readonly expiresAt: number;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A JSON object, or `undefined` for anything else (malformed JSON included). */
function jsonObject(json: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a decrypted session; anything malformed is `undefined` (treated as no session). */
export function parseSession(json: string): Session | undefined {
  const s = jsonObject(json);
  if (!s) return undefined;
  if (s['v'] !== 1 || typeof s['user'] !== 'string' || !isStringArray(s['groups'])) return undefined;
  if (typeof s['iss'] !== 'string' || typeof s['sub'] !== 'string') return undefined;
  if (s['provider'] !== undefined && typeof s['provider'] !== 'string') return undefined;
  if (typeof s['createdAt'] !== 'number' || typeof s['expiresAt'] !== 'number') return undefined;
  if (typeof s['claims'] !== 'object' || s['claims'] === null) return undefined;
  // A malformed program mark is no session (never a browser session in its place).
  const program = s['program'] as Record<string, unknown> | undefined;
  if (program !== undefined && (typeof program !== 'object' || program === null || typeof program['client'] !== 'string')) return undefined;
  // A strength field of the wrong type counts as not recorded (weaker, never stronger).
  if (s['acr'] !== undefined && typeof s['acr'] !== 'string') delete s['acr'];
  if (s['amr'] !== undefined && !isStringArray(s['amr'])) delete s['amr'];
  if (s['authTime'] !== undefined && !Number.isFinite(s['authTime'])) delete s['authTime'];
  const ask = s['stepUp'] as Record<string, unknown> | undefined;
  if (
    ask !== undefined &&
    (typeof ask !== 'object' ||
      ask === null ||
      (ask['acrValues'] !== undefined && !isStringArray(ask['acrValues'])) ||
      (ask['maxAge'] !== undefined && !Number.isFinite(ask['maxAge'])))
  )
    delete s['stepUp'];
  return s as unknown as Session;
}
