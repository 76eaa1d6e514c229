import type { DenyReason, DenyStatus } from '../errors.js';

/** A header to set, as `[name, value]`. Names are lower-case. Several entries may share a name (`set-cookie`). */
export type HeaderPair = readonly [name: string, value: string];

export interface Identity {
  /** The user id as the authenticator found it (before prefix and transformers). */
  readonly user: string;
  readonly groups: readonly string[];
  /** Verified claims, when the authenticator has them (JWT, ID token, userinfo). */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * `cookie` when the session came from the cookie, else `header` (oidc-authservice's Auth-Method);
   * `program` for a program credential (a session made by `oidc-judge login`, oidc/programs/).
   */
  readonly method: 'cookie' | 'header' | 'program';
  /** Name of the authenticator that vouched for it. */
  readonly authenticator: string;
  /** Kubernetes UID, when known. */
  readonly uid?: string;
  /** The credential the caller presented (bearer token, or the session's ID token), for pass-through. */
  readonly token?: string;
  /** A session's access token, for `FORWARD_ACCESS_TOKEN_HEADER`. A secret: never logged. */
  readonly accessToken?: string;
  /** The session id, when a session vouched (so a deny can end it). A secret: never logged. */
  readonly sessionId?: string;
  /** How strongly the user signed in, as a session recorded it at login (bearer tokens: read from their claims). */
  readonly strength?: Strength;
}

/** The ID token's `acr`, `amr` and `auth_time` (epoch seconds) at login; each absent when the provider did not say. */
export interface Strength {
  readonly acr?: string;
  readonly amr?: readonly string[];
  readonly authTime?: number;
  /** Sessions: what the login asked for (a step-up), and when the session began (epoch ms). */
  readonly asked?: { readonly acrValues?: readonly string[]; readonly maxAge?: number };
  readonly loginAt?: number;
}

export interface Allow {
  readonly kind: 'allow';
  /** Request headers to set (overwrite) before the request goes upstream. */
  readonly upstreamHeaders: readonly HeaderPair[];
  /** Request headers to remove before the request goes upstream (never overlaps `upstreamHeaders`). */
  readonly removeHeaders: readonly string[];
  /** Headers to add to the response the client gets (e.g. a refreshed cookie). */
  readonly responseHeaders: readonly HeaderPair[];
  /**
   * `Cookie` and `AUTH_HEADER` as the upstream may get them, when the client sent them and they
   * stay (a change is also in `upstreamHeaders` / `removeHeaders`): for the proxies that replace
   * these headers with the check's answer whatever it is (nginx `proxy_set_header`, Traefik
   * `authResponseHeaders`), so they must be echoed to survive.
   */
  readonly echo?: readonly HeaderPair[];
  /** `skip` for a skip rule, else `authenticated`. */
  readonly reason: 'skip' | 'authenticated';
  /** The skip rule that matched, when `reason` is `skip` (for logs). */
  readonly skipRule?: string;
  readonly identity?: Identity;
}

export interface Deny {
  readonly kind: 'deny';
  /** 302 (login), 401, 403, 400, 503 … */
  readonly status: number;
  readonly headers: readonly HeaderPair[];
  readonly body: string;
  /** Short machine-readable reason for logs, e.g. `no-credentials`, `invalid-token`, `forbidden` (the catalogue in `errors.ts`). */
  readonly reason: DenyReason;
  /** What failed, for the reasons that say (`unavailable`, `login-failed`): logged as `<reason>:<detail>`. */
  readonly detail?: string;
  readonly identity?: Identity;
  readonly authenticator?: string;
}

export type Decision = Allow | Deny;

/** A deny for a catalogue reason, with one of the statuses the catalogue lists for it. */
export function deny<R extends DenyReason>(
  status: DenyStatus<NoInfer<R>>,
  reason: R,
  body: string,
  headers: readonly HeaderPair[] = [],
  extra: { identity?: Identity; authenticator?: string; detail?: string } = {},
): Deny {
  return { kind: 'deny', status, headers, body, reason, ...extra };
}
