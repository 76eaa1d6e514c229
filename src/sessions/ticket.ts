/**
 * Secret ids and what the stores see of them. A session id is 256 random bits
 * that only the browser keeps; the store is keyed by a hash of it (`storeKey`) and holds the
 * record encrypted under a key derived from it (`seal`), so reading the store yields neither
 * cookies nor tokens, and a record cannot be moved to another key (the key is the AAD).
 *
 * Sealed format: `0x01 || iv (12) || ciphertext || tag (16)`, AES-256-GCM with
 * key = HKDF-SHA256(ikm = id, salt = 'oidc-judge <purpose> v1', info = 'enc', 32 bytes).
 */
import { createCipheriv, createDecipheriv, createHmac, hash, randomBytes } from 'node:crypto';

/**
 * `state` is not used any more (login attempts live in cookies); kept so the domain separation stays tested.
 * `program-code`: a program login's one-time code (oidc/programs/codes.ts); `device`, `device-user`: a
 * device login's records by device code and by user code (oidc/programs/device.ts).
 */
export type TicketPurpose = 'session' | 'state' | 'program-code' | 'device' | 'device-user';

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

/**
 * The key a backend stores the record of `id` under: a domain-separated SHA-256, base64url. (The
 * one-shot `crypto.hash` here and below: no Hash object per call on the uncached read path.)
 */
export function storeKey(purpose: TicketPurpose, id: string): string {
  return hash('sha256', `oidc-judge/${purpose}/key\0${id}`, 'base64url');
}

const SALTS: Record<TicketPurpose, string> = {
  session: 'oidc-judge session v1',
  state: 'oidc-judge state v1',
  'program-code': 'oidc-judge program-code v1',
  device: 'oidc-judge device v1',
  'device-user': 'oidc-judge device-user v1',
};
/** HKDF's `info || 0x01`: the input of the one output block a 32-byte key needs. */
const ENC_BLOCK_1 = Buffer.from('enc\x01', 'latin1');

/**
 * HKDF-SHA256(ikm = id, salt, info = 'enc', 32 bytes) (RFC 5869), written out: one 32-byte output
 * block is T(1) = HMAC(PRK, info || 0x01) with PRK = HMAC(salt, ikm). The same bytes as
 * `crypto.hkdfSync` (a test holds them equal), for a third of its cost on every uncached read.
 */
export function encryptionKey(purpose: TicketPurpose, id: string): Buffer {
  const prk = createHmac('sha256', SALTS[purpose]).update(id).digest();
  return createHmac('sha256', prk).update(ENC_BLOCK_1).digest();
}

/** Encrypts `plaintext` for the record of `id` (`key`: its `storeKey`, when the caller has it). */
export function seal(purpose: TicketPurpose, id: string, plaintext: string, key = storeKey(purpose, id)): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(purpose, id), iv);
  cipher.setAAD(Buffer.from(key));
  const body = cipher.update(plaintext, 'utf8');
  const last = cipher.final();
  return Buffer.concat([Buffer.of(VERSION), iv, body, last, cipher.getAuthTag()]);
}

/**
 * Decrypts a record of `id` (`key`: its `storeKey`, when the caller has it); `undefined` when it
 * was tampered with, is for another id or purpose, or has an unknown version. Never throws.
 */
export function unseal(purpose: TicketPurpose, id: string, sealed: Uint8Array, key = storeKey(purpose, id)): string | undefined {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey(purpose, id), buf.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(key));
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const head = decipher.update(buf.subarray(1 + IV_BYTES, buf.length - TAG_BYTES));
    return Buffer.concat([head, decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** The index value (`SessionIndex.subject` / `.sid`) for a claim value of issuer `iss`: base64url SHA-256 of `iss\0value`. */
export function indexHash(iss: string, value: string): string {
  return hash('sha256', `${iss}\0${value}`, 'base64url');
}

/**
 * The key under which a one-time value is claimed in the store: a logout token's `jti` from issuer
 * `iss`, or a spent login `state` (of client `iss` = CLIENT_ID).
 */
export function claimKey(kind: 'logout-jti' | 'login-state' | 'program-code' | 'device-code' | 'device-approval', iss: string, value: string): string {
  return hash('sha256', `oidc-judge/${kind}\0${iss}\0${value}`, 'base64url');
}
