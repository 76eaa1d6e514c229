/**
 * Field builders for the configuration schema. A field knows its environment name, its default,
 * how to parse a string (env, flag) or a YAML value, and how to document itself. The options of a
 * `forwarders:` block are declared with the same builders (config/forward-blocks/), named by their
 * key, and read by config/block.ts with `fromBlock`.
 */
export interface Field<T> {
  /** The environment variable; for a `forwarders:` block option, its key. */
  readonly env: string;
  readonly doc: string;
  readonly group: string;
  /** Human-readable type for the README table. */
  readonly type: string;
  /** Built-in default, or a function of the rest of the (already resolved) config. Absent: required. */
  readonly default?: T | ((c: Readonly<Record<string, unknown>>) => T);
  /** How the default reads in the docs when it is derived. */
  readonly defaultDoc?: string;
  readonly secret?: boolean;
  /** Old names still accepted with a warning; `map` converts an old value into the new syntax. */
  readonly legacy?: readonly { readonly env: string; readonly map?: (raw: string) => string }[];
  /** Other names accepted without a warning, same syntax (e.g. `SESSION_COOKIE_SAME_SITE` beside the other `SESSION_COOKIE_*`). */
  readonly aliases?: readonly string[];
  /** The flag, when it is not the variable's name in kebab case (forwarder commands); '' = no flag. */
  readonly flag?: string;
  /** The config file key, when the variable is also read from a file under another name. */
  readonly fileKey?: string;
  /** Only the config file or JSON in the variable (rules). */
  readonly structured?: boolean;
  /** Parse a string from the environment or a flag. Throws `Error(message)` on bad input. */
  parse(raw: string): T;
  /** Parse a value from the YAML file; defaults to `parse(String(v))` for scalars. */
  fromFile?(v: unknown): T;
  /** A block option that may be left out and has no default (without `default` it is otherwise required). */
  readonly optional?: boolean;
  /** The values a `oneOf` field takes (named when a required one is missing). */
  readonly choices?: readonly string[];
  /**
   * Read a value of a `forwarders:` block (YAML types, never absent). Throws `Error(problem)`
   * without `, got …`: the block reader names the key. Stricter than the environment where YAML
   * has types: a boolean is `true`/`false` (or that text) only.
   */
  fromBlock(v: unknown): T;
}

export type FieldValue<F> = F extends Field<infer T> ? T : never;

/*
 * The value checks, written once: each builder's environment/flag parser and its `fromBlock`
 * (the `forwarders:` block reading) both use them. A parser of an env string adds `, got <raw>`
 * to the problem; the block reader (config/block.ts) names the key instead.
 */

/** `must be between min and max` when `n` is outside `[min, max]`. */
export function outOfRange(n: number, min: number, max: number): string | undefined {
  return n < min || n > max ? `must be between ${min} and ${max}` : undefined;
}

export const NOT_BOOLEAN = 'must be true or false';

/** The entry of `values` that `raw` names (trimmed; `caseInsensitive` compares in lower case). */
export function findOne<T extends string>(values: readonly T[], raw: string, caseInsensitive: boolean): T | undefined {
  const t = caseInsensitive ? raw.trim().toLowerCase() : raw.trim();
  return values.find((v) => (caseInsensitive ? v.toLowerCase() : v) === t);
}

export const notOneOf = (values: readonly string[]): string => `must be one of ${values.join(', ')}`;

/** An absolute http(s) URL, or which of the two it is not (`absolute`: not a URL at all). */
export function httpUrl(raw: string): URL | 'absolute' | 'http' {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'absolute';
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u : 'http';
}

/** A block's number (or numeric text) within `[min, max]`, or the problem. */
function blockNumber(v: unknown, integer: boolean, min: number, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`must be ${integer ? 'an integer' : 'a number'}`);
  const range = outOfRange(n, min, max);
  if (range !== undefined) throw new Error(range);
  return n;
}

/** A block's string (numbers are taken as their text); `nonEmpty` refuses blank text. */
function blockString(v: unknown, nonEmpty: boolean): string {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error('must be a string');
  const s = String(v);
  if (nonEmpty && s.trim() === '') throw new Error('must not be empty');
  return s;
}

/** Without a default and not `optional`, a field is required (a required block string must not be blank). */
const isRequired = (opts: { optional?: boolean }): boolean => !('default' in opts) && !opts.optional;

type Opts<T> = Omit<Field<T>, 'parse' | 'type' | 'env' | 'doc' | 'group' | 'fromFile' | 'fromBlock' | 'choices'> & { group?: string };

/** Puts fields in a README section; returns them unchanged otherwise. */
export function section<T extends Record<string, Field<unknown>>>(name: string, fields: T): T {
  return Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, { ...f, group: name }])) as T;
}

