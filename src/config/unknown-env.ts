/**
 * Misspelt settings are not silently ignored: an environment variable that looks like one of ours
 * (it starts like our settings do — `SESSION_`, `OIDC_`, `JWT_` … — or is a letter or two away from
 * a setting's name) but is none of them gets one warning naming the closest setting:
 * "SESSION_COOKIE_SAMESITE is not a setting; did you mean SESSION_SAME_SITE?". What Kubernetes
 * injects for services (`<SVC>_SERVICE_HOST`, `<SVC>_PORT_8080_TCP` … — a Service named
 * `oidc-judge` gives `OIDC_JUDGE_SERVICE_HOST`) is never warned about. Pure: the caller passes the
 * environment and the fields.
 */
import type { Field } from './field.js';

/** How our settings' names start; a variable starting so is taken for one of ours. */
export const OUR_PREFIXES: readonly string[] = [
  'ACCESS_TOKEN_',
  'ADMIN_',
  'AFTER_LOG',
  'ALLOWED_REDIRECT',
  'AUTH_',
  'AUTHN_',
  'AUTHSERVICE_',
  'AUTHZ_',
  'CA_BUNDLE',
  'CACHE_',
  'CLAIM',
  'CLIENT_',
  'DISCOVERY_',
  'EMAIL_VERIFIED',
  'EXTERNAL_AUTHZ',
  'FORWARD_',
  'GROUPS_',
  'HOMEPAGE_',
  'ID_TOKEN_',
  'IDTOKEN_',
  'INGRESS_',
  'INTROSPECTION_',
  'JWKS_',
  'JWT_',
  'LOG_',
  'LOGIN_',
  'LOGOUT_',
  'OIDC_',
  'REDIRECT_',
  'REVOKE_SESSION',
  'SESSION_',
  'SKIP_AUTH',
  'STRICT_SESSION',
  'TEMPLATE_',
  'THEME',
  'TOKEN_',
  'USERID_',
  'VERIFY_AUTH',
];

/** Variables under these prefixes are read (and checked) by someone else, or are free-form. */
const NOT_OURS_TO_CHECK: readonly string[] = [
  'TEMPLATE_CONTEXT_', // TEMPLATE_CONTEXT_<KEY>: any key, for the page templates
  'OIDC_PROXY_', // `oidc-judge oidc-proxy` warns about its own unknown OIDC_PROXY_* variables
];

/**
 * What Kubernetes injects into every pod for each Service of its namespace (docker-link style):
 * `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT`, `<SVC>_SERVICE_PORT_<PORT_NAME>`, `<SVC>_PORT`
 * (`tcp://…`), `<SVC>_PORT_<n>_<PROTO>` and its `_PROTO`, `_PORT`, `_ADDR`.
 */
export function isKubernetesServiceVariable(name: string, value: string | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  if (/^[A-Z0-9_]+_SERVICE_(HOST|PORT(_[A-Z0-9_]+)?)$/.test(name)) return true;
  if (/^[A-Z0-9_]+_PORT_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?$/.test(name)) return true;
  const service = /^([A-Z0-9_]+)_PORT$/.exec(name)?.[1];
  return service !== undefined && (/^(tcp|udp|sctp):\/\//.test(value ?? '') || env[`${service}_SERVICE_HOST`] !== undefined);
}

/** Edit distance (insertions, deletions, substitutions and swaps of neighbours count 1). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** How far a variable without our prefix may be from a setting's name and still be taken for a typo of it. */
const nearEnough = (name: string): number => (name.length >= 12 ? 2 : name.length >= 6 ? 1 : 0);

/**
 * Every name a field is read by, each mapped to the name to suggest (the field's own): the
 * variable, its old names and aliases, and `<NAME>_FILE` for a secret.
 */
export function knownNames(fields: Iterable<Field<unknown>>): Map<string, string> {
  const known = new Map<string, string>();
  for (const f of fields) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(f.env)) continue; // a block option's key, not a variable
    known.set(f.env, f.env);
    for (const old of f.legacy ?? []) known.set(old.env, f.env);
    for (const alias of f.aliases ?? []) known.set(alias, f.env);
    if (f.secret) known.set(`${f.env}_FILE`, `${f.env}_FILE`);
  }
  return known;
}

/** The closest known name to `name`, preferring one that shares its first word. */
export function closest(name: string, known: ReadonlyMap<string, string>): { name: string; distance: number } {
  const word = name.split('_')[0];
  let best = { name: '', distance: Number.POSITIVE_INFINITY, sameWord: false };
  for (const [candidate, suggest] of known) {
    const distance = editDistance(name, candidate);
    const sameWord = candidate.split('_')[0] === word;
    if (distance < best.distance || (distance === best.distance && sameWord && !best.sameWord)) best = { name: suggest, distance, sameWord };
  }
  return { name: best.name, distance: best.distance };
}

/** One warning per variable of `env` that looks like a setting (see the header) and is none of `known` (`knownNames`). */
export function unknownEnvWarnings(env: Readonly<Record<string, string | undefined>>, known: ReadonlyMap<string, string>): string[] {
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || known.has(name) || !/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
    if (NOT_OURS_TO_CHECK.some((p) => name.startsWith(p)) || isKubernetesServiceVariable(name, value, env)) continue;
    const near = closest(name, known);
    const prefixed = OUR_PREFIXES.some((p) => name.startsWith(p));
    if (!prefixed && near.distance > nearEnough(name)) continue;
    warnings.push(`${name} is not a setting; did you mean ${near.name}?`);
  }
  return warnings.sort();
}
