/**
 * Header values as Node writes them, shared by every listener that answers with identity headers
 * (the HTTP front door, the forwarder's replies and proxied responses).
 */

/**
 * Node writes header strings as Latin-1; identity values (user names, groups) are Unicode, so
 * non-ASCII values go out as their UTF-8 bytes, which is what upstream applications decode.
 */
export function wireValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v;
}
