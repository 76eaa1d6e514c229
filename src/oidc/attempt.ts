/**
 * A login attempt kept in the browser, not in the store: a stranger's navigation writes nothing on
 * the server. The attempt (state, nonce, PKCE verifier, return URL, redirect URI, creation time)
 * travels in one cookie per attempt, sealed with AES-256-GCM under a key derived (HKDF-SHA256)
 * from `LOGIN_STATE_SECRET` or from a random secret kept once in the store (`attempt-key.ts`), so
 * the browser can neither read nor change it; a cookie that does not open is no attempt.
 *
 * Cookie value: base64url(`0x01 || iv (12) || ciphertext || tag (16)`), AAD = the cookie's tag,
 * so a sealed attempt cannot be moved under another cookie name.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface Attempt {
  readonly v: 1;
  /** The `state` sent to the provider: `<43 random characters>.<tag>`, the tag naming the cookie. */
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** Where the browser goes after the login (validated when the attempt started). */
  readonly returnTo: string;
  /** The `redirect_uri` of the authorization request (the code exchange repeats it). */
  readonly redirectUri: string;
  /** Epoch ms; the attempt ends `LOGIN_STATE_TTL` later. */
  readonly createdAt: number;
}

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A cookie tag: 8 base64url characters (48 random bits). */
const TAG_PATTERN = /^[A-Za-z0-9_-]{8}$/;
const STATE_PATTERN = /^[A-Za-z0-9_-]{43}\.([A-Za-z0-9_-]{8})$/;
/** Sealed values longer than this are not even tried (a cookie holds at most ~4 KiB). */
const MAX_SEALED_CHARS = 4096;

/**
 * Random bytes taken from a buffer refilled 8 KiB at a time: one CSPRNG call serves ~50 login
 * starts (each call costs several µs, as much as the rest of a login start's crypto). Every byte
 * is handed out once.
 */
export class RandomPool {
  #buf = Buffer.alloc(0);
  #at = 0;
  take(n: number): Buffer {
    if (this.#at + n > this.#buf.length) {
      this.#buf = randomBytes(Math.max(8192, n));
      this.#at = 0;
    }
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** The AES-256 key for attempt cookies, from the secret's bytes (HKDF-SHA256, domain-separated). */
export function attemptKey(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'oidc-judge login-attempt v1', 'enc', 32));
}

/** A new cookie tag. */
export function newTag(random: (n: number) => Buffer = randomBytes): string {
  return random(6).toString('base64url');
}

/** The cookie tag a `state` value names, or `undefined` when it has not the shape of ours. */
export function tagOfState(state: string): string | undefined {
  return STATE_PATTERN.exec(state)?.[1];
}

export function isTag(s: string): boolean {
  return TAG_PATTERN.test(s);
}

/** Seals an attempt for the cookie of `tag` (`random`: where the IV comes from). */
export function sealAttempt(key: Buffer, tag: string, attempt: Attempt, random: (n: number) => Buffer = randomBytes): string {
  const iv = random(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(tag, 'latin1'));
  const body = cipher.update(JSON.stringify(attempt), 'utf8');
  cipher.final(); // GCM: no further output
  const out = Buffer.allocUnsafe(1 + IV_BYTES + body.length + TAG_BYTES);
  out[0] = VERSION;
  iv.copy(out, 1);
  body.copy(out, 1 + IV_BYTES);
  cipher.getAuthTag().copy(out, 1 + IV_BYTES + body.length);
  return out.toString('base64url');
}

/** Opens the cookie of `tag`: the attempt, or `undefined` when tampered with, foreign, malformed or of an unknown version. Never throws. */
export function openAttempt(key: Buffer, tag: string, value: string): Attempt | undefined {
  if (value.length > MAX_SEALED_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const buf = Buffer.from(value, 'base64url');
  if (buf.length < 1 + IV_BYTES + TAG_BYTES + 2 || buf[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(tag, 'latin1'));
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const json = Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    return parseAttempt(JSON.parse(json));
  } catch {
    return undefined;
  }
}

function parseAttempt(a: unknown): Attempt | undefined {
  if (typeof a !== 'object' || a === null) return undefined;
  const r = a as Record<string, unknown>;
  const strings = ['state', 'nonce', 'codeVerifier', 'returnTo', 'redirectUri'] as const;
  if (r['v'] !== 1 || typeof r['createdAt'] !== 'number' || !strings.every((k) => typeof r[k] === 'string')) return undefined;
  return a as Attempt;
}
