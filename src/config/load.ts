/**
 * Builds the frozen configuration from its sources, later wins: built-in defaults → YAML file
 * (`--config`) → environment → CLI flags. Every problem is collected and reported at once, each
 * naming the variable. Reads nothing itself: the composition root passes env, flags and a file reader.
 */
import { assertionProblems } from './schema-assertion.js';
import { identityHeaderProblems, type IdentityHeaderSettings } from '../judge/upstream/header-presets.js';
import { allowedHostError } from '../net/allowed-hosts.js';
import { redactUrlPasswordsDeep } from '../net/url-password.js';
import { pathOf } from '../net/url-path.js';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './error.js';
import type { Field } from './field.js';
import { forwardSchemas } from './forward-schema.js';
import { schema, TEMPLATE_CONTEXT_PREFIX, type Config, type ConfigKey } from './schema.js';
import { closest, knownNames, unknownEnvWarnings } from './unknown-env.js';
import type { AuthzRule } from './rules.js';
import { cookieCollisions, type ProviderEntry } from './providers.js';
import { ambiguities } from '../oidc/providers/choice.js';

export { ConfigError } from './error.js';

export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--kebab-name` flags without the dashes, e.g. `{ 'oidc-provider': 'https://…' }`. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Path of the YAML config file, if any. */
  readonly configFile?: string;
  readonly readFile: (path: string) => string;
}

export interface Loaded {
  readonly config: Config;
  readonly warnings: readonly string[];
}

const keys = Object.keys(schema) as ConfigKey[];
/** Config-file keys that belong to the forwarder commands, not to the judge's settings. */
export const FORWARDER_KEYS: ReadonlySet<string> = new Set(['forwarders', 'forwardHealthListen', 'forwardDrainSeconds']);

const field = (k: ConfigKey): Field<unknown> => schema[k] as Field<unknown>;
/** `OIDC_PROVIDER` → `oidc-provider`. */
export const flagName = (env: string): string => env.toLowerCase().replace(/_/g, '-');
const byEnv = new Map(keys.flatMap((k) => [field(k).env, ...(field(k).aliases ?? [])].map((e) => [e, k] as const)));
const byFlag = new Map([...byEnv].map(([e, k]) => [flagName(e), k]));
/** Every variable the judge and the forwarder commands read (`PORT`: the loader warns about it itself). */
const KNOWN_ENV = knownNames([...keys.map(field), ...forwardSchemas.flatMap((s) => Object.values(s))]).set('PORT', 'SERVER_PORT');

const ALGS_NEVER = /^(none|HS\d+)$/i;
const CHAIN_NAMES = new Set(['kubernetes', 'access_token', 'session', 'id_token']);

export function loadConfig(src: ConfigSources): Loaded {
  const errors: string[] = [];
  const warnings: string[] = [];
  const values = new Map<ConfigKey, unknown>();
  const origin = new Map<ConfigKey, string>();
  let templateContext: Record<string, string> = {};

  const set = (k: ConfigKey, from: string, get: () => unknown): void => {
    try {
      values.set(k, get());
      origin.set(k, from);
    } catch (e) {
      errors.push(`${from}: ${(e as Error).message}`);
    }
  };

  // 1. YAML file
  if (src.configFile !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(src.readFile(src.configFile));
    } catch (e) {
      errors.push(`--config ${src.configFile}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (doc !== undefined && doc !== null) {
      if (typeof doc !== 'object' || Array.isArray(doc)) errors.push(`--config ${src.configFile}: must be a mapping of settings`);
      else {
        for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
          if (name === 'templateContext' || name === 'TEMPLATE_CONTEXT') {
            if (typeof v !== 'object' || v === null) errors.push(`${src.configFile}: templateContext must be a mapping`);
            else templateContext = Object.fromEntries(Object.entries(v).map(([a, b]) => [a, String(b)]));
            continue;
          }
          // The forwarder runtime's part of a shared file (src/forward/runtime/forward-command.ts reads it).
          if (FORWARDER_KEYS.has(name)) continue;
          const k = (name in schema ? (name as ConfigKey) : undefined) ?? byEnv.get(name);
          if (k === undefined) {
            errors.push(`${src.configFile}: unknown setting "${name}"`);
            continue;
          }
          const f = field(k);
          set(k, `${src.configFile}: ${name}`, () =>
            f.fromFile ? f.fromFile(v) : typeof v === 'object' && v !== null ? f.parse(JSON.stringify(v)) : f.parse(String(v)),
          );
        }
      }
    }
  }

  // 2. environment (legacy names, then *_FILE, then the name itself)
  for (const k of keys) {
    const f = field(k);
    const direct = src.env[f.env];
    for (const alias of f.aliases ?? []) {
      const raw = src.env[alias];
      if (raw === undefined) continue;
      if (direct !== undefined) warnings.push(`${alias} is ignored because ${f.env} is set`);
      else set(k, alias, () => f.parse(raw));
    }
    for (const old of f.legacy ?? []) {
      const raw = src.env[old.env];
      if (raw === undefined) continue;
      if (direct !== undefined) warnings.push(`${old.env} is ignored because ${f.env} is set`);
      else {
        warnings.push(`${old.env} is deprecated; use ${f.env}`);
        set(k, old.env, () => f.parse(old.map ? old.map(raw) : raw));
      }
    }
    if (f.secret) {
      const fileVar = `${f.env}_FILE`;
      const path = src.env[fileVar];
      if (path !== undefined && direct !== undefined) errors.push(`${fileVar}: set together with ${f.env}; give only one`);
      else if (path !== undefined) {
        set(k, fileVar, () => {
          try {
            return f.parse(src.readFile(path).replace(/\r?\n$/, ''));
          } catch (e) {
            throw new Error(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
          }
        });
      }
    }
    if (direct !== undefined) set(k, f.env, () => f.parse(direct));
  }
  for (const [name, v] of Object.entries(src.env)) {
    if (name.startsWith(TEMPLATE_CONTEXT_PREFIX) && v !== undefined && name.length > TEMPLATE_CONTEXT_PREFIX.length) {
      templateContext[name.slice(TEMPLATE_CONTEXT_PREFIX.length)] = v;
    }
  }
  if (src.env['PORT'] !== undefined) warnings.push('PORT is ignored (old Kubeflow manifests set it); use SERVER_PORT');
  warnings.push(...unknownSettingWarnings(src.env));

  // 3. flags
  for (const [name, raw] of Object.entries(src.flags ?? {})) {
    const k = byFlag.get(name);
    if (k === undefined) errors.push(`--${name}: unknown flag${suggestFlag(name)}`);
    else set(k, `--${name}`, () => field(k).parse(raw));
  }

  // 4. defaults, in schema order (derived defaults see what precedes them)
  const resolved: Record<string, unknown> = {};
  const derived: ConfigKey[] = [];
  for (const k of keys) {
    const f = field(k);
    if (values.has(k)) resolved[k] = values.get(k);
    else if (typeof f.default === 'function') derived.push(k);
    else if ('default' in f) resolved[k] = f.default;
    else errors.push(`${f.env}: required${f.secret ? ` (or ${f.env}_FILE)` : ''}`);
  }
  // Derived defaults (REDIRECT_URL from AUTHSERVICE_URL_PREFIX …) see every plain value.
  for (const k of derived) resolved[k] = (field(k).default as (c: Record<string, unknown>) => unknown)(resolved);

  // 5. checks across fields
  const at = (k: ConfigKey): string => origin.get(k) ?? field(k).env;
  if (resolved['oidcProvider'] === '') errors.push(`${at('oidcProvider')}: required`);
  const chain = resolved['authnChain'] as readonly string[];
  for (const n of chain) if (!CHAIN_NAMES.has(n)) errors.push(`${at('authnChain')}: unknown authenticator "${n}" (known: ${[...CHAIN_NAMES].join(', ')})`);
  if (new Set(chain).size !== chain.length) errors.push(`${at('authnChain')}: lists an authenticator twice`);
  for (const a of resolved['jwtAlgorithms'] as readonly string[]) {
    if (ALGS_NEVER.test(a)) errors.push(`${at('jwtAlgorithms')}: ${a} is never accepted (no "none", no HMAC with public keys)`);
    else if (!/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(a)) errors.push(`${at('jwtAlgorithms')}: unknown algorithm ${a}`);
  }
  const scopes = resolved['oidcScopes'] as readonly string[];
  if (!scopes.includes('openid')) resolved['oidcScopes'] = Object.freeze(['openid', ...scopes]);
  if (resolved['sessionStoreType'] === 'boltdb') {
    warnings.push('SESSION_STORE_TYPE=boltdb: the embedded store is now SQLite; using it (an old BoltDB file is not read)');
    resolved['sessionStoreType'] = 'sqlite';
  }
  for (const k of ['authHeader', 'idTokenHeader'] as const) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(String(resolved[k]))) errors.push(`${at(k)}: not a valid header name`);
  }
  for (const problem of identityHeaderProblems(resolved as unknown as IdentityHeaderSettings)) errors.push(`${at(problem.key)}: ${problem.message}`);
  for (const problem of assertionProblems(resolved)) errors.push(`${at(problem.key)}: ${problem.message}`);
  if (pathOf(String(resolved['authserviceUrlPrefix'])).replace(/\/+$/, '') === '') {
    errors.push(`${at('authserviceUrlPrefix')}: its path must not be "/" (it is always skipped, so nothing would be protected)`);
  }
  for (const k of ['verifyAuthUrl', 'forwardAuthUrl'] as const) {
    if (pathOf(String(resolved[k])).replace(/\/+$/, '') === '') errors.push(`${at(k)}: needs a path other than "/"`);
  }
  const hcp = resolved['httpCheckPathPrefix'] as string;
  if (hcp !== '' && (!hcp.startsWith('/') || hcp.endsWith('/'))) errors.push(`${at('httpCheckPathPrefix')}: must start with "/" and not end with "/"`);

  if (resolved['ingressPort'] !== 0 && resolved['ingressUpstream'] === '') errors.push(`${at('ingressUpstream')}: required when INGRESS_PORT is set`);
  if (resolved['sessionSameSite'] === 'None' && resolved['sessionCookieSecure'] === false) {
    errors.push(`${at('sessionSameSite')}: None needs SESSION_COOKIE_SECURE=true (browsers drop SameSite=None cookies without Secure)`);
  }
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(String(resolved['sessionCookieName']))) errors.push(`${at('sessionCookieName')}: not a valid cookie name`);
  errors.push(...cookiePrefixErrors(resolved, at));
  if (!String(resolved['sessionCookiePath']).startsWith('/')) errors.push(`${at('sessionCookiePath')}: must start with "/"`);
  for (const h of resolved['allowedRedirectHosts'] as readonly string[]) {
    const problem = allowedHostError(h);
    if (problem !== undefined) errors.push(`${at('allowedRedirectHosts')}: ${problem}`);
  }
  if ((resolved['httpHeadersTimeout'] as number) > (resolved['httpRequestTimeout'] as number)) {
    errors.push(`${at('httpHeadersTimeout')}: must not exceed HTTP_REQUEST_TIMEOUT (${String(resolved['httpRequestTimeout'])} s), which bounds the head too`);
  }
  resolved['providers'] = providersWithSecrets(resolved['providers'] as readonly ProviderEntry[], src.readFile, errors);
  const providers = resolved['providers'] as readonly ProviderEntry[];
  errors.push(...cookieCollisions(providers, String(resolved['sessionCookieName'])), ...ambiguities(providers));
  const providerIds = new Set(['default', ...providers.map((e) => e.id)]);
  (resolved['authzRules'] as readonly AuthzRule[]).forEach((r, i) => {
    if (r.provider !== undefined && !providerIds.has(r.provider))
      errors.push(`${at('authzRules')}[${i}].provider: no provider "${r.provider}" (known: ${[...providerIds].join(', ')})`);
  });
  const idle = resolved['sessionIdleTimeout'] as number;
  if (idle > (resolved['sessionMaxAge'] as number)) warnings.push('SESSION_IDLE_TIMEOUT is longer than SESSION_MAX_AGE: the idle limit never applies');

  if (errors.length > 0) throw new ConfigError(errors);
  return { config: Object.freeze({ ...resolved, templateContext: Object.freeze(templateContext) }) as Config, warnings };
}

