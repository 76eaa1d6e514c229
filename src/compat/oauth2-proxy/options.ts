/**
 * The oauth2-proxy options `oidc-judge oauth2-proxy` understands, and how their three sources
 * combine as oauth2-proxy combines them: `--flag` beats `OAUTH2_PROXY_<KEY>` beats the
 * `oauth2_proxy.cfg` key. A key is spelt `snake_case` in the file, `OAUTH2_PROXY_SNAKE_CASE` in the
 * environment and `--kebab-case` as a flag; a list key is plural in the file and the environment
 * and singular as a (repeatable) flag (`email_domains` / `--email-domain`). Lists in the
 * environment are comma-separated, as oauth2-proxy reads them.
 *
 * Anything not in `KEYS` — from any source — is refused by name; the judge never starts on an
 * option it would silently drop.
 */
import type { CfgValue } from './cfg-parse.js';

export type Kind = 'string' | 'bool' | 'list';

export interface KeyDef {
  readonly kind: Kind;
  /** The flag, when not the key in kebab case (list keys: singular). */
  readonly flag?: string;
}

/** Every oauth2-proxy option read here (their meaning on our side: map.ts). */
export const KEYS = {
  provider: { kind: 'string' },
  oidc_issuer_url: { kind: 'string' },
  client_id: { kind: 'string' },
  client_secret: { kind: 'string' },
  client_secret_file: { kind: 'string' },
  cookie_name: { kind: 'string' },
  cookie_secure: { kind: 'bool' },
  cookie_secret: { kind: 'string' },
  cookie_secret_file: { kind: 'string' },
  cookie_expire: { kind: 'string' },
  cookie_refresh: { kind: 'string' },
  email_domains: { kind: 'list', flag: 'email-domain' },
  skip_auth_routes: { kind: 'list', flag: 'skip-auth-route' },
  skip_auth_regex: { kind: 'list', flag: 'skip-auth-regex' },
  api_routes: { kind: 'list', flag: 'api-route' },
  skip_jwt_bearer_tokens: { kind: 'bool' },
  extra_jwt_issuers: { kind: 'list', flag: 'extra-jwt-issuers' },
  set_authorization_header: { kind: 'bool' },
  set_xauthrequest: { kind: 'bool' },
  pass_access_token: { kind: 'bool' },
  scope: { kind: 'string' },
  prompt: { kind: 'string' },
  redirect_url: { kind: 'string' },
  relative_redirect_url: { kind: 'bool' },
  upstreams: { kind: 'list', flag: 'upstream' },
  http_address: { kind: 'string' },
  proxy_prefix: { kind: 'string' },
  code_challenge_method: { kind: 'string' },
  skip_oidc_discovery: { kind: 'bool' },
  login_url: { kind: 'string' },
  redeem_url: { kind: 'string' },
  oidc_jwks_url: { kind: 'string' },
  ssl_insecure_skip_verify: { kind: 'bool' },
  skip_provider_button: { kind: 'bool' },
  provider_display_name: { kind: 'string' },
  custom_sign_in_logo: { kind: 'string' },
  banner: { kind: 'string' },
  footer: { kind: 'string' },
} as const satisfies Readonly<Record<string, KeyDef>>;

export type Key = keyof typeof KEYS;
export type OptionValue = string | boolean | number | readonly string[];

export interface Option {
  readonly value: OptionValue;
  /** Where it came from, as the user wrote it: `--email-domain`, `OAUTH2_PROXY_CLIENT_ID`, `oauth2_proxy.cfg:3 scope`. */
  readonly from: string;
}

export type Options = Partial<Readonly<Record<Key, Option>>>;