function make<T>(
  type: string,
  env: string,
  doc: string,
  parse: (raw: string) => T,
  opts: Opts<T>,
  fromFile: ((v: unknown) => T) | undefined,
  fromBlock: (v: unknown) => T,
): Field<T> {
  return { group: 'General', ...opts, type, env, doc, parse, ...(fromFile ? { fromFile } : {}), fromBlock };
}

/** A string; `nonEmpty` (implied when required) refuses a blank block value. */
export function str(env: string, doc: string, opts: Opts<string> & { nonEmpty?: boolean } = {}): Field<string> {
  const { nonEmpty = isRequired(opts), ...rest } = opts;
  return make(
    'string',
    env,
    doc,
    (raw) => raw,
    rest,
    undefined,
    (v) => blockString(v, nonEmpty),
  );
}

export function int(env: string, doc: string, opts: Opts<number> & { min?: number; max?: number } = {}): Field<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, ...rest } = opts;
  return make(
    'integer',
    env,
    doc,
    (raw) => {
      const t = raw.trim();
      if (!/^-?\d+$/.test(t)) throw new Error(`must be an integer, got ${JSON.stringify(raw)}`);
      const n = Number(t);
      const range = outOfRange(n, min, max);
      if (range !== undefined) throw new Error(`${range}, got ${n}`);
      return n;
    },
    rest,
    undefined,
    (v) => blockNumber(v, true, min, max),
  );
}

/** A number (fractions allowed) within `[min, max]`. */
export function number(env: string, doc: string, opts: Opts<number> & { min?: number; max?: number } = {}): Field<number> {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, ...rest } = opts;
  return make(
    'number',
    env,
    doc,
    (raw) => {
      const t = raw.trim();
      const n = t === '' ? Number.NaN : Number(t);
      if (!Number.isFinite(n)) throw new Error(`must be a number, got ${JSON.stringify(raw)}`);
      const range = outOfRange(n, min, max);
      if (range !== undefined) throw new Error(`${range}, got ${n}`);
      return n;
    },
    rest,
    undefined,
    (v) => blockNumber(v, false, min, max),
  );
}

export function port(env: string, doc: string, opts: Opts<number> = {}): Field<number> {
  return { ...int(env, doc, { ...opts, min: 0, max: 65535 }), type: 'port' };
}

const TRUE = new Set(['1', 't', 'true', 'on', 'yes', 'y']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'no', 'n']);
export function bool(env: string, doc: string, opts: Opts<boolean> = {}): Field<boolean> {
  return make(
    'boolean',
    env,
    doc,
    (raw) => {
      const t = raw.trim().toLowerCase();
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
      throw new Error(`${NOT_BOOLEAN}, got ${JSON.stringify(raw)}`);
    },
    opts,
    (v) => {
      if (typeof v === 'boolean') return v;
      throw new Error(`${NOT_BOOLEAN}, got ${JSON.stringify(v)}`);
    },
    (v) => {
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new Error(NOT_BOOLEAN);
    },
  );
}

/** A block's list of strings, or one comma-separated string (kube-oidc-proxy's flags): entries trimmed, empty ones dropped. */
export function csvList(v: unknown): string[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  if (!Array.isArray(items) || !items.every((x) => typeof x === 'string')) throw new Error('must be a list of strings (or one comma-separated string)');
  return items.map((s: string) => s.trim()).filter((s) => s !== '');
}

/**
 * Comma-separated (and, when `spaces`, also space-separated) list; entries trimmed, empty ones dropped.
 * In a block: a YAML list of non-empty strings, or one string (one entry), kept as written; with
 * `csv`, as `csvList` reads it.
 */
export function list(env: string, doc: string, opts: Opts<readonly string[]> & { spaces?: boolean; csv?: boolean } = {}): Field<readonly string[]> {
  const { spaces = false, csv = false, ...rest } = opts;
  const split = (raw: string): readonly string[] =>
    Object.freeze(
      raw
        .split(spaces ? /[\s,]+/ : ',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
  return make(
    'list',
    env,
    doc,
    split,
    rest,
    (v) => {
      if (typeof v === 'string') return split(v);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return Object.freeze(v.map((x: string) => x.trim()).filter((x) => x !== ''));
      throw new Error('must be a list of strings');
    },
    (v) => {
      if (csv) return csvList(v);
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x.trim() !== '')) {
        throw new Error('must be a non-empty string or a list of non-empty strings');
      }
      return list as string[];
    },
  );
}

/** One of `values`; a block value is always compared case-insensitively and read as written in `values`. */
export function oneOf<const T extends string>(env: string, values: readonly T[], doc: string, opts: Opts<T> & { caseInsensitive?: boolean } = {}): Field<T> {
  const { caseInsensitive = false, ...rest } = opts;
  const field = make(
    values.join(' | '),
    env,
    doc,
    (raw) => {
      const hit = findOne(values, raw, caseInsensitive);
      if (hit === undefined) throw new Error(`${notOneOf(values)}, got ${JSON.stringify(raw)}`);
      return hit;
    },
    rest,
    undefined,
    (v) => {
      const hit = typeof v === 'string' ? findOne(values, v, true) : undefined;
      if (hit === undefined) throw new Error(notOneOf(values));
      return hit;
    },
  );
  return { ...field, choices: values };
}

