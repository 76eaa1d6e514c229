/**
 * What a program login may name as its `redirect_uri`, and its PKCE checks. Programs (the CLI, SDKs)
 * receive the one-time code on a listener of their own machine, as native apps do (RFC 8252 §7.3):
 * `http` to a loopback address, any port, any path. `localhost` is accepted too (§8.3 advises the IP
 * literals, but tools commonly use the name). Anything else could hand the code to another host.
 * PKCE (RFC 7636) with S256 only: the code is useless without the verifier only the program holds.
 */
import { hash, timingSafeEqual } from 'node:crypto';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** RFC 7636 §4.1: 43–128 unreserved characters; the S256 challenge is 43 base64url characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_REDIRECT_URI = 256;

/** The redirect URI when it is a loopback `http` URL, else why it is refused (shown to the user). */
export function loopbackRedirect(raw: string | null): URL | string {
  if (raw === null || raw === '') return 'redirect_uri is missing.';
  if (raw.length > MAX_REDIRECT_URI) return 'redirect_uri is too long.';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'redirect_uri is not a URL.';
  }
  if (url.protocol !== 'http:') return 'redirect_uri must be an http:// loopback address (127.0.0.1, [::1] or localhost).';
  if (!LOOPBACK_HOSTS.has(url.hostname)) return 'redirect_uri must be a loopback address (127.0.0.1, [::1] or localhost).';
  if (url.username !== '' || url.password !== '' || url.hash !== '' || raw.includes('#')) return 'redirect_uri must have no user name and no fragment.';
  return url;
}

/** An S256 `code_challenge` (and its method) as RFC 7636 says, or why not. */
export function challengeProblem(challenge: string | null, method: string | null): string | undefined {
  if (method !== 'S256') return 'code_challenge_method must be S256.';
  if (challenge === null || !CHALLENGE.test(challenge)) return 'code_challenge must be the S256 challenge (43 base64url characters).';
  return undefined;
}

/** True when `verifier` is well formed and its S256 hash is `challenge`. */
export function verifierMatches(verifier: string | null, challenge: string): boolean {
  if (verifier === null || !VERIFIER.test(verifier)) return false;
  const got = Buffer.from(hash('sha256', verifier, 'base64url'));
  const want = Buffer.from(challenge);
  return got.length === want.length && timingSafeEqual(got, want);
}
