/**
 * The per-login parameters of an authorization request beyond the fixed ones: what a login start
 * (`<prefix>/login?login_hint=…`), a switch of account (`prompt`) or a step-up (`acr_values`,
 * `max_age`) adds, and how a login start's query is read for them.
 */

/** Per-login authorization parameters; each replaces an `OIDC_AUTH_PARAMS` parameter of its name. */
export interface LoginExtras {
  /** OIDC `prompt` (`select_account`, `login`): the provider asks which account, or for credentials again. */
  readonly prompt?: string;
  /** `acr_values` (space-separated on the wire): the step-up a route asks for. */
  readonly acrValues?: readonly string[];
  /** `max_age` in seconds: the provider signs the user in again when their login is older. */
  readonly maxAge?: number;
  /** `login_hint` / `domain_hint` from `<prefix>/login?login_hint=…` (checked by `hintsOf`). */
  readonly loginHint?: string;
  readonly domainHint?: string;
}

/** Longest `login_hint` / `domain_hint` passed on (an e-mail address, a domain). */
export const MAX_HINT = 256;

export const NO_EXTRAS: LoginExtras = Object.freeze({});

/**
 * What a login start's query (`<prefix>/login?login_hint=a@example.com&rd=…`) passes on to the
 * provider: `login_hint` and `domain_hint`, each when it is at most `MAX_HINT` characters of
 * printable text; and, for proxies that can only redirect a 401 to a fixed login URL (nginx
 * `error_page 401` on a step-up route), `acr_values` (space-separated tokens) and `max_age`
 * (whole seconds). Anything else is dropped: none of these is more than a request to the provider.
 * The `rd` that runs to the end of the query (see `rdOf`) holds nothing of ours.
 */
export function hintsOf(query: string): LoginExtras {
  if (!query.includes('_hint=') && !query.includes('acr_values=') && !query.includes('max_age=')) return NO_EXTRAS;
  const raw = /(?:^|&)rd=(?=https?:\/\/|\/)/i.exec(query);
  const params = new URLSearchParams(raw ? query.slice(0, raw.index) : query);
  const loginHint = hintOf(params.get('login_hint'));
  const domainHint = hintOf(params.get('domain_hint'));
  const acr = hintOf(params.get('acr_values'))?.split(' ');
  const acrValues = acr?.every((v) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v)) ? acr : undefined;
  const age = params.get('max_age');
  const maxAge = age !== null && /^\d{1,9}$/.test(age) ? Number(age) : undefined;
  const out: LoginExtras = {
    ...(loginHint !== undefined ? { loginHint } : {}),
    ...(domainHint !== undefined ? { domainHint } : {}),
    ...(acrValues !== undefined ? { acrValues } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
  };
  return Object.keys(out).length === 0 ? NO_EXTRAS : out;
}

function hintOf(v: string | null): string | undefined {
  if (v === null || v === '' || v.length > MAX_HINT) return undefined;
  // No control characters (C0, DEL, C1), no lone surrogates: printable text only.
  return /^[^\p{Cc}\p{Cs}]+$/u.test(v) && v.trim() !== '' ? v : undefined;
}
