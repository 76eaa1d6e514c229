/**
 * oidc-proxy compatibility: its options, as `--flags` or `OIDC_PROXY_<FLAG_UPPER_SNAKE>`
 * environment variables (flags win), turned into one forwarder block — a `verify` block for
 * `--ingress-enabled`, an `egress` block for `--egress-enabled`. Pure: no I/O. Where oidc-proxy is
 * defective we differ on purpose: both directions enabled is an error (it silently ran egress),
 * `--audience` is optional for static egress, an HMAC key's encoding is chosen explicitly
 * (`…-encoding raw|base64`, it guessed), every problem names the flag or variable and makes the
 * command exit non-zero, and the default bind (127.0.0.1:8080, loopback only) is warned about.
 */
import { parse as parseYaml } from 'yaml';
import type { Field } from '../../../config/field.js';
import { defaultOf, oidcProxyExtraSchema, oidcProxySchema } from '../../../config/forward-schema.js';
import { compileClaimRequirements } from '../../verify/required-claims.js';

/** oidc-proxy's own options (seed A.1) and the ones we add; names, variables and defaults: config/forward-schema.ts. */
export const OIDC_PROXY_FLAGS: readonly string[] = Object.keys(oidcProxySchema);
export const OIDC_PROXY_EXTRA_FLAGS: readonly string[] = Object.keys(oidcProxyExtraSchema);
const FIELDS: Readonly<Record<string, Field<unknown>>> = { ...oidcProxySchema, ...oidcProxyExtraSchema };

/** Flags of the forwarder command itself, accepted next to oidc-proxy's. */
export const RUNTIME_FLAGS: ReadonlySet<string> = new Set(['health-listen', 'drain-seconds', 'log-level', 'log-decisions']);

const KNOWN: ReadonlySet<string> = new Set<string>([...OIDC_PROXY_FLAGS, ...OIDC_PROXY_EXTRA_FLAGS]);
/** The variable of a flag: `OIDC_PROXY_<FLAG_UPPER_SNAKE>` (declared in the schema for every known flag). */
export const envName = (flag: string): string => FIELDS[flag]?.env ?? `OIDC_PROXY_${flag.toUpperCase().replace(/-/g, '_')}`;

export interface CompatResult {
  /** Raw `forwarders:` entries (parse them with ../blocks.ts). */
  readonly blocks: Record<string, unknown>[];
  readonly errors: string[];
  readonly warnings: string[];
}

const RESERVED = new Set(['iat', 'exp', 'iss', 'aud', 'sub']);
const SIGNING = ['RS256', 'RS384', 'RS512', 'ES256', 'HS256', 'HS384', 'HS512'];

