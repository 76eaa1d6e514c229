/**
 * Signing keys, shared by everything the judge signs — identity assertions (src/signing/) and the
 * egress forwarder's jwtproxy tokens: a private key with its JWS algorithm, its public JWK and its
 * key id (by default the RFC 7638 JWK thumbprint, so every replica names a key alike), key
 * generation, and the CSPRNG nonce used for `jti`.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export type SigningAlg = 'ES256' | 'RS256' | 'EdDSA';
export const SIGNING_ALGS: readonly SigningAlg[] = Object.freeze(['ES256', 'RS256', 'EdDSA']);

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
  /** The public JWK as published: key members, `kid`, `alg`, `use: sig`. */
  readonly publicJwk: JWK;
}

/** The algorithm a key (private or public) is for: RSA → RS256, P-256 → ES256, Ed25519 → EdDSA; undefined for any other key. */
export function algOf(key: KeyObject): SigningAlg | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? 'RS256' : undefined;
  if (type === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ES256' : undefined;
  if (type === 'ed25519') return 'EdDSA';
  return undefined;
}

/** The public members of a JWK (those RFC 7638 hashes, plus nothing private). */
function publicMembers(jwk: JWK): JWK {
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: jwk.n!, e: jwk.e! };
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv!, x: jwk.x!, y: jwk.y! };
  return { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! };
}

/**
 * A signing key from a private key; `kid` absent → the base64url SHA-256 JWK thumbprint (RFC 7638).
 * Throws when the key does not suit an algorithm (RSA < 2048 bits, an EC curve other than P-256).
 */
export async function signingKeyOf(privateKey: KeyObject, kid?: string): Promise<SigningKey> {
  const alg = algOf(privateKey);
  if (privateKey.type !== 'private' || alg === undefined)
    throw new Error('a private key for ES256 (EC P-256), RS256 (RSA ≥ 2048 bits) or EdDSA (Ed25519) is needed');
  const members = publicMembers(await exportJWK(createPublicKey(privateKey)));
  const id = kid ?? (await calculateJwkThumbprint(members, 'sha256'));
  return { kid: id, alg, privateKey, publicJwk: { ...members, kid: id, alg, use: 'sig' } };
}

const generate = promisify(generateKeyPair);

/** A new key for `alg`: EC P-256, RSA 2048 or Ed25519 (generated off the event loop). */
export async function generateSigningKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey } =
    alg === 'ES256'
      ? await generate('ec', { namedCurve: 'prime256v1' })
      : alg === 'RS256'
        ? await generate('rsa', { modulusLength: 2048 })
        : await generate('ed25519');
  return signingKeyOf(privateKey);
}

/** The private JWK of a key with its `kid` and `alg`, for storing it (never published). */
export function privateJwkOf(key: SigningKey): JWK {
  return { ...(key.privateKey.export({ format: 'jwk' }) as JWK), kid: key.kid, alg: key.alg };
}

/** A key back from `privateJwkOf`. Throws when it is not one. */
export function signingKeyFromJwk(jwk: JWK): Promise<SigningKey> {
  return signingKeyOf(createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }), typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : undefined);
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `length` characters from a 64-character alphabet, 6 bits of the CSPRNG each (no modulo bias). */
export function nonce(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += NONCE_ALPHABET[bytes[i]! & 63];
  return out;
}
