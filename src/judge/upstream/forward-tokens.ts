/**
 * The tokens an allow passes to the upstream (`FORWARD_ID_TOKEN_HEADER`, `FORWARD_ACCESS_TOKEN_HEADER`),
 * as oauth2-proxy's `set_authorization_header` / `pass_access_token` do and as Istio
 * `RequestAuthentication` behind the judge needs: a session's ID and access token (kept fresh by
 * the session authenticator), or the bearer token a request presented, in the header of its kind.
 * A bearer token the judge verified also stays in the header it came in when that header is a
 * forward header (a machine client's access or service-account token in `Authorization` still
 * reaches a mesh that checks it, as oauth2-proxy passes bearer tokens on). `Authorization` gets
 * `Bearer <token>`, other headers the raw token (`FORWARD_TOKEN_BEARER_PREFIX`).
 */
import type { HeaderPair, Identity } from '../decision.js';

export interface ForwardTokenOptions {
  /** Lower-case header names; '' for none. */
  readonly idToken: string;
  readonly accessToken: string;
  /** `ID_TOKEN_HEADER`, lower-case: where bearer tokens come in. */
  readonly bearerHeader: string;
  readonly bearerPrefix: 'authorization' | 'always' | 'never';
}

export type ForwardTokens = (identity: Identity) => HeaderPair[];

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x20\x7f]/;

/** `undefined` when no token is forwarded: no work on the hot path then. */
export function compileForwardTokens(o: ForwardTokenOptions): ForwardTokens | undefined {
  if (o.idToken === '' && o.accessToken === '') return undefined;
  const format = (name: string, token: string): HeaderPair =>
    [name, o.bearerPrefix === 'always' || (o.bearerPrefix === 'authorization' && name === 'authorization') ? `Bearer ${token}` : token] as const;
  const bearerIsForwarded = o.bearerHeader !== '' && (o.bearerHeader === o.idToken || o.bearerHeader === o.accessToken);

  return (id) => {
    const out: HeaderPair[] = [];
    const put = (name: string, token: string | undefined): void => {
      // A token is one header token: anything else is not passed on (never split into another header).
      if (name === '' || token === undefined || token === '' || UNSAFE.test(token) || out.some(([n]) => n === name)) return;
      out.push(format(name, token));
    };
    if (id.authenticator === 'session') {
      put(o.idToken, id.token);
      put(o.accessToken, id.accessToken);
      return out;
    }
    if (id.authenticator === 'id_token') put(o.idToken, id.token);
    else if (id.authenticator === 'access_token') put(o.accessToken, id.token);
    if (bearerIsForwarded) put(o.bearerHeader, id.token);
    return out;
  };
}