/**
 * A URL, absolute (http/https) or, with `relative`, a path starting with `/`. Empty string allowed when the default is ''.
 * In a block: an absolute http(s) URL without credentials or fragment.
 */
export function url(env: string, doc: string, opts: Opts<string> & { relative?: boolean } = {}): Field<string> {
  const { relative = false, ...rest } = opts;
  return make(
    'URL',
    env,
    doc,
    (raw) => {
      const t = raw.trim();
      if (t === '') return '';
      if (relative && t.startsWith('/') && !t.startsWith('//')) return t;
      const u = httpUrl(t);
      if (u === 'absolute')
        throw new Error(`must be ${relative ? 'an absolute URL or a path starting with "/"' : 'an absolute URL'}, got ${JSON.stringify(raw)}`);
      if (u === 'http') throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`);
      return t;
    },
    rest,
    undefined,
    (v) => {
      const s = blockString(v, isRequired(rest));
      const u = httpUrl(s);
      if (u === 'absolute') throw new Error('must be an absolute http(s) URL');
      if (u === 'http') throw new Error('must be an http(s) URL');
      if (u.username !== '' || u.password !== '' || u.hash !== '') throw new Error('must not carry credentials or a fragment');
      return s;
    },
  );
}

/** Structured value: JSON in the environment, a YAML structure in the config file. `check` validates and converts. */
export function structured<T>(
  env: string,
  doc: string,
  check: (v: unknown, at: string, errs: string[]) => T,
  opts: Opts<T> & { type?: string } = {},
): Field<T> {
  const { type = 'JSON', ...rest } = opts;
  const convert = (v: unknown): T => {
    const errs: string[] = [];
    const out = check(v, '', errs);
    if (errs.length > 0) throw new Error(errs.map((e) => e.replace(/^: /, '')).join('; '));
    return out;
  };
  return {
    ...make(
      type,
      env,
      doc,
      (raw) => {
        const t = raw.trim();
        // JSON when it looks like JSON; otherwise the checker gets the plain string (comma lists).
        if (!t.startsWith('[') && !t.startsWith('{') && !t.startsWith('"')) return convert(t === '' ? [] : t);
        let v: unknown;
        try {
          v = JSON.parse(t);
        } catch (e) {
          throw new Error(`must be JSON (${(e as Error).message})`);
        }
        return convert(v);
      },
      rest,
      convert,
      convert,
    ),
    structured: true,
  };
}

const UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds from a number, a numeric string, or a Go duration (`90s`, `5m`, `1h30m`, `-1h`, as jwtproxy's YAML writes them); undefined when unreadable. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(s);
  if (m === null) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(part[1]) * UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** A duration in seconds: a number, or a Go-style string (`90s`, `5m`, `12h`); below `min` (default: anything ≤ 0) is refused. */
export function duration(env: string, doc: string, opts: Opts<number> & { min?: number } = {}): Field<number> {
  const { min, ...rest } = opts;
  const check = (v: unknown): number => {
    const s = durationSeconds(v);
    if (s === undefined) throw new Error('must be a duration: seconds, or a string like "90s", "5m", "12h"');
    if (min === undefined ? s <= 0 : s < min) throw new Error(min === undefined ? 'must be positive' : `must be at least ${min}`);
    return s;
  };
  return make('duration', env, doc, check, rest, undefined, check);
}

const blockOnly = (env: string) => (): never => {
  throw new Error(`${env} is only a forwarders: block option`);
};

/** A nested mapping of a `forwarders:` block, read key by key by its mode (config/block.ts `sub`). */
export function mapping(key: string, doc: string, opts: Opts<Readonly<Record<string, unknown>>> = {}): Field<Readonly<Record<string, unknown>>> {
  return make('mapping', key, doc, blockOnly(key), opts, undefined, (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('must be a mapping');
    return v as Readonly<Record<string, unknown>>;
  });
}

/** A block option its mode checks itself (several shapes, cross-checks): the raw YAML value; `type` says what it takes. */
export function custom(key: string, type: string, doc: string, opts: Opts<unknown> = {}): Field<unknown> {
  return make(type, key, doc, blockOnly(key), opts, undefined, (v) => v);
}

/** Options of one `forwarders:` mode, documented under its name; returns them unchanged otherwise. */
export function blockOptions<T extends Record<string, Field<unknown>>>(mode: string, fields: T): T {
  for (const [k, f] of Object.entries(fields)) if (f.env !== k) throw new Error(`block option ${k} is declared as ${f.env}`);
  return section(`mode: ${mode}`, fields);
}
