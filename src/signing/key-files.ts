/**
 * Assertion keys from files — a PEM or JWK private key that signs (a Kubernetes Secret mounted as
 * files is enough), and more keys that are only published (the next key before it signs, the
 * previous one until its last assertion expires: rotation with overlap done by the operator).
 * Also the `AssertionKeys` port both key sources implement.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { algOf, signingKeyOf, type SigningKey } from './key.js';

export interface AssertionKeys {
  /** The key assertions are signed with now; undefined while there is none (the store was never reached). */
  signing(): SigningKey | undefined;
  /** The public keys a verifier may meet: the signing key, the next one, and retired ones whose assertions may still be valid. */
  published(): readonly JWK[];
  close(): Promise<void>;
}

type Read = (path: string) => string;

/** A key object from a file's text: a PEM, or a JWK (JSON). Private when it holds private parts. */
function keyObjectOf(text: string, isPrivate: boolean): KeyObject {
  const t = text.trim();
  if (t.startsWith('{')) {
    const jwk = JSON.parse(t) as JsonWebKey;
    return isPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  }
  return isPrivate ? createPrivateKey(t) : createPublicKey(t);
}

function readKey(path: string, read: Read, setting: string, isPrivate: boolean): { key: KeyObject; kid: string | undefined } {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    throw new Error(`${setting}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let key: KeyObject;
  try {
    key = keyObjectOf(text, isPrivate);
  } catch {
    throw new Error(`${setting}: ${path} is not a ${isPrivate ? 'private' : ''} key (PEM or JWK)`);
  }
  let kid: string | undefined;
  try {
    const j = JSON.parse(text) as { kid?: unknown };
    if (typeof j.kid === 'string' && j.kid !== '') kid = j.kid;
  } catch {
    // A PEM: the key id is the thumbprint.
  }
  return { key, kid };
}

/** The public JWK of a key published only (a private key's public half, or a public key). */
async function publishedJwk(key: KeyObject, kid: string | undefined, setting: string, path: string): Promise<JWK> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const alg = algOf(pub);
  if (alg === undefined) throw new Error(`${setting}: ${path} is not an ES256, RS256 or EdDSA key`);
  const jwk = await exportJWK(pub);
  const id = kid ?? (await calculateJwkThumbprint(jwk, 'sha256'));
  return { ...jwk, kid: id, alg, use: 'sig' };
}

/** Key files read again on a timer: a mounted Secret updated in place rotates without a restart. */
export interface FileKeys extends AssertionKeys {
  /** Reads the files again; rejects (keeping the keys it had) when one cannot be read. */
  refresh(): Promise<void>;
}

export interface FileKeyOptions {
  readonly read: Read;
  /** Epoch ms now; with `retainMs`, a signing key replaced in its file stays published that long (its assertions' lifetime). */
  readonly now?: () => number;
  readonly retainMs?: number;
}

/** The signing key and the published list, as the files hold them now. Throws naming the setting. */
async function readAll(signingFile: string, publishedFiles: readonly string[], read: Read): Promise<{ signing: SigningKey; others: JWK[] }> {
  const { key, kid } = readKey(signingFile, read, 'ASSERTION_KEY_FILE', true);
  let signing: SigningKey;
  try {
    signing = await signingKeyOf(key, kid);
  } catch (e) {
    throw new Error(`ASSERTION_KEY_FILE: ${(e as Error).message}`);
  }
  const others: JWK[] = [];
  for (const path of publishedFiles) {
    const { key: k, kid: id } = readKey(path, read, 'ASSERTION_PUBLISHED_KEY_FILES', false);
    const jwk = await publishedJwk(k, id, 'ASSERTION_PUBLISHED_KEY_FILES', path);
    if (jwk.kid !== signing.kid && !others.some((o) => o.kid === jwk.kid)) others.push(jwk);
  }
  return { signing, others };
}

/**
 * Keys from `signingFile` (signs and is published) and `publishedFiles` (published only). Throws
 * naming the setting. A signing key replaced in its file stays published `retainMs` more.
 */
export async function fileKeys(signingFile: string, publishedFiles: readonly string[], o: FileKeyOptions): Promise<FileKeys> {
  let { signing, others } = await readAll(signingFile, publishedFiles, o.read);
  let retired: { jwk: JWK; until: number }[] = [];
  let all: readonly JWK[] = [];
  const now = o.now ?? Date.now;
  const publish = (): void => {
    const t = now();
    retired = retired.filter((r) => r.until > t && r.jwk.kid !== signing.kid && !others.some((x) => x.kid === r.jwk.kid));
    all = Object.freeze([signing.publicJwk, ...others, ...retired.map((r) => r.jwk)]);
  };
  publish();
  return {
    signing: () => signing,
    published: () => {
      if (retired.length > 0 && retired.some((r) => r.until <= now())) publish();
      return all;
    },
    async refresh() {
      const next = await readAll(signingFile, publishedFiles, o.read);
      if (next.signing.kid !== signing.kid && o.retainMs !== undefined) retired.push({ jwk: signing.publicJwk, until: now() + o.retainMs });
      ({ signing, others } = next);
      publish();
    },
    close: () => Promise.resolve(),
  };
}
