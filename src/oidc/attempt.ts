/**
 * A login attempt kept in the browser, not in the store: a stranger's navigation writes nothing on
 * the server. The attempt (state, nonce, PKCE verifier, return URL, redirect URI, creation time)
 * travels in one cookie per attempt, encrypted and authenticated under keys derived (HKDF-SHA256)
 * from `LOGIN_STATE_SECRET` or from a random secret kept once in the store (`attempt-key.ts`), so
 * the browser can neither read nor change it; a cookie that does not open is no attempt.
 *
 * Cookie value (version 2): base64url(`0x02 || iv (16) || ciphertext || tag (16)`): AES-256-CTR,
 * then HMAC-SHA256 (truncated to 16 bytes) over the cookie's tag, version, IV and ciphertext
 * (encrypt-then-MAC), so a sealed attempt cannot be moved under another cookie name. A login start
 * is on the hot path of every stranger's navigation: a new cipher per attempt (AES-GCM) cost more
 * than the rest of the login start, so the counter-mode keystream comes from one long-lived cipher,
 * in chunks, each block handed out once; the IV in the cookie is where its keystream began.
 * Version 1 cookies (AES-256-GCM, sealed before an upgrade) still open until they expire.
 */
import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

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
  /** The `acr_values` / `max_age` this login asked for (a step-up), recorded with the session it makes. */
  readonly stepUp?: StepUpAsked;
}

export interface StepUpAsked {
  readonly acrValues?: readonly string[];
  readonly maxAge?: number;
}

const VERSION = 0x02;
const IV_BYTES = 16;
const TAG_BYTES = 16;
const V1 = 0x01;
const V1_IV_BYTES = 12;
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

/** The keys of attempt cookies: counter-mode encryption, the MAC (and its HMAC pads), and version 1's AES-GCM key. */
export interface AttemptKey {
  readonly enc: Buffer;
  readonly mac: Buffer;
  readonly v1: Buffer;
  /** `mac` XOR ipad and XOR opad, each one SHA-256 block (RFC 2104), made once: see `hmacInto`. */
  readonly ipad: Buffer;
  readonly opad: Buffer;
}

/** SHA-256's block: HMAC pads the key to it. */
const BLOCK = 64;

