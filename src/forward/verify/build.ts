/**
 * Turns parsed verify options into live parts: the key source (reading key, secret and token
 * files), the replay store, the upstream TLS settings. Failures reject with a message naming the
 * option (`keys.file: cannot read …`), never the secret itself.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { ForwarderDeps } from '../engine/mode.js';
import { parseUpstream, type UpstreamTls } from '../engine/proxy.js';
import { proxyFromEnv } from '../engine/proxy-via.js';
import { MemoryReplayStore, type ReplayStore } from './replay.js';
import { RedisReplayStore } from './replay-redis.js';
import { ASYMMETRIC_ALGS, HMAC_ALGS } from '../../authn/jwt-peek.js';
import { algorithmsForKey, allowed, jwksKeySource, presharedKeySource, registryKeySource, staticKeySource, type KeySource } from './keys.js';
import { decodeSecret, type UpstreamTlsOptions, type VerifyOptions } from './options.js';
import { KeyRegistryReader } from '../engine/key-registry.js';
import { staticTokenOf, type StaticToken } from './token.js';

function read(deps: ForwarderDeps, option: string, path: string): string {
  try {
    return deps.readFile(path);
  } catch (e) {
    throw new Error(`${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function publicKey(option: string, pem: string): KeyObject {
  if (/PRIVATE KEY-----/.test(pem)) throw new Error(`${option}: is a private key; give the public key (PEM "PUBLIC KEY")`);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error(`${option}: not a PEM public key`);
  }
  if (algorithmsForKey(key).length === 0) throw new Error(`${option}: unsupported key type ${key.asymmetricKeyType ?? ''}`);
  return key;
}

function nonEmpty(option: string, algs: Set<string>): Set<string> {
  if (algs.size === 0) throw new Error(`${option}: none of the allowed algorithms fits this key`);
  return algs;
}

export type BuiltKeys = { readonly keys: KeySource } | { readonly staticToken: StaticToken };

export async function buildKeys(o: VerifyOptions, deps: ForwarderDeps): Promise<BuiltKeys> {
  const k = o.keys;
  const pemOf = (x: { pem?: string; file?: string }): string => x.pem ?? read(deps, 'keys.file', x.file!);
  switch (k.source) {
    case 'jwks': {
      const caPem = k.caFile === undefined ? undefined : read(deps, 'keys.caFile', k.caFile);
      const algorithms = nonEmpty('algorithms', allowed(ASYMMETRIC_ALGS, o.algorithms));
      return {
        keys: await jwksKeySource({
          url: k.url,
          refreshSeconds: k.refreshSeconds,
          minRefetchSeconds: k.minRefetchSeconds,
          algorithms,
          clock: deps.clock,
          log: deps.log,
          ...(caPem !== undefined ? { caPem } : {}),
        }),
      };
    }
    case 'public-key': {
      const key = publicKey(k.pem !== undefined ? 'keys.pem' : 'keys.file', pemOf(k));
      return { keys: staticKeySource(key, nonEmpty('algorithms', allowed(algorithmsForKey(key), o.algorithms))) };
    }
    case 'preshared': {
      const key = publicKey(k.pem !== undefined ? 'keys.pem' : 'keys.file', pemOf(k));
      return { keys: presharedKeySource(k.issuer, k.keyId, key, nonEmpty('algorithms', allowed(algorithmsForKey(key), o.algorithms))) };
    }
    case 'hmac': {
      const text = k.secret ?? read(deps, 'keys.secretFile', k.secretFile!).replace(/\r?\n$/, '');
      let secret: Uint8Array;
      try {
        secret = decodeSecret(text, k.encoding);
      } catch (e) {
        throw new Error(`${k.secret !== undefined ? 'keys.secret' : 'keys.secretFile'}: ${(e as Error).message}`);
      }
      if (secret.length === 0) throw new Error('keys.secret: is empty');
      if (secret.length < 32) deps.log.warn('keys.secret: an HMAC secret shorter than 32 bytes is weak');
      return { keys: staticKeySource(secret, nonEmpty('algorithms', allowed(HMAC_ALGS, o.algorithms))) };
    }
    case 'key-registry': {
      const caPem = k.caFile === undefined ? undefined : read(deps, 'keys.caFile', k.caFile);
      const client = new KeyRegistryReader({ url: k.url, clock: deps.clock, log: deps.log, ...(caPem !== undefined ? { caPem } : {}) });
      return { keys: registryKeySource(client, o.issuers, nonEmpty('algorithms', allowed(ASYMMETRIC_ALGS, o.algorithms))) };
    }
    case 'static-token': {
      const token = (k.token ?? read(deps, 'keys.tokenFile', k.tokenFile!)).trim();
      if (token === '') throw new Error('keys.token: is empty');
      const st = staticTokenOf(token);
      if (st.claims === undefined && (o.issuers.length > 0 || o.audiences.length > 0 || o.claims.length > 0 || o.maxTtlSeconds !== undefined)) {
        throw new Error('keys.token: is not a JWT, so issuer, audience, claims and maxTtlSeconds cannot be checked; remove them');
      }
      const exp = st.claims?.['exp'];
      if (typeof exp === 'number' && exp * 1000 <= deps.clock.now()) deps.log.warn('keys.token: the static token has expired; every request will be refused');
      return { staticToken: st };
    }
  }
}

export async function buildReplay(o: VerifyOptions, deps: ForwarderDeps): Promise<ReplayStore | undefined> {
  const r = o.replay;
  if (r.store === 'off') return undefined;
  if (r.store === 'memory') return new MemoryReplayStore({ clock: deps.clock, purgeSeconds: r.purgeSeconds, maxEntries: r.maxEntries });
  const password = r.passwordFile === undefined ? undefined : read(deps, 'replay.passwordFile', r.passwordFile).trim();
  const ca = r.caFile === undefined ? undefined : read(deps, 'replay.caFile', r.caFile);
  const store = new RedisReplayStore({
    ...r.redis,
    ...(password !== undefined ? { password } : {}),
    ...(ca !== undefined ? { ca } : {}),
    clock: deps.clock,
    log: deps.log,
  });
  // Start without Redis if need be (not ready, 503 on tokens), but give a running one time to answer.
  await store.connected(2000);
  return store;
}

export function buildUpstreamTls(t: UpstreamTlsOptions | undefined, deps: ForwarderDeps): UpstreamTls | undefined {
  if (t === undefined) return undefined;
  const ca = t.caFile === undefined ? undefined : read(deps, 'upstreamTls.caFile', t.caFile);
  return {
    rejectUnauthorized: !t.insecureSkipVerify,
    ...(ca !== undefined ? { ca: t.caMode === 'replace' ? ca : [...rootCertificates, ca].join('\n') } : {}),
    ...(t.certFile !== undefined ? { cert: read(deps, 'upstreamTls.certFile', t.certFile) } : {}),
    ...(t.keyFile !== undefined ? { key: read(deps, 'upstreamTls.keyFile', t.keyFile) } : {}),
    ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
  };
}

/** The forward proxy for the upstream: the option's URL, none, or what HTTP(S)_PROXY / NO_PROXY say. */
export function upstreamVia(o: VerifyOptions, deps: ForwarderDeps): string | undefined {
  if (o.upstreamProxy === 'none') return undefined;
  if (o.upstreamProxy !== 'env') return o.upstreamProxy;
  const { url, socketPath } = parseUpstream(o.upstream);
  return socketPath !== undefined ? undefined : proxyFromEnv(url, deps.env ?? {});
}
