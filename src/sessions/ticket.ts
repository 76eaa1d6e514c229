/**
 * Secret ids and what the stores see of them. A session (or login state) id is 256 random bits
 * that only the browser keeps; the store is keyed by a hash of it (`storeKey`) and holds the
 * record encrypted under a key derived from it (`seal`), so reading the store yields neither
 * cookies nor tokens, and a record cannot be moved to another key (the key is the AAD).
 *
 * Sealed format: `0x01 || iv (12) || ciphertext || tag (16)`, AES-256-GCM with
 * key = HKDF-SHA256(ikm = id, salt = 'oidc-judge <purpose> v1', info = 'enc', 32 bytes).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export type TicketPurpose = 'session' | 'state';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new secret id: 32 CSPRNG bytes, base64url (43 characters). */
export function newSecretId(): string {
  return randomBytes(32).toString('base64url');
}

/** True when `s` has the shape of an id from `newSecretId` (cheap check before any store access). */
export function isWellFormedId(s: string): boolean {
  return ID_PATTERN.test(s);
}

const STATE_PATTERN = /^([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_-]{16}))?$/;

/** The 16-character tag binding a login-state id to the browser (`browserHash`) that started it. */
function stateTag(base: string, browser: string): string {
  return createHash('sha256').update(`oidc-judge/state-tag\0${base}\0${browser}`).digest('base64url').slice(0, 16);
}

/** A new login `state` value, `<secret id>.<tag>`: the callback can tell another browser's state without spending it. */
export function newStateId(browser: string): string {
  const base = newSecretId();
  return `${base}.${stateTag(base, browser)}`;
}

/** True when `s` has the shape of a `state` value (tagged, or untagged as before tags existed). */
export function isWellFormedStateId(s: string): boolean {
  return STATE_PATTERN.test(s);
}

/** Whether a `state` value was started by one of these browsers; untagged (older) values cannot tell, so they pass. */
export function stateStartedBy(stateId: string, browsers: readonly string[]): boolean {
  const m = STATE_PATTERN.exec(stateId);
  if (!m) return false;
  if (m[2] === undefined) return true;
  return browsers.some((b) => stateTag(m[1]!, b) === m[2]);
}

/** The key a backend stores the record of `id` under: a domain-separated SHA-256, base64url. */
export function storeKey(purpose: TicketPurpose, id: string): string {
  return createHash('sha256').update(`oidc-judge/${purpose}/key\0${id}`).digest('base64url');
}

function encryptionKey(purpose: TicketPurpose, id: string): Buffer {
  return Buffer.from(hkdfSync('sha256', id, `oidc-judge ${purpose} v1`, 'enc', 32));
}

/** Encrypts `plaintext` for the record of `id`. */
export function seal(purpose: TicketPurpose, id: string, plaintext: string): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(purpose, id), iv);
  cipher.setAAD(Buffer.from(storeKey(purpose, id)));
  const body = cipher.update(plaintext, 'utf8');
  const last = cipher.final();
  return Buffer.concat([Buffer.of(VERSION), iv, body, last, cipher.getAuthTag()]);
}

/** Decrypts a record of `id`; `undefined` when it was tampered with, is for another id or purpose, or has an unknown version. Never throws. */
export function unseal(purpose: TicketPurpose, id: string, sealed: Uint8Array): string | undefined {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(purpose, id), buf.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(storeKey(purpose, id)));
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const head = decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES));
    return Buffer.concat([head, decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The index value (`SessionIndex.subject` / `.sid`) for a claim value of issuer `iss`: base64url SHA-256 of `iss\0value`. */
export function indexHash(iss: string, value: string): string {
  return createHash('sha256').update(`${iss}\0${value}`).digest('base64url');
}

/** The key under which a one-time value (a logout token's `jti` from issuer `iss`) is claimed in the store. */
export function claimKey(kind: 'logout-jti', iss: string, value: string): string {
  return createHash('sha256').update(`oidc-judge/${kind}\0${iss}\0${value}`).digest('base64url');
}
