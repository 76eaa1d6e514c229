/**
 * The token of an inbound request for the verify-then-proxy forwarder: `Authorization: Bearer
 * <token>` with the scheme matched case-insensitively and extra whitespace tolerated, or — only when
 * asked for (jwtproxy's fallback) — the password of `Authorization: Basic`, whatever the user name.
 * Two `Authorization` headers, or a bearer value with inner whitespace, are a malformed credential.
 */

export type Extracted =
  /** No credential of ours: 401 without an error code. */
  | { readonly kind: 'absent' }
  /** A credential of ours that cannot be a token: 401 `invalid_token`. */
  | { readonly kind: 'malformed' }
  | { readonly kind: 'token'; readonly token: string };

const ABSENT: Extracted = { kind: 'absent' };
const MALFORMED: Extracted = { kind: 'malformed' };

/** `values`: every `Authorization` header of the request (Node's `headersDistinct.authorization`). */
export function extractToken(values: readonly string[] | undefined, basicFallback: boolean): Extracted {
  if (values === undefined || values.length === 0) return ABSENT;
  if (values.length > 1) return MALFORMED;
  const v = values[0]!.trim();
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(v);
  if (m === null) return ABSENT;
  const scheme = m[1]!.toLowerCase();
  const rest = (m[2] ?? '').trim();
  if (scheme === 'bearer') {
    if (rest === '' || /\s/.test(rest)) return MALFORMED;
    return { kind: 'token', token: rest };
  }
  if (scheme === 'basic' && basicFallback) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return MALFORMED;
    const decoded = Buffer.from(rest, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    return password === '' || /\s/.test(password) ? MALFORMED : { kind: 'token', token: password };
  }
  return ABSENT;
}
