/**
 * Reading one `forwarders:` block (or a nested mapping of it) into typed options: `get` takes an
 * option's declaration (field.ts builders, config/forward-blocks/), reads its key with the field's
 * `fromBlock` (the value checks the environment parsers use) and, on a problem, pushes `"<at>.<key>: what is wrong"` onto the shared error list
 * and returns undefined; `done()` reports every key nobody asked for. Nothing here throws, so one
 * pass collects every problem of a file; the command then throws them as one `ConfigError`.
 * YAML values keep YAML's types: a boolean is `true`/`false` (or that text), a number a number (or
 * numeric text).
 */
import { type Field, findOne, httpUrl, NOT_BOOLEAN, notOneOf, outOfRange } from './field.js';

export type Raw = Readonly<Record<string, unknown>>;

export function isMapping(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class OptionReader {
  readonly #used = new Set<string>();

  constructor(
    readonly raw: Raw,
    readonly at: string,
    readonly errs: string[],
  ) {}

  /** `<at>.<key>` for messages. */
  where(key: string): string {
    return `${this.at}.${key}`;
  }

  fail(key: string, problem: string): undefined {
    this.errs.push(`${this.where(key)}: ${problem}`);
    return undefined;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.raw, key) && this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** The raw value (marks the key as used). */
  value(key: string): unknown {
    this.#used.add(key);
    return this.has(key) ? this.raw[key] : undefined;
  }

  /**
   * The value of the option `f` declares (its key is `f.env`): read by `f.fromBlock`; when absent its
   * default, or `is required` (with the choices of a `oneOf`) unless it has one or is `optional`
   * (`o.required` decides instead when given). Undefined after reporting a problem.
   */
  get<T>(f: Field<T>, o: { required?: boolean } = {}): T | undefined {
    const v = this.value(f.env);
    if (v === undefined) {
      if (o.required ?? (!('default' in f) && !f.optional)) return this.fail(f.env, f.choices ? `is required (one of ${f.choices.join(', ')})` : 'is required');
      return typeof f.default === 'function' ? undefined : f.default;
    }
    try {
      return f.fromBlock(v);
    } catch (e) {
      return this.fail(f.env, (e as Error).message);
    }
  }

  /** `get`, falling back to the declared default after a problem too (the problem is reported). */
  getOr<T>(f: Field<T>): T {
    const d = f.default;
    if (d === undefined || typeof d === 'function') throw new Error(`block option ${f.env} has no plain default`);
    return this.get(f) ?? (d as T);
  }

  /** A string (numbers are accepted as their text). `required` reports a missing value. */
  str(key: string, o: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = this.value(key);
    if (v === undefined) return o.required ? this.fail(key, 'is required') : undefined;
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(key, 'must be a string');
    const s = String(v);
    if ((o.nonEmpty || o.required) && s.trim() === '') return this.fail(key, 'must not be empty');
    return s;
  }

  /** `true`/`false` (also the strings `true`/`false`); `def` when absent. */
  bool(key: string, def: boolean): boolean {
    const v = this.value(key);
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.fail(key, NOT_BOOLEAN);
    return def;
  }

  /** A number within `[min, max]` (numeric strings accepted); `def` when absent. */
  num(key: string, o: { min: number; max: number; def?: number; integer?: boolean }): number | undefined {
    const v = this.value(key);
    if (v === undefined) return o.def;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || (o.integer && !Number.isInteger(n))) return this.fail(key, `must be ${o.integer ? 'an integer' : 'a number'}`);
    const range = outOfRange(n, o.min, o.max);
    return range === undefined ? n : this.fail(key, range);
  }

  /** One of `values` (case-insensitive), returned as written in `values`; `def` when absent. */
  oneOf<T extends string>(key: string, values: readonly T[], def?: T): T | undefined {
    const v = this.value(key);
    if (v === undefined) return def === undefined ? this.fail(key, `is required (one of ${values.join(', ')})`) : def;
    const hit = typeof v === 'string' ? findOne(values, v, true) : undefined;
    return hit ?? this.fail(key, notOneOf(values));
  }

  /** A list of non-empty strings: a YAML list, or one string (one entry). */
  strList(key: string, o: { required?: boolean } = {}): string[] | undefined {
    const v = this.value(key);
    if (v === undefined) return o.required ? this.fail(key, 'is required') : undefined;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x.trim() !== '')) {
      return this.fail(key, 'must be a non-empty string or a list of non-empty strings');
    }
    return list as string[];
  }

  /** A nested mapping (its key, or its `mapping` declaration) as a reader at `<at>.<key>`. */
  sub(option: string | Field<Raw>, o: { required?: boolean } = {}): OptionReader | undefined {
    if (typeof option !== 'string') {
      const v = this.get(option, o);
      return v === undefined ? undefined : new OptionReader(v, this.where(option.env), this.errs);
    }
    const key = option;
    const v = this.value(key);
    if (v === undefined) return o.required ? this.fail(key, 'is required') : undefined;
    if (!isMapping(v)) return this.fail(key, 'must be a mapping');
    return new OptionReader(v, this.where(key), this.errs);
  }

  /** An http(s) URL without credentials or fragment. */
  url(key: string, o: { required?: boolean } = {}): string | undefined {
    const s = this.str(key, o);
    if (s === undefined) return undefined;
    const u = httpUrl(s);
    if (u === 'absolute') return this.fail(key, 'must be an absolute http(s) URL');
    if (u === 'http') return this.fail(key, 'must be an http(s) URL');
    if (u.username !== '' || u.password !== '' || u.hash !== '') return this.fail(key, 'must not carry credentials or a fragment');
    return s;
  }

  /** Exactly one of `keys` given (e.g. an inline value or a file): which, or undefined after reporting. */
  exactlyOne(keys: readonly string[], what: string): string | undefined {
    const given = keys.filter((k) => this.has(k));
    if (given.length === 1) return given[0];
    this.errs.push(`${this.at}: ${given.length === 0 ? 'needs' : 'takes only one of'} ${keys.map((k) => `${this.where(k)}`).join(' or ')} (${what})`);
    return undefined;
  }

  /** Reports every key that no getter read. */
  done(): void {
    for (const k of Object.keys(this.raw)) if (!this.#used.has(k)) this.errs.push(`${this.where(k)}: unknown option`);
  }
}
