/**
 * The catalogue of what can go wrong, in one place: every deny reason the judge gives (with the
 * HTTP statuses it goes out with, the gRPC code Envoy gets for each, and the body: which page or
 * JSON), and every error code our error classes carry. `deny()` takes only a catalogue reason with
 * one of its statuses, and `JudgeError` only a catalogue code, so a typo fails type-checking. The
 * docs/errors.md tables are generated from here (`npm run docs`).
 *
 * The values are the wire and log values as they have always been: renaming one is a breaking
 * change for whoever alerts on logs or metrics.
 */

/** google.rpc code names Envoy's ext_authz gets with a deny (`judge/grpc/map.ts` maps HTTP status → code). */
export type GrpcCodeName = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'UNAVAILABLE';

/**
 * What a deny's body is: an HTML page of `Pages` (web/pages.ts; for browser navigations where the
 * reason has a JSON form too), JSON for API clients, plain text (the forwarder's modes), or empty (a redirect).
 */
export type DenyBody =
  | 'json'
  | 'text'
  | 'empty'
  | 'page:unauthenticated'
  | 'page:forbidden'
  | 'page:unavailable'
  | 'page:login-failed'
  | 'page:chooser'
  | 'page:program';

export interface DenyEntry {
  /** Every HTTP status this reason goes out with, and the gRPC code each gets. */
  readonly http: Readonly<Record<number, GrpcCodeName>>;
  readonly body: readonly DenyBody[];
  /** One line for the README. */
  readonly meaning: string;
  /** Set when the decision log's `reason` is `<code>:<detail>` (the detail says which part failed). */
  readonly detail?: string;
}

const U = 'UNAUTHENTICATED';
const P = 'PERMISSION_DENIED';
const S = 'UNAVAILABLE';

