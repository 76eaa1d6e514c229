/**
 * The options of a `mode: verify` forwarder block and their validation (every problem collected,
 * each naming `forwarders[i].<key>`). See docs/forwarders/verify.md for the meaning
 * and defaults of each key.
 */
import { invalidCidrs } from '../../net/cidr.js';
import { parseUpstream } from '../engine/proxy.js';
import { parseVia } from '../engine/proxy-via.js';
import { OptionReader, type Raw } from '../../config/block.js';
import { verifyBlock as block } from '../../config/forward-blocks/verify.js';
import { ASYMMETRIC_ALGS, HMAC_ALGS } from '../../authn/jwt-peek.js';
import { compileClaimRequirements, type ClaimRequirement } from './required-claims.js';
import { parseReplay, type ReplayOptions } from './replay-options.js';

export type SecretEncoding = 'raw' | 'base64';

export type KeysOptions =
  | { readonly source: 'jwks'; readonly url: string; readonly refreshSeconds: number; readonly minRefetchSeconds: number; readonly caFile?: string }
  | { readonly source: 'public-key'; readonly pem?: string; readonly file?: string }
  | { readonly source: 'hmac'; readonly secret?: string; readonly secretFile?: string; readonly encoding: SecretEncoding }
  | { readonly source: 'static-token'; readonly token?: string; readonly tokenFile?: string }
  | { readonly source: 'key-registry'; readonly url: string; readonly caFile?: string }
  | { readonly source: 'preshared'; readonly issuer: string; readonly keyId: string; readonly pem?: string; readonly file?: string };