export function oidcProxyBlocks(flags: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>): CompatResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const f of Object.keys(flags)) if (!KNOWN.has(f) && !RUNTIME_FLAGS.has(f)) errors.push(`--${f}: unknown option`);
  for (const e of Object.keys(env)) {
    if (e.startsWith('OIDC_PROXY_') && ![...KNOWN].some((f) => envName(f) === e)) warnings.push(`${e}: not an oidc-proxy option; ignored`);
  }

  /** The value and the name it came by (`--flag` or the env var); flags win; empty env values count as unset. */
  const get = (flag: string): { value: string; label: string } | undefined => {
    const f = flags[flag];
    if (f !== undefined) return { value: f, label: `--${flag}` };
    const e = env[envName(flag)];
    return e !== undefined && e !== '' ? { value: e, label: envName(flag) } : undefined;
  };
  const both = (flag: string): string => `--${flag} / ${envName(flag)}`;
  const str = (flag: string): string | undefined => get(flag)?.value;
  const bool = (flag: string): boolean => {
    const g = get(flag);
    if (g === undefined) return false;
    const v = g.value.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no', ''].includes(v)) return false;
    errors.push(`${g.label}: must be true or false`);
    return false;
  };
  const required = (flag: string, why: string): string | undefined => {
    const v = str(flag);
    if (v === undefined || v.trim() === '') errors.push(`${both(flag)}: required ${why}`);
    return v === undefined || v.trim() === '' ? undefined : v;
  };

  const target = required('target-url', 'in every mode');
  if (target !== undefined && !/^https?:\/\/[^/]/i.test(target.trim())) errors.push(`${get('target-url')!.label}: must be an http(s) URL`);
  const portText = get('port');
  const port = portText === undefined ? defaultOf(oidcProxySchema.port) : Number(portText.value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) errors.push(`${portText!.label}: must be a port number`);
  const address = str('address') ?? defaultOf(oidcProxySchema.address);
  if (get('address') === undefined)
    warnings.push(`listening on 127.0.0.1:${port} (oidc-proxy's default: loopback only); set ${both('address')} to 0.0.0.0 in a container`);
  const listen = `${address.includes(':') ? `[${address}]` : address}:${port}`;

  const audiences = parseAudience(get('audience'), errors);
  const ingress = bool('ingress-enabled');
  const egress = bool('egress-enabled');
  if (ingress && egress) errors.push(`${both('ingress-enabled')} and ${both('egress-enabled')}: choose one direction (run two forwarders for both)`);
  if (!ingress && !egress) errors.push(`no direction: set ${both('ingress-enabled')} or ${both('egress-enabled')}`);

  const common: Record<string, unknown> = { name: 'oidc-proxy', listen, upstream: target?.trim() };
  if (bool('tls-listen-enabled')) {
    const cert = required('tls-cert', 'with TLS listen enabled');
    const key = required('tls-key', 'with TLS listen enabled');
    if (cert !== undefined && key !== undefined) common['tls'] = { certFile: cert, keyFile: key };
  } else if (get('tls-cert') !== undefined || get('tls-key') !== undefined) {
    warnings.push(`${both('tls-cert')} / ${both('tls-key')}: ignored without ${both('tls-listen-enabled')}`);
  }
  if (bool('tls-allow-insecure-target')) common['upstreamTls'] = { insecureSkipVerify: true };

  const blocks: Record<string, unknown>[] = [];
  if (ingress && !egress) {
    const block = ingressBlock({ get, str, bool, both, errors, warnings, audiences });
    if (block !== undefined) blocks.push({ ...common, ...block });
  }
  if (egress && !ingress) {
    const block = egressBlock({ get, str, bool, both, errors, warnings, audiences });
    if (block !== undefined) blocks.push({ ...common, ...block });
  }
  return { blocks: errors.length === 0 ? blocks : [], errors, warnings };
}

interface Ctx {
  readonly get: (flag: string) => { value: string; label: string } | undefined;
  readonly str: (flag: string) => string | undefined;
  readonly bool: (flag: string) => boolean;
  readonly both: (flag: string) => string;
  readonly errors: string[];
  readonly warnings: string[];
  readonly audiences: string[] | undefined;
}

/** A plain string, or a JSON/YAML list of strings. */
function parseAudience(g: { value: string; label: string } | undefined, errors: string[]): string[] | undefined {
  if (g === undefined || g.value.trim() === '') return undefined;
  const t = g.value.trim();
  if (!t.startsWith('[') && !t.startsWith('- ')) return [t];
  let v: unknown;
  try {
    v = parseYaml(t);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string' && a !== '')) {
    errors.push(`${g.label}: must be a string or a JSON/YAML list of strings`);
    return undefined;
  }
  return v as string[];
}

function encoding(c: Ctx, flag: string, forWhat: string): 'raw' | 'base64' | undefined {
  const g = c.get(flag);
  const v = g?.value.trim().toLowerCase();
  if (v === 'raw' || v === 'base64') return v;
  c.errors.push(`${g?.label ?? c.both(flag)}: ${g === undefined ? 'required' : 'must be raw or base64'} for ${forWhat} (oidc-proxy guessed; say which)`);
  return undefined;
}