/** Every deny reason: the `reason` of a `Deny`, and of the decision log line. */
export const DENY_REASONS = {
  'bad-host': { http: { 400: P }, body: ['json'], meaning: 'The Host (or :authority) cannot be read as one host name; refused before anything else.' },
  'no-credentials': {
    http: { 401: U },
    body: ['page:unauthenticated', 'json'],
    meaning: 'No credential was presented and the caller cannot be sent to sign in (an API call, a proxy that passes only statuses, or no login flow).',
  },
  'invalid-token': {
    http: { 401: U },
    body: ['json'],
    meaning: 'A bearer token was presented and refused; `WWW-Authenticate` carries `error="invalid_token"` and why.',
  },
  forbidden: {
    http: { 403: P },
    body: ['page:forbidden', 'json'],
    meaning: 'Authenticated, but an authorizer (groups, rules, external) said no; the page shows its reason.',
  },
  'step-up': {
    http: { 302: U, 401: U },
    body: ['empty', 'json'],
    meaning:
      'Allowed by an access rule, but the sign-in is not strong enough for it (`require`: `acr`, `amr`, `maxAge`): a browser with a session signs in again with `acr_values` / `max_age` (302); anything else gets 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` and the `acr_values` / `max_age` wanted (RFC 9470).',
    detail: 'what was missing: `acr`, `amr`, `max_age`',
  },
  'bad-impersonation': {
    http: { 400: P },
    body: ['text'],
    meaning:
      'The Kubernetes proxy (`mode: kube`) was asked to impersonate with an unknown `Impersonate-*` header or without `Impersonate-User` (kube-apiserver answers 400 too); the body names it.',
  },
  'authz-error': {
    http: { 403: P },
    body: ['json'],
    meaning: 'Authenticated, but an authorizer could not decide (e.g. the external authorizer failed or answered 5xx).',
  },
  unavailable: {
    http: { 503: S },
    body: ['page:unavailable', 'json'],
    meaning:
      'A check could not be completed: an authenticator’s dependency (provider, keys, session store, TokenReview) is down, or the check timed out. `Retry-After: 5`.',
    detail: 'which authenticator, and why',
  },
  login: { http: { 302: U }, body: ['empty'], meaning: 'A browser without a session is sent to the provider to sign in (a login attempt cookie is set).' },
  'choose-provider': {
    http: { 401: U },
    body: ['page:chooser', 'json'],
    meaning:
      'A host several providers (`providers:`) serve, and the browser has chosen none yet: the sign-in chooser page, whose links start `<prefix>/login?provider=<id>`; API clients get JSON naming the providers.',
  },
  'unknown-provider': {
    http: { 400: P },
    body: ['json'],
    meaning: '`<prefix>/login?provider=<id>` names no provider that serves this host.',
  },
  'provider-unavailable': {
    http: { 503: S },
    body: ['page:unavailable'],
    meaning: 'A login should start but the provider has not been discovered. `Retry-After: 5`.',
  },
  'store-unavailable': {
    http: { 503: S },
    body: ['page:unavailable'],
    meaning: 'A login should start but the login-attempt key cannot be read from the session store. `Retry-After: 5`.',
  },
  'login-no-code': { http: { 302: U }, body: ['empty'], meaning: 'The callback was opened with neither `code` nor `error`: back to the homepage.' },
  'login-failed': {
    http: { 400: P, 403: P, 500: S, 503: S },
    body: ['page:login-failed', 'page:unavailable'],
    meaning:
      'The login callback failed: a missing, expired, replayed or foreign attempt, an RFC 9207 issuer mix-up, the provider’s refusal, no user id claim (4xx, 500: the login-failed page), or the provider or store being down (503).',
    detail: 'what failed (`bad-state`, `expired-state`, `provider:<error>`, `store` …)',
  },
  'login-complete': {
    http: { 302: U },
    body: ['empty'],
    meaning: 'The login callback succeeded: a session is created and the browser goes back where it started.',
  },
  'program-login': {
    http: { 200: P, 303: U, 403: P },
    body: ['page:program', 'empty'],
    meaning:
      'A program login (`<prefix>/api/login`) by a signed-in browser: the page asking the user to approve the program (200); their answer, back to the program’s loopback `redirect_uri` with a one-time code or `error=access_denied` (303); an answer without its form token (403).',
    detail: 'which step (`consent`, `approved`, `denied`, `csrf`)',
  },
  'program-login-refused': {
    http: { 400: P, 503: S },
    body: ['page:login-failed', 'page:unavailable'],
    meaning:
      'A program login (`<prefix>/api/login`) that cannot start: a `redirect_uri` that is not a loopback `http` address, no PKCE S256 `code_challenge`, program logins off (400); the session store down (503).',
    detail: 'what was wrong (`redirect_uri`, `code_challenge`, `off`, `store`)',
  },
  'device-page': {
    http: { 200: P, 400: P, 403: P, 429: P, 503: S },
    body: ['page:program', 'page:unavailable'],
    meaning:
      'The device login’s page (`<prefix>/api/device/verify`): enter a code, approve or refuse the program it names (200); a code unknown, expired or answered (400), an approval without its form token (403), too many wrong codes (429), the store down (503).',
    detail: 'which step (`enter`, `confirm`, `approved`, `denied`, `unknown-code`, `csrf`, `rate`, `store`)',
  },
  'switch-account': { http: { 302: U }, body: ['empty'], meaning: 'The session is ended and a new login starts with `prompt=select_account` (or `login`).' },
  'switch-account-cross-site': { http: { 403: P }, body: ['json'], meaning: 'A switch-account request that is not a same-origin POST.' },
  'switch-account-unavailable': {
    http: { 503: S },
    body: ['json'],
    meaning: 'The session store could not end the session before switching accounts. `Retry-After: 5`.',
  },
  logout: {
    http: { 201: P, 302: U, 303: U },
    body: ['json', 'empty'],
    meaning:
      'Logged out: 201 with `afterLogoutURL` for a bearer session id (oidc-authservice’s API), else 303 to the after-logout page (or the provider’s end-session endpoint); 302 to `rd` from oauth2-proxy’s `sign_out`.',
  },
  'compat-userinfo': {
    http: { 200: P },
    body: ['json'],
    meaning: 'oauth2-proxy’s `/oauth2/userinfo` (`COMPAT_ENDPOINTS=oauth2-proxy`, web server only): the session’s user, email, groups and preferred username.',
  },
  'logout-unknown-session': { http: { 401: U }, body: ['json'], meaning: 'Logout with a session id in the auth header that names no session.' },
  'logout-no-session': { http: { 401: U }, body: ['json'], meaning: 'Logout without a session cookie, or not as a same-origin POST.' },
  'logout-unavailable': { http: { 503: S }, body: ['json'], meaning: 'The session store could not end the session. `Retry-After: 5`.' },
  userinfo: { http: { 200: P }, body: ['json'], meaning: '`GET <prefix>/userinfo`: the session’s identity as JSON, for the frontend (never a token).' },
  'userinfo-no-session': { http: { 401: U }, body: ['json'], meaning: '`GET <prefix>/userinfo` without a usable session.' },
  'userinfo-cross-site': { http: { 403: P }, body: ['json'], meaning: '`GET <prefix>/userinfo` from another site (`Sec-Fetch-Site`, a foreign `Origin`).' },
  'userinfo-unavailable': {
    http: { 503: S },
    body: ['json'],
    meaning: '`GET <prefix>/userinfo` while the session store or provider cannot answer. `Retry-After: 5`.',
  },
} as const satisfies Record<string, DenyEntry>;