export interface Sources {
  /** The config file's entries (cfg-parse.ts), and its name for messages. */
  readonly file?: { readonly name: string; readonly entries: ReadonlyMap<string, { readonly value: CfgValue; readonly line: number }> };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--name=value` / `--name value` / `--name` pairs in order (flags may repeat). */
  readonly flags: readonly (readonly [string, string])[];
}

const ENV_PREFIX = 'OAUTH2_PROXY_';
const def = (k: Key): KeyDef => KEYS[k];
export const envOf = (k: Key): string => ENV_PREFIX + k.toUpperCase();
export const flagOf = (k: Key): string => def(k).flag ?? k.replace(/_/g, '-');
const byFlag = new Map<string, Key>((Object.keys(KEYS) as Key[]).map((k) => [flagOf(k), k]));
const byEnv = new Map<string, Key>((Object.keys(KEYS) as Key[]).map((k) => [envOf(k), k]));
const isKey = (k: string): k is Key => Object.hasOwn(KEYS, k);

/**
 * The variables Kubernetes injects for a Service named `oauth2-proxy` (service links:
 * `OAUTH2_PROXY_SERVICE_HOST`, `OAUTH2_PROXY_PORT_80_TCP_ADDR`, …) — Kubeflow's Service has that
 * name, in the Deployment's namespace. Not options: oauth2-proxy never reads them either.
 */
export const SERVICE_LINK = /^OAUTH2_PROXY_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?)$/;

/** Flags of the command itself, not oauth2-proxy options. */
export const COMMAND_FLAGS: ReadonlySet<string> = new Set(['config', 'config-test']);

function fromText(k: Key, raw: string, from: string, errors: string[]): OptionValue | undefined {
  switch (def(k).kind) {
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 't'].includes(v)) return true;
      if (['false', '0', 'f', ''].includes(v)) return false;
      errors.push(`${from}: must be true or false`);
      return undefined;
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string':
      return raw;
  }
}

function fromFile(k: Key, v: CfgValue, from: string, errors: string[]): OptionValue | undefined {
  const kind = def(k).kind;
  if (kind === 'list') {
    const items = Array.isArray(v) ? v : [v];
    if (items.some((x) => typeof x !== 'string')) {
      errors.push(`${from}: must be a string or a list of strings`);
      return undefined;
    }
    return items as readonly string[];
  }
  if (Array.isArray(v)) {
    errors.push(`${from}: must be a single value, not a list`);
    return undefined;
  }
  if (kind === 'bool') {
    if (typeof v !== 'boolean') errors.push(`${from}: must be true or false`);
    return typeof v === 'boolean' ? v : undefined;
  }
  // Durations and the like may be written bare (`cookie_refresh = 0`).
  return String(v);
}

export interface ReadOptions {
  readonly options: Options;
  readonly errors: string[];
}

/** Combines the sources (flags > environment > file); unknown names are errors, each named. */
export function readOptions(src: Sources): ReadOptions {
  const errors: string[] = [];
  const out: Partial<Record<Key, Option>> = {};
  const unsupported: string[] = [];

  if (src.file) {
    for (const [name, { value, line }] of src.file.entries) {
      const from = `${src.file.name}:${line} ${name}`;
      if (!isKey(name)) {
        unsupported.push(`${name} (${src.file.name}:${line})`);
        continue;
      }
      const v = fromFile(name, value, from, errors);
      if (v !== undefined) out[name] = { value: v, from };
    }
  }
  for (const [name, raw] of Object.entries(src.env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || SERVICE_LINK.test(name)) continue;
    const k = byEnv.get(name);
    if (k === undefined) {
      unsupported.push(name);
      continue;
    }
    const v = fromText(k, raw, name, errors);
    if (v !== undefined) out[k] = { value: v, from: name };
  }
  // A repeated list flag adds up; any other repeated flag: the last one wins (as pflag does).
  const seenList = new Set<Key>();
  for (const [name, raw] of src.flags) {
    if (COMMAND_FLAGS.has(name)) continue;
    const k = byFlag.get(name);
    if (k === undefined) {
      unsupported.push(`--${name}`);
      continue;
    }
    const from = `--${name}`;
    const v = fromText(k, raw, from, errors);
    if (v === undefined) continue;
    if (def(k).kind === 'list' && seenList.has(k)) out[k] = { value: [...(out[k]!.value as readonly string[]), ...(v as readonly string[])], from };
    else out[k] = { value: v, from };
    if (def(k).kind === 'list') seenList.add(k);
  }
  if (unsupported.length > 0) errors.push(`unsupported oauth2-proxy options (refused rather than ignored): ${unsupported.join(', ')}`);
  return { options: out, errors };
}

/** `oauth2-proxy`'s own argv after the command: `--name=value`, `--name value`, `--name` (true). */
export function splitFlags(argv: readonly string[]): { flags: [string, string][]; errors: string[] } {
  const flags: [string, string][] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      errors.push(`unexpected argument "${a}"`);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const k = byFlag.get(name);
    const isBool = k !== undefined && def(k).kind === 'bool';
    // pflag: a bool flag takes its value only with `=`; others take the next argument.
    if (eq >= 0) flags.push([name, a.slice(eq + 1)]);
    else if (!isBool && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.push([name, argv[++i]!]);
    else if (isBool || k === undefined) flags.push([name, 'true']);
    else errors.push(`--${name} needs a value`);
  }
  return { flags, errors };
}
