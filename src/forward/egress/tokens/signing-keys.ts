/**
 * Signing keys for the jwtproxy-style source: the interface both key sources implement (the active
 * key, the public keys to publish, readiness), and the `preshared` source — one RSA private key
 * (PEM, PKCS#1 `RSA PRIVATE KEY` as jwtproxy wants, or PKCS#8) with its configured key id.
 */
import { createPrivateKey } from 'node:crypto';
import type { JWK } from 'jose';
import { signingKey, type SigningKey } from './jwtproxy-claims.js';

export interface KeySet {
  /** The key requests are signed with now; undefined while none is active (awaiting registry approval). */
  active(): SigningKey | undefined;
  /** Public keys a verifier may meet: the active key and retired keys whose tokens may still be valid. */
  publicJwks(): JWK[];
  ready(): boolean;
  close(): Promise<void>;
}

/** A preshared RSA key. Rejects with a message naming the option. */
export async function presharedKeys(keyFile: string, kid: string, readFile: (path: string) => string): Promise<KeySet> {
  let pem: string;
  try {
    pem = readFile(keyFile);
  } catch (e) {
    throw new Error(`token.keys.preshared.keyFile: cannot read ${keyFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let key: SigningKey;
  try {
    key = await signingKey(createPrivateKey(pem), kid);
  } catch (e) {
    const why = e instanceof Error && /RSA/.test(e.message) ? e.message : 'not a PEM private key';
    throw new Error(`token.keys.preshared.keyFile: ${why}`);
  }
  return {
    active: () => key,
    publicJwks: () => [key.publicJwk],
    ready: () => true,
    close: () => Promise.resolve(),
  };
}
