/**
 * The bearer credential of a header value, read one way by everyone who reads one: the token
 * authenticators, the external authorizer and logout.
 */

/** Reads a bearer credential from a header value: an optional `Bearer ` prefix (any case) is stripped. */
export function bearerFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (v.length > 7 && v.slice(0, 7).toLowerCase() === 'bearer ') v = v.slice(7).trim();
  return v === '' ? undefined : v;
}