/** Each provider's `clientSecretFile` read into its `clientSecret` (the loader alone reads files). */
function providersWithSecrets(list: readonly ProviderEntry[], readFile: (p: string) => string, errors: string[]): readonly ProviderEntry[] {
  if (!list.some((e) => e.clientSecretFile !== undefined)) return list;
  return Object.freeze(
    list.map((e) => {
      if (e.clientSecretFile === undefined) return e;
      try {
        return Object.freeze({ ...e, clientSecret: readFile(e.clientSecretFile).replace(/\r?\n$/, '') });
      } catch (err) {
        errors.push(
          `providers (${e.id}).clientSecretFile: cannot read ${e.clientSecretFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
        return e;
      }
    }),
  );
}

/** A warning for each variable of `env` that looks like a setting (of the judge or a forwarder command) and is none. */
export const unknownSettingWarnings = (env: Readonly<Record<string, string | undefined>>): string[] => unknownEnvWarnings(env, KNOWN_ENV);

/** `; did you mean --oidc-provider?` for a flag a letter or two from a setting's, else nothing. */
function suggestFlag(name: string): string {
  const near = closest(name, new Map([...byFlag.keys()].map((f) => [f, f])));
  return near.distance <= Math.max(1, Math.floor(name.length / 6)) ? `; did you mean --${near.name}?` : '';
}

/**
 * Browsers refuse a `__Host-` cookie unless it is Secure, has `Path=/` and no `Domain`, and a
 * `__Secure-` cookie unless it is Secure: such a session cookie would silently never be stored,
 * so these combinations are start-up errors naming the setting at fault.
 */
function cookiePrefixErrors(resolved: Readonly<Record<string, unknown>>, at: (k: ConfigKey) => string): string[] {
  const name = String(resolved['sessionCookieName']);
  const errors: string[] = [];
  const host = name.startsWith('__Host-');
  if ((host || name.startsWith('__Secure-')) && resolved['sessionCookieSecure'] === false) {
    errors.push(
      `${at('sessionCookieSecure')}: must be true with SESSION_COOKIE_NAME=${name} (browsers drop ${host ? '__Host-' : '__Secure-'} cookies without Secure)`,
    );
  }
  if (host && resolved['sessionCookieDomain'] !== '')
    errors.push(`${at('sessionCookieDomain')}: must be empty with SESSION_COOKIE_NAME=${name} (a __Host- cookie has no Domain)`);
  if (host && resolved['sessionCookiePath'] !== '/')
    errors.push(`${at('sessionCookiePath')}: must be "/" with SESSION_COOKIE_NAME=${name} (a __Host- cookie has Path=/)`);
  return errors;
}

/** The effective config with every secret replaced (and passwords inside URLs), for `check-config` and the start-up log. */
export function redacted(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = config[k];
    out[k] = field(k).secret && v !== '' ? '[redacted]' : redactUrlPasswordsDeep(v);
  }
  // A provider's client secret is a secret wherever it sits.
  out['providers'] = config.providers.map((e) => redactUrlPasswordsDeep({ ...e, ...(e.clientSecret !== '' ? { clientSecret: '[redacted]' } : {}) }));
  out['templateContext'] = redactUrlPasswordsDeep(config.templateContext);
  return out;
}