export interface UpstreamTlsOptions {
  readonly caFile?: string;
  /** `add`: the CA file is trusted besides Node's roots (default); `replace`: only it (jwtproxy). */
  readonly caMode: 'add' | 'replace';
  readonly insecureSkipVerify: boolean;
  readonly serverName?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface VerifyOptions {
  readonly upstream: string;
  readonly upstreamTls?: UpstreamTlsOptions;
  /** `env` (default: HTTP(S)_PROXY / NO_PROXY from the environment), `none`, or an `http://host:port` proxy URL. */
  readonly upstreamProxy: string;
  readonly host: 'upstream' | 'client';
  readonly trustedProxies: readonly string[];
  readonly keys: KeysOptions;
  /** Algorithm allow-list; undefined: every algorithm the key source supports. */
  readonly algorithms?: readonly string[];
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly audienceMatch: 'exact' | 'origin';
  readonly skewSeconds: number;
  readonly maxTtlSeconds?: number;
  readonly requireSub: boolean;
  readonly claims: readonly ClaimRequirement[];
  readonly replay: ReplayOptions;
  readonly passThroughToken: boolean;
  readonly basicAuthFallback: boolean;
  readonly identityHeaders: boolean;
  readonly timeouts: { readonly connectMs?: number; readonly responseMs?: number; readonly idleMs?: number };
}

export type { ReplayOptions };

const SOURCES = ['jwks', 'public-key', 'hmac', 'static-token', 'key-registry', 'preshared'] as const;
const ALL_ALGS: readonly string[] = [...ASYMMETRIC_ALGS, ...HMAC_ALGS];
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;

/** Decodes a secret as its encoding says; throws a message when base64 is asked for and it is not. */
export function decodeSecret(text: string, encoding: SecretEncoding): Uint8Array {
  if (encoding === 'raw') return new TextEncoder().encode(text);
  const t = text.trim();
  if (!BASE64.test(t)) throw new Error('is not valid base64');
  return Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
}

function parseKeys(r: OptionReader): KeysOptions | undefined {
  const source = r.oneOf('source', SOURCES);
  const caFile = () => r.str('caFile', { nonEmpty: true });
  const pemOrFile = (): { pem?: string; file?: string } | undefined => {
    const which = r.exactlyOne(['pem', 'file'], 'the public key, as PEM text or a PEM file');
    const v = which === undefined ? undefined : r.str(which, { required: true });
    if (which === 'pem' && v !== undefined && !v.includes('-----BEGIN')) return r.fail('pem', 'must be PEM text (-----BEGIN PUBLIC KEY-----)');
    return v === undefined ? undefined : which === 'pem' ? { pem: v } : { file: v };
  };
  switch (source) {
    case undefined:
      return undefined;
    case 'jwks': {
      const url = r.url('url', { required: true });
      const refreshSeconds = r.num('refreshSeconds', { min: 10, max: 86_400, def: 600 })!;
      const minRefetchSeconds = r.num('minRefetchSeconds', { min: 0, max: 86_400, def: 30 })!;
      const ca = caFile();
      return url === undefined ? undefined : { source, url, refreshSeconds, minRefetchSeconds, ...(ca !== undefined ? { caFile: ca } : {}) };
    }
    case 'public-key': {
      const k = pemOrFile();
      return k === undefined ? undefined : { source, ...k };
    }
    case 'hmac': {
      const which = r.exactlyOne(['secret', 'secretFile'], 'the HMAC secret');
      const v = which === undefined ? undefined : r.str(which, { required: true });
      const encoding = r.oneOf<SecretEncoding>('encoding', ['raw', 'base64']);
      if (which === 'secret' && v !== undefined && encoding !== undefined) {
        try {
          decodeSecret(v, encoding);
        } catch (e) {
          return r.fail('secret', (e as Error).message);
        }
      }
      if (v === undefined || encoding === undefined) return undefined;
      return which === 'secret' ? { source, secret: v, encoding } : { source, secretFile: v, encoding };
    }
    case 'static-token': {
      const which = r.exactlyOne(['token', 'tokenFile'], 'the expected token');
      const v = which === undefined ? undefined : r.str(which, { required: true });
      if (v === undefined) return undefined;
      return which === 'token' ? { source, token: v.trim() } : { source, tokenFile: v };
    }
    case 'key-registry': {
      const url = r.url('url', { required: true });
      const ca = caFile();
      return url === undefined ? undefined : { source, url, ...(ca !== undefined ? { caFile: ca } : {}) };
    }
    case 'preshared': {
      const issuer = r.str('issuer', { required: true });
      const keyId = r.str('keyId', { required: true });
      const k = pemOrFile();
      return issuer === undefined || keyId === undefined || k === undefined ? undefined : { source, issuer, keyId, ...k };
    }
  }
}

function parseUpstreamTls(r: OptionReader): UpstreamTlsOptions {
  const caFile = r.str('caFile', { nonEmpty: true });
  const certFile = r.str('certFile', { nonEmpty: true });
  const keyFile = r.str('keyFile', { nonEmpty: true });
  const serverName = r.str('serverName', { nonEmpty: true });
  if ((certFile === undefined) !== (keyFile === undefined)) r.errs.push(`${r.at}: certFile and keyFile go together`);
  return {
    caMode: r.oneOf('caMode', ['add', 'replace'] as const, 'add')!,
    insecureSkipVerify: r.bool('insecureSkipVerify', false),
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    ...(serverName !== undefined ? { serverName } : {}),
  };
}

export function parseVerifyOptions(raw: Raw, at: string, errs: string[]): VerifyOptions {
  const r = new OptionReader(raw, at, errs);
  const upstream = r.get(block.upstream);
  if (upstream !== undefined) {
    try {
      parseUpstream(upstream);
    } catch (e) {
      r.fail('upstream', (e as Error).message);
    }
  }
  const upstreamProxy = r.getOr(block.upstreamProxy);
  if (upstreamProxy !== 'env' && upstreamProxy !== 'none') {
    try {
      parseVia(upstreamProxy);
    } catch (e) {
      r.fail('upstreamProxy', `${(e as Error).message} (or env, none)`);
    }
  }
  const tlsReader = r.sub(block.upstreamTls);
  const upstreamTls = tlsReader === undefined ? undefined : parseUpstreamTls(tlsReader);
  tlsReader?.done();
  const keysReader = r.sub(block.keys);
  const keys = keysReader === undefined ? undefined : parseKeys(keysReader);
  keysReader?.done();
  const algorithms = r.get(block.algorithms);
  for (const a of algorithms ?? [])
    if (!ALL_ALGS.includes(a)) r.fail('algorithms', `"${a}" is not supported (supported: ${ALL_ALGS.join(', ')}; never "none")`);
  const issuers = r.get(block.issuer) ?? [];
  const isStatic = keys?.source === 'static-token';
  const audiences = r.get(block.audience, { required: !isStatic && keys !== undefined }) ?? [];
  const trustedProxies = r.get(block.trustedProxies) ?? [];
  for (const bad of invalidCidrs(trustedProxies)) r.fail('trustedProxies', `"${bad}" is not an IP address or CIDR range`);
  const claimsRaw = r.get(block.claims);
  const claims = claimsRaw === undefined ? [] : compileClaimRequirements(claimsRaw, r.where('claims'), errs);
  const replay = parseReplay(r, block.replay);
  if (isStatic && replay.store !== 'off') r.fail('replay', 'a static token is the same on every request: replay protection needs a signed-token key source');
  const maxTtlSeconds = r.get(block.maxTtlSeconds);
  const t = r.sub(block.timeouts);
  const timeout = (k: string): number | undefined => t?.num(k, { min: 1, max: 86_400_000, integer: true });
  const timeouts = { connectMs: timeout('connectMs'), responseMs: timeout('responseMs'), idleMs: timeout('idleMs') };
  t?.done();
  const options: VerifyOptions = {
    upstream: upstream ?? '',
    ...(upstreamTls !== undefined ? { upstreamTls } : {}),
    upstreamProxy,
    host: r.getOr(block.host),
    trustedProxies,
    keys: keys ?? { source: 'static-token', token: '' },
    ...(algorithms !== undefined ? { algorithms } : {}),
    issuers,
    audiences,
    audienceMatch: r.getOr(block.audienceMatch),
    skewSeconds: r.getOr(block.skewSeconds),
    ...(maxTtlSeconds !== undefined ? { maxTtlSeconds } : {}),
    requireSub: r.getOr(block.requireSub),
    claims,
    replay,
    passThroughToken: r.getOr(block.passThroughToken),
    basicAuthFallback: r.getOr(block.basicAuthFallback),
    identityHeaders: r.getOr(block.identityHeaders),
    timeouts: Object.fromEntries(Object.entries(timeouts).filter(([, v]) => v !== undefined)),
  };
  r.done();
  return options;
}
