/**
 * Where the verify-then-proxy forwarder gets the key for a token: a JWKS URL (refreshed in the
 * background, refetched on an unknown `kid` at a bounded rate, usable once a fetch succeeded), a
 * public-key PEM, an HMAC secret, one preshared (issuer, kid) public key, or a jwtproxy key
 * registry. Each source fixes the algorithms a token may name: asymmetric ones pinned to the key
 * type, HMAC only for a secret, never `none` — so a token signed with HMAC over a public key, or
 * unsigned, finds no key. Tokens without `kid` are tried only against keys whose `use` is `sig` or
 * absent and whose `kty`/`alg` fit the token's algorithm (jose's key selection).
 */
import type { KeyObject } from 'node:crypto';
import { errors, type CryptoKey, type JWK, type JWSHeaderParameters, type KeyObject as JoseKeyObject } from 'jose';
import type { Clock } from '../../clock.js';
import { HttpClient } from '../../net/http-client.js';
import type { Logger } from '../../obs/log.js';
import { JwksCache, KeysUnavailableError } from '../../oidc/keys.js';
import type { KeyRegistryReader } from '../engine/key-registry.js';

export type VerifyKey = KeyObject | JoseKeyObject | CryptoKey | JWK | Uint8Array;

/** A protected header whose `alg` was already checked against the allow-list. */
export type CheckedHeader = JWSHeaderParameters & { readonly alg: string };

export type KeyLookup =
  | { readonly kind: 'keys'; readonly keys: readonly VerifyKey[] }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface KeySource {
  /** Algorithms a token may name with this source. */
  readonly algorithms: ReadonlySet<string>;
  /** The candidate keys for a token (header and unverified payload). Never throws. */
  lookup(header: CheckedHeader, payload: Readonly<Record<string, unknown>>): Promise<KeyLookup>;
  ready(): boolean;
  close(): void;
}

const EC_ALG: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The algorithms a public key can verify, by its type. */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = EC_ALG[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return alg === undefined ? [] : [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** `pinned` restricted to the configured allow-list (when any). */
export function allowed(pinned: readonly string[], configured: readonly string[] | undefined): Set<string> {
  return new Set(configured === undefined ? pinned : pinned.filter((a) => configured.includes(a)));
}

const one = (key: VerifyKey): KeyLookup => ({ kind: 'keys', keys: [key] });
const NOOP = (): void => undefined;

/** A single key (public-key PEM or HMAC secret). */
export function staticKeySource(key: VerifyKey, algorithms: ReadonlySet<string>): KeySource {
  const found = one(key);
  return { algorithms, lookup: () => Promise.resolve(found), ready: () => true, close: NOOP };
}

/** One public key for one (issuer, kid) pair, both compared case-insensitively (jwtproxy `preshared`). */
export function presharedKeySource(issuer: string, keyId: string, key: KeyObject, algorithms: ReadonlySet<string>): KeySource {
  const iss = issuer.toLowerCase();
  const kid = keyId.toLowerCase();
  const found = one(key);
  return {
    algorithms,
    lookup(header, payload) {
      const ok =
        typeof header.kid === 'string' && header.kid.toLowerCase() === kid && typeof payload['iss'] === 'string' && payload['iss'].toLowerCase() === iss;
      return Promise.resolve(ok ? found : { kind: 'none', reason: 'no key for this issuer and key id' });
    },
    ready: () => true,
    close: NOOP,
  };
}

export interface JwksSourceOptions {
  readonly url: string;
  readonly refreshSeconds: number;
  readonly minRefetchSeconds: number;
  readonly caPem?: string;
  readonly algorithms: ReadonlySet<string>;
  readonly clock: Clock;
  readonly log: Logger;
}

/** A JWKS URL. Resolves after the first fetch (successful or not); refreshes on an unref'ed timer. */
export async function jwksKeySource(o: JwksSourceOptions): Promise<KeySource> {
  const http = new HttpClient({ timeoutMs: 10_000, ...(o.caPem !== undefined ? { caPem: o.caPem } : {}) });
  const cache = new JwksCache({
    uri: o.url,
    http,
    clock: o.clock,
    log: o.log,
    refreshIntervalSeconds: o.refreshSeconds,
    minRefetchIntervalSeconds: o.minRefetchSeconds,
  });
  await cache.refresh('startup');
  const timer = setInterval(() => void cache.refresh('background'), o.refreshSeconds * 1000);
  timer.unref();
  return {
    algorithms: o.algorithms,
    async lookup(header) {
      try {
        return one(await cache.getKey(header, undefined as never));
      } catch (e) {
        if (e instanceof errors.JWKSMultipleMatchingKeys) {
          const keys: VerifyKey[] = [];
          for await (const k of e) keys.push(k);
          return { kind: 'keys', keys };
        }
        if (e instanceof KeysUnavailableError) return { kind: 'unavailable', reason: 'signing keys not loaded yet' };
        if (e instanceof errors.JWKSNoMatchingKey) return { kind: 'none', reason: 'no matching signing key' };
        return { kind: 'none', reason: 'no usable signing key' };
      }
    },
    ready: () => cache.hasKeys,
    close() {
      clearInterval(timer);
      http.close();
    },
  };
}

/** A jwtproxy key registry: the token needs a `kid` header and an `iss` claim; issuers outside `issuers` (when set) are not looked up. */
export function registryKeySource(client: KeyRegistryReader, issuers: readonly string[], algorithms: ReadonlySet<string>): KeySource {
  const only = new Set(issuers);
  return {
    algorithms,
    async lookup(header, payload) {
      const iss = payload['iss'];
      if (typeof header.kid !== 'string' || header.kid === '') return { kind: 'none', reason: 'missing "kid" header' };
      if (typeof iss !== 'string' || iss === '') return { kind: 'none', reason: 'missing or invalid "iss"' };
      if (only.size > 0 && !only.has(iss)) return { kind: 'none', reason: 'issuer not accepted' };
      const a = await client.lookup(iss, header.kid);
      if (a.kind !== 'key') return a;
      if (!algorithmsForKey(a.key).includes(header.alg ?? '') || (a.alg !== undefined && a.alg !== header.alg))
        return { kind: 'none', reason: 'algorithm does not fit the key' };
      return one(a.key);
    },
    ready: () => true,
    close: () => client.close(),
  };
}
