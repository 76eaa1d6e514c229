/**
 * The `self-signed` egress token source (oidc-proxy's "manual" type): a JWT this service signs —
 * RS256/384/512 with a PEM RSA key, ES256 with a P-256 key, HS256/384/512 with a secret read as
 * raw bytes or base64 as configured (never guessed). Claims `iss`, `sub`, `aud`, `iat`, `exp`
 * (+ `ttlSeconds`) and the configured extra scalars; header `typ: JWT` and a `kid` (the configured
 * one, or the public key's JWK thumbprint). Tokens go through the per-audience cache; the public
 * key is published as a JWKS.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import type { Clock } from '../../../clock.js';
import type { Logger } from '../../../obs/log.js';
import type { SelfSignedTokenOptions } from './options.js';
import { TokenCache, TokenError, type TokenSource } from './source.js';

export interface SelfSignedDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly readFile: (path: string) => string;
  readonly marginMs?: number;
}

/** The signing key for `o`, checked against the algorithm. Throws with a message naming the option. */
function signingKey(o: SelfSignedTokenOptions, readFile: (path: string) => string): KeyObject {
  if (o.algorithm.startsWith('HS')) {
    const secret = o.secret ?? '';
    const bytes = o.secretEncoding === 'base64' ? Buffer.from(secret, 'base64') : Buffer.from(secret, 'utf8');
    if (bytes.length === 0) throw new Error('token.secret: empty');
    return createSecretKey(bytes);
  }
  let pem: string;
  if (o.keyFile !== undefined) {
    try {
      pem = readFile(o.keyFile);
    } catch (e) {
      throw new Error(`token.keyFile: cannot read ${o.keyFile} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else pem = o.key ?? '';
  const where = o.keyFile !== undefined ? 'token.keyFile' : 'token.key';
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`${where}: not a PEM private key`);
  }
  const d = key.asymmetricKeyDetails;
  if (o.algorithm.startsWith('RS') && (key.asymmetricKeyType !== 'rsa' || (d?.modulusLength ?? 0) < 2048)) {
    throw new Error(`${where}: ${o.algorithm} needs an RSA private key of at least 2048 bits`);
  }
  if (o.algorithm === 'ES256' && (key.asymmetricKeyType !== 'ec' || d?.namedCurve !== 'prime256v1')) {
    throw new Error(`${where}: ES256 needs an EC P-256 private key`);
  }
  return key;
}

export async function selfSignedSource(o: SelfSignedTokenOptions, deps: SelfSignedDeps): Promise<TokenSource> {
  const key = signingKey(o, deps.readFile);
  let publicJwk: JWK | undefined;
  let kid = o.kid;
  if (key.type === 'private') {
    const jwk = await exportJWK(createPublicKey(key));
    kid ??= await calculateJwkThumbprint(jwk);
    publicJwk = { ...jwk, kid, alg: o.algorithm, use: 'sig' };
  }
  const sign = async (audience: string): Promise<{ value: string; expiresAt: number }> => {
    const iat = Math.floor(deps.clock.now() / 1000);
    const exp = iat + o.ttlSeconds;
    try {
      const value = await new SignJWT({ ...o.claims })
        .setProtectedHeader({ alg: o.algorithm, typ: 'JWT', ...(kid !== undefined ? { kid } : {}) })
        .setIssuer(o.issuer)
        .setSubject(o.subject)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(key);
      return { value, expiresAt: exp * 1000 };
    } catch (cause) {
      throw new TokenError('failed', 'signing the token failed', { cause });
    }
  };
  const cache = new TokenCache({ fetch: sign, clock: deps.clock, log: deps.log, ...(deps.marginMs !== undefined ? { marginMs: deps.marginMs } : {}) });
  return {
    token: (audience) => cache.get(o.audience ?? audience),
    ...(publicJwk !== undefined ? { publicKeys: () => [publicJwk] } : {}),
    ready: () => true,
    close: () => {
      cache.clear();
      return Promise.resolve();
    },
  };
}