function ingressBlock(c: Ctx): Record<string, unknown> | undefined {
  const order = ['ingress-jwks-url', 'ingress-validating-key', 'ingress-static-token'].filter((f) => (c.str(f) ?? '') !== '');
  if (order.length === 0) {
    c.errors.push(`ingress needs one of ${c.both('ingress-jwks-url')}, ${c.both('ingress-validating-key')}, ${c.both('ingress-static-token')}`);
    return undefined;
  }
  if (order.length > 1) c.warnings.push(`${order.map((f) => c.get(f)!.label).join(', ')}: only ${c.get(order[0]!)!.label} is used (oidc-proxy's order)`);
  const which = order[0]!;
  const value = c.str(which)!.trim();
  let keys: Record<string, unknown>;
  if (which === 'ingress-jwks-url') {
    if (!/^https?:\/\/[^/]/i.test(value)) c.errors.push(`${c.get(which)!.label}: must be an http(s) URL`);
    keys = { source: 'jwks', url: value };
  } else if (which === 'ingress-validating-key') {
    if (value.startsWith('-----BEGIN')) keys = { source: 'public-key', pem: value };
    else keys = { source: 'hmac', secret: value, encoding: encoding(c, 'ingress-validating-key-encoding', 'an HMAC validating key') };
  } else keys = { source: 'static-token', token: value };
  if (c.audiences === undefined && which !== 'ingress-static-token') c.errors.push(`${c.both('audience')}: required for ingress`);
  const claims = c.get('ingress-valid-claims');
  if (claims !== undefined) compileClaimRequirements(claims.value, claims.label, c.errors);
  return {
    mode: 'verify',
    keys,
    ...(c.audiences !== undefined ? { audience: c.audiences } : {}),
    ...(claims !== undefined ? { claims: claims.value } : {}),
    passThroughToken: c.bool('ingress-pass-through-token'),
  };
}

function scalarClaims(c: Ctx, g: { value: string; label: string }): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = parseYaml(g.value);
  } catch {
    v = undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return void c.errors.push(`${g.label}: must be a JSON or YAML map`);
  for (const [k, x] of Object.entries(v)) {
    if (RESERVED.has(k)) c.errors.push(`${g.label}: "${k}" is set by the proxy and cannot be given here`);
    else if (!(x === null || ['string', 'number', 'boolean'].includes(typeof x))) c.errors.push(`${g.label}: "${k}" must be a string, number, boolean or null`);
  }
  return v as Record<string, unknown>;
}

function egressBlock(c: Ctx): Record<string, unknown> | undefined {
  const typeG = c.get('egress-auth-type');
  const type = typeG?.value.trim().toLowerCase();
  if (type !== 'gcp' && type !== 'manual' && type !== 'static') {
    c.errors.push(`${typeG?.label ?? c.both('egress-auth-type')}: ${typeG === undefined ? 'required with egress' : 'must be gcp, manual or static'}`);
    return undefined;
  }
  const single = (): string | undefined => {
    if (c.audiences === undefined) return void c.errors.push(`${c.both('audience')}: required for ${type} egress`);
    if (c.audiences.length > 1) return void c.errors.push(`${c.get('audience')!.label}: egress takes exactly one audience`);
    return c.audiences[0];
  };
  const need = (flag: string): string | undefined => {
    const v = c.str(flag)?.trim();
    if (v === undefined || v === '') c.errors.push(`${c.both(flag)}: required for ${type} egress`);
    return v === '' ? undefined : v;
  };
  if (type === 'static') {
    const token = need('egress-auth-static-token');
    return { mode: 'egress', token: { source: 'static', token } };
  }
  if (type === 'gcp') {
    const sa = c.get('egress-auth-gcp-service-account');
    if (sa !== undefined && sa.value.trim() === '') c.errors.push(`${sa.label}: must not be empty`);
    return { mode: 'egress', token: { source: 'gcp', serviceAccount: sa?.value.trim() || 'default', audience: single() } };
  }
  const issuer = need('egress-auth-manual-issuer');
  const subject = need('egress-auth-manual-subject');
  const methodG = c.get('egress-auth-manual-signing-method');
  const algorithm = methodG?.value.trim().toUpperCase();
  if (algorithm === undefined || !SIGNING.includes(algorithm))
    c.errors.push(
      `${methodG?.label ?? c.both('egress-auth-manual-signing-method')}: ${methodG === undefined ? 'required for manual egress' : `must be one of ${SIGNING.join(', ')}`}`,
    );
  const key = need('egress-auth-manual-signing-key');
  const claimsG = c.get('egress-auth-manual-claims');
  const claims = claimsG === undefined ? undefined : scalarClaims(c, claimsG);
  let keyPart: Record<string, unknown> = {};
  if (key !== undefined && algorithm?.startsWith('HS'))
    keyPart = { secret: key, secretEncoding: encoding(c, 'egress-auth-manual-signing-key-encoding', 'an HMAC signing key') };
  else if (key !== undefined) keyPart = key.startsWith('-----BEGIN') ? { key } : { keyFile: key };
  return {
    mode: 'egress',
    token: { source: 'self-signed', issuer, subject, audience: single(), algorithm, ...keyPart, ...(claims !== undefined ? { claims } : {}), ttlSeconds: 3600 },
  };
}