/** The attempt-cookie keys from the secret's bytes (HKDF-SHA256, domain-separated). */
export function attemptKey(secret: Uint8Array): AttemptKey {
  const derive = (salt: string, info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
  const mac = derive('oidc-judge login-attempt v2', 'hmac');
  const pad = (byte: number): Buffer => {
    const out = Buffer.alloc(BLOCK, byte);
    for (let i = 0; i < mac.length; i++) out[i]! ^= mac[i]!;
    return out;
  };
  return Object.freeze({
    enc: derive('oidc-judge login-attempt v2', 'ctr'),
    mac,
    v1: derive('oidc-judge login-attempt v1', 'enc'),
    ipad: pad(0x36),
    opad: pad(0x5c),
  });
}

/** Keystream bytes produced per refill (one cipher call serves ~50 attempts). */
const CHUNK = 16384;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * AES-256-CTR keystream from one cipher, started at a random 128-bit counter: `take(n)` hands out
 * the next whole blocks covering `n` bytes with the counter they start at (the IV that reproduces
 * them). Blocks are never handed out twice; the rest of a chunk too short for an attempt is dropped.
 */
export class KeyStream {
  readonly #cipher;
  readonly #start: Buffer;
  /** Blocks produced before the current chunk. */
  #base = 0;
  #chunk = Buffer.alloc(0);
  #at = 0;

  constructor(enc: Buffer, start: Buffer = randomBytes(IV_BYTES)) {
    this.#start = Buffer.from(start);
    this.#cipher = createCipheriv('aes-256-ctr', enc, this.#start);
  }

  take(n: number): { iv: Buffer; pad: Buffer } {
    const bytes = Math.ceil(n / 16) * 16;
    if (this.#at + bytes > this.#chunk.length) {
      this.#base += this.#chunk.length / 16;
      this.#chunk = this.#cipher.update(bytes > CHUNK ? Buffer.alloc(bytes) : ZEROS);
      this.#at = 0;
    }
    const iv = counterPlus(this.#start, this.#base + this.#at / 16);
    const pad = this.#chunk.subarray(this.#at, this.#at + n);
    this.#at += bytes;
    return { iv, pad };
  }
}

/** `start + blocks` as 128-bit big-endian counters (wrapping), as AES-CTR increments them. */
export function counterPlus(start: Buffer, blocks: number): Buffer {
  const out = Buffer.from(start);
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

const streams = new WeakMap<AttemptKey, KeyStream>();
function streamOf(key: AttemptKey): KeyStream {
  let s = streams.get(key);
  if (s === undefined) streams.set(key, (s = new KeyStream(key.enc)));
  return s;
}

/**
 * HMAC-SHA256 (RFC 2104) of `buf[BLOCK..end]`, whose first `BLOCK` bytes the caller left free:
 * they take the key's inner pad, so the inner hash is one one-shot call over the buffer as it
 * stands, the outer one a second over the outer pad and that digest. Half the cost of a
 * `createHmac` object per login start, the same bytes (a test compares them). Returns the MAC
 * truncated to `TAG_BYTES`.
 */
function hmacInto(key: AttemptKey, buf: Buffer, end: number): Buffer {
  key.ipad.copy(buf, 0);
  const outer = Buffer.allocUnsafe(BLOCK + 32);
  key.opad.copy(outer, 0);
  // One-shot `hash` answers strings fastest; hex and binary (latin1) carry the digest's bytes exactly.
  outer.write(hash('sha256', buf.subarray(0, end), 'hex'), BLOCK, 'hex');
  return Buffer.from(hash('sha256', outer, 'binary').slice(0, TAG_BYTES), 'latin1');
}

/** HMAC-SHA256 over tag, version, IV and ciphertext, truncated to `TAG_BYTES`. */
export function macOf(key: AttemptKey, tag: string, body: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(BLOCK + tag.length + body.length);
  buf.write(tag, BLOCK, 'latin1');
  body.copy(buf, BLOCK + tag.length);
  return hmacInto(key, buf, buf.length);
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

/** Seals an attempt for the cookie of `tag` (`stream`: where the keystream comes from; tests inject one). */
export function sealAttempt(key: AttemptKey, tag: string, attempt: Attempt, stream: KeyStream = streamOf(key)): string {
  const fields: unknown[] = [attempt.state, attempt.nonce, attempt.codeVerifier, attempt.returnTo, attempt.redirectUri, attempt.createdAt];
  // A step-up's ask is a 7th member, [acrValues | null, maxAge | null]; a plain login's payload is unchanged.
  if (attempt.stepUp !== undefined) fields.push([attempt.stepUp.acrValues ?? null, attempt.stepUp.maxAge ?? null]);
  const json = JSON.stringify(fields);
  const length = Buffer.byteLength(json, 'utf8');
  const { iv, pad } = stream.take(length);
  // One buffer: [room for the MAC's inner pad | tag | version | IV | ciphertext | MAC]; the cookie is all after the tag.
  const start = BLOCK + tag.length;
  const at = start + 1 + IV_BYTES;
  const buf = Buffer.allocUnsafe(at + length + TAG_BYTES);
  buf.write(tag, BLOCK, 'latin1');
  buf[start] = VERSION;
  iv.copy(buf, start + 1);
  buf.write(json, at, 'utf8');
  for (let i = 0; i < length; i++) buf[at + i]! ^= pad[i]!;
  hmacInto(key, buf, at + length).copy(buf, at + length);
  return buf.toString('base64url', start);
}

/** Opens the cookie of `tag`: the attempt, or `undefined` when tampered with, foreign, malformed or of an unknown version. Never throws. */
export function openAttempt(key: AttemptKey, tag: string, value: string): Attempt | undefined {
  if (value.length > MAX_SEALED_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  const buf = Buffer.from(value, 'base64url');
  try {
    if (buf[0] === V1) return openV1(key, tag, buf);
    if (buf.length < 1 + IV_BYTES + TAG_BYTES + 2 || buf[0] !== VERSION) return undefined;
    const end = buf.length - TAG_BYTES;
    if (!timingSafeEqual(macOf(key, tag, buf.subarray(0, end)), buf.subarray(end))) return undefined;
    const decipher = createDecipheriv('aes-256-ctr', key.enc, buf.subarray(1, 1 + IV_BYTES));
    const json = Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES, end)), decipher.final()]).toString('utf8');
    return parseAttempt(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** A version 1 cookie: AES-256-GCM, `0x01 || iv (12) || ciphertext || tag (16)`, AAD = the cookie's tag, an attempt object. */
function openV1(key: AttemptKey, tag: string, buf: Buffer): Attempt | undefined {
  if (buf.length < 1 + V1_IV_BYTES + TAG_BYTES + 2) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key.v1, buf.subarray(1, 1 + V1_IV_BYTES));
  decipher.setAAD(Buffer.from(tag, 'latin1'));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  const json = Buffer.concat([decipher.update(buf.subarray(1 + V1_IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  const a = JSON.parse(json) as Record<string, unknown> | null;
  return a !== null && typeof a === 'object' && a['v'] === 1
    ? parseAttempt([a['state'], a['nonce'], a['codeVerifier'], a['returnTo'], a['redirectUri'], a['createdAt']])
    : undefined;
}

/** The attempt a version 2 payload (`[state, nonce, codeVerifier, returnTo, redirectUri, createdAt, stepUp?]`) holds. */
function parseAttempt(a: unknown): Attempt | undefined {
  if (!Array.isArray(a) || (a.length !== 6 && a.length !== 7)) return undefined;
  const [state, nonce, codeVerifier, returnTo, redirectUri, createdAt, ask] = a as unknown[];
  if (typeof createdAt !== 'number' || ![state, nonce, codeVerifier, returnTo, redirectUri].every((x) => typeof x === 'string')) return undefined;
  const attempt = { v: 1, state, nonce, codeVerifier, returnTo, redirectUri, createdAt } as Attempt;
  if (ask === undefined) return attempt;
  const stepUp = stepUpOf(ask);
  return stepUp === undefined ? undefined : { ...attempt, stepUp };
}

function stepUpOf(v: unknown): StepUpAsked | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [acr, maxAge] = v as unknown[];
  const acrOk = acr === null || (Array.isArray(acr) && acr.every((x) => typeof x === 'string'));
  const ageOk = maxAge === null || (typeof maxAge === 'number' && Number.isSafeInteger(maxAge) && maxAge >= 0);
  if (!acrOk || !ageOk) return undefined;
  return { ...(acr !== null ? { acrValues: acr as string[] } : {}), ...(maxAge !== null ? { maxAge: maxAge as number } : {}) };
}
