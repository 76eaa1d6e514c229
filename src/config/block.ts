/**
 * Reading one `forwarders:` block (or a nested mapping of it) into typed options: `get` takes an
 * option's declaration (field.ts builders, config/forward-blocks/), reads its key with the
 * field's `fromBlock` (the value checks the environment parsers use) and, on a problem, pushes
 * `"<at>.<key>: what is wrong"` onto the shared error list and returns undefined; `done()` reports every key nobody asked for. Nothing here throws, so one
 * pass collects every problem of a file; the command then throws them as one `ConfigError`.
 * YAML values keep YAML's types: a boolean is `true`/`false` (or that text), a number a number (or
 * numeric text).
 */
import { bool, type Field, int, list, number, oneOf, str, url } from './field.js';

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

  /*
   * Undeclared keys of nested mappings (key sources, token sources, TLS files …), read with the
   * same builders' checks as declared options: `optional` unless `required`.
   */

  /** A string (numbers are accepted as their text). `required` reports a missing value. */
  str(key: string, o: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    return this.get(str(key, key, o.required ? {} : { optional: true, nonEmpty: o.nonEmpty ?? false }));
  }

  /** `true`/`false` (also the strings `true`/`false`); `def` when absent. */
  bool(key: string, def: boolean): boolean {
    return this.getOr(bool(key, key, { default: def }));
  }

  /** A number within `[min, max]` (numeric strings accepted); `def` when absent. */
  num(key: string, o: { min: number; max: number; def?: number; integer?: boolean }): number | undefined {
    const opts = { min: o.min, max: o.max, ...(o.def !== undefined ? { default: o.def } : { optional: true }) };
    return this.get(o.integer ? int(key, key, opts) : number(key, key, opts));
  }

  /** One of `values` (case-insensitive), returned as written in `values`; `def` when absent. */
  oneOf<T extends string>(key: string, values: readonly T[], def?: T): T | undefined {
    return this.get(oneOf(key, values, key, def !== undefined ? { default: def } : {}));
  }

  /** A list of non-empty strings: a YAML list, or one string (one entry). */
  strList(key: string, o: { required?: boolean } = {}): string[] | undefined {
    return this.get(list(key, key, o.required ? {} : { optional: true })) as string[] | undefined;
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
    return this.get(url(key, key, o.required ? {} : { optional: true }));
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
