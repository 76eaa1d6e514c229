/**
 * Extra authorization-request parameters (`OIDC_AUTH_PARAMS`, and the query of `OIDC_AUTH_URL`):
 * providers want their own (Auth0 `audience`, Entra ID `domain_hint`, `prompt`, `resource`), but
 * the parameters the login protocol owns — those that carry or bind the attempt — are never
 * anybody else's to set: naming one is a start-up error, not a silent override.
 */

/**
 * Set by the login itself. `request`/`request_uri` (a request object could carry its own state or
 * redirect_uri) and `response_mode` (the callback reads the query) are the protocol's too.
 */
export const PROTOCOL_PARAMS: ReadonlySet<string> = new Set([
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'redirect_uri',
  'client_id',
  'response_type',
  'scope',
  'request',
  'request_uri',
  'response_mode',
]);

export type AuthParams = readonly (readonly [name: string, value: string])[];

const MAX_PARAMS = 32;
const MAX_LENGTH = 2048;

/** The protocol-owned names among `names` (compared ignoring case). */
export function protocolParamsIn(names: Iterable<string>): string[] {
  return [...new Set([...names].filter((n) => PROTOCOL_PARAMS.has(n.toLowerCase())))];
}

/**
 * `OIDC_AUTH_PARAMS`: query form (`audience=api://x&prompt=select_account`, percent-encoding
 * allowed), or in the config file a mapping of names to strings. Every name once; none of
 * `PROTOCOL_PARAMS`.
 */
export function parseAuthParams(v: unknown, at: string, errs: string[]): AuthParams {
  let pairs: [string, string][];
  if (typeof v === 'string') {
    if (v.length > MAX_LENGTH) {
      errs.push(`${at}: longer than ${MAX_LENGTH} characters`);
      return [];
    }
    pairs = v.trim() === '' ? [] : [...new URLSearchParams(v.trim().replace(/^\?/, ''))];
  } else if (Array.isArray(v) && v.length === 0) {
    pairs = [];
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    pairs = [];
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') errs.push(`${at}.${k}: must be a string`);
      else pairs.push([k, String(x)]);
    }
  } else {
    errs.push(`${at}: must be a query string (name=value&…) or a mapping of names to values`);
    return [];
  }
  if (pairs.length > MAX_PARAMS) errs.push(`${at}: more than ${MAX_PARAMS} parameters`);
  const seen = new Set<string>();
  for (const [k] of pairs) {
    if (k === '') errs.push(`${at}: a parameter without a name`);
    else if (seen.has(k)) errs.push(`${at}: "${k}" is given twice`);
    seen.add(k);
  }
  for (const p of protocolParamsIn(seen)) errs.push(`${at}: "${p}" is set by the login itself and cannot be overridden`);
  return Object.freeze(pairs.map((p) => Object.freeze(p)));
}

/** The problems of `OIDC_AUTH_URL`'s own query (kept on every login): protocol-owned parameters. */
export function authUrlQueryProblems(authUrl: string): string[] {
  const q = authUrl.indexOf('?');
  if (q < 0) return [];
  const names = [...new URLSearchParams(authUrl.slice(q + 1).replace(/#.*$/, '')).keys()];
  return protocolParamsIn(names).map((p) => `its query sets "${p}", which the login sets itself and cannot be overridden`);
}

/** `name=value&…`, percent-encoded as a query component ('' for none). */
export function encodeParams(params: AuthParams): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}