export type DenyReason = keyof typeof DENY_REASONS;

/** The HTTP statuses reason `R` may go out with. */
export type DenyStatus<R extends DenyReason> = keyof (typeof DENY_REASONS)[R]['http'] & number;

/** The decision log's `reason` for a deny: the code, then `:<detail>` for the reasons that have one. */
export function loggedReason(reason: DenyReason, detail: string | undefined): string {
  return detail === undefined ? reason : `${reason}:${detail}`;
}

export interface ErrorEntry {
  /** The error class that carries the code. */
  readonly class: string;
  readonly meaning: string;
}

/** Every code an error class carries (`err.code`, and `code` in log lines). */
export const ERROR_CODES = {
  'config-invalid': { class: 'ConfigError', meaning: 'The configuration has problems (all of them are listed); the process does not start.' },
  'template-invalid': { class: 'TemplateError', meaning: 'A page template cannot be parsed (file and line given); the process does not start.' },
  'store-unavailable': { class: 'StoreUnavailableError', meaning: 'The session store (SQLite or Redis) cannot be used now; checks needing it answer 503.' },
  'keys-unavailable': {
    class: 'KeysUnavailableError',
    meaning: 'No signing keys were ever fetched from an issuer and fetching them now failed; token checks answer 503.',
  },
  'invalid-document': { class: 'DiscoveryError', meaning: 'The provider’s discovery document is not a usable OpenID Provider metadata document.' },
  'issuer-mismatch': { class: 'DiscoveryError', meaning: 'The discovery document names another issuer than the configured one.' },
  'bad-url': { class: 'HttpClientError', meaning: 'An outgoing request’s URL is not a valid http(s) URL.' },
  timeout: { class: 'HttpClientError', meaning: 'An outgoing request got no complete answer in time.' },
  network: { class: 'HttpClientError', meaning: 'An outgoing request failed to connect or was cut.' },
  'too-large': { class: 'HttpClientError', meaning: 'An answer was larger than the client accepts.' },
  redirect: { class: 'HttpClientError', meaning: 'Too many redirects, or a redirect to another scheme.' },
  status: { class: 'HttpClientError', meaning: 'An answer had an unexpected HTTP status.' },
  'bad-json': { class: 'HttpClientError', meaning: 'An answer that should be JSON could not be parsed.' },
  'groups-unavailable': {
    class: 'GraphGroupsError',
    meaning:
      'Entra ID left a user’s groups out of the token (group overage) and Microsoft Graph could not give them (down, 429, refused the token, more than `GRAPH_MAX_GROUPS`); that session’s checks answer 503.',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of our error classes: a catalogue `code`, kept in log lines. */
export class JudgeError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `err.code` when it is a string (ours, or Node's `ECONNREFUSED` …), for log lines. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
