/**
 * Values and functions of our small Go text/template + Sprig implementation (gotemplate.ts runs
 * templates with them): Go's number kinds and printing, truthiness, comparisons, and the Sprig
 * functions the chart may use, each with Sprig's semantics (`default` treats false as empty,
 * `required` fails on nil and "", `quote` prints numbers the Go way …).
 */
import { createHash } from 'node:crypto';
import { stringify as yamlStringify } from 'yaml';

/** A Go integer (template literals, `int`, `int64`, `len`); plain JS numbers are float64. */
export class GoInt {
  constructor(
    readonly v: number,
    readonly kind: 'int' | 'int64' = 'int',
  ) {}
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt);

/** Go's `%v` for a float64 (strconv 'g', shortest): exponent form when the exponent is < -4 or ≥ 6. */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return '0';
  const [mant, ex] = n.toExponential().split('e') as [string, string];
  const exp = Number(ex);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'invalid';
  if (v instanceof GoInt) return v.kind;
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (v instanceof GoInt) return v.v !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** fmt's `%v` (what an action prints, and Sprig's strval). */
export function goString(v: unknown, nil = '<no value>'): string {
  if (v === null || v === undefined) return nil;
  if (v instanceof GoInt) return String(v.v);
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  throw new Error(`printing a ${kindOf(v)} gives Go's map[…]/[…] text, never what a manifest wants: use toYaml or toJson`);
}

const num = (v: unknown): number => (v instanceof GoInt ? v.v : (v as number));

/** Sprig's cast.ToInt64. */
function toInt(v: unknown, kind: 'int' | 'int64'): GoInt {
  if (v instanceof GoInt) return new GoInt(v.v, kind);
  if (typeof v === 'number') return new GoInt(Math.trunc(v), kind);
  if (typeof v === 'string') return new GoInt(/^\s*-?\d+\s*$/.test(v) ? Number(v) : 0, kind);
  if (typeof v === 'boolean') return new GoInt(v ? 1 : 0, kind);
  return new GoInt(0, kind);
}

function basic(v: unknown): string {
  const k = kindOf(v);
  return k === 'int' || k === 'int64' ? 'int' : k;
}

function eq(a: unknown, ...bs: unknown[]): boolean {
  for (const b of bs) {
    const ka = basic(a);
    const kb = basic(b);
    if (ka !== kb) {
      if (ka !== 'invalid' && kb !== 'invalid') throw new Error(`incompatible types for comparison: ${kindOf(a)} and ${kindOf(b)}`);
      continue;
    }
    if (ka === 'slice' || ka === 'map') throw new Error('non-comparable type');
    if (ka === 'invalid' || (ka === 'int' ? num(a) === num(b) : a === b)) return true;
  }
  return false;
}

function cmp(a: unknown, b: unknown): number {
  const ka = basic(a);
  if (ka !== basic(b) || !['int', 'float64', 'string'].includes(ka)) throw new Error(`incompatible types for comparison: ${kindOf(a)} and ${kindOf(b)}`);
  const x = ka === 'string' ? (a as string) : num(a);
  const y = ka === 'string' ? (b as string) : num(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (kindOf(a) !== kindOf(b)) return false;
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (v instanceof GoInt) return v.v;
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

const empty = (v: unknown): boolean => !truth(v);
const strList = (v: unknown): string[] => (v === null || v === undefined ? [] : (v as unknown[]).map((x) => goString(x, '<nil>')));
const indent = (n: unknown, s: unknown): string => {
  const pad = ' '.repeat(num(n));
  return pad + String(s).replace(/\n/g, '\n' + pad);
};

function printf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([%sdvq])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    if (verb === 'd') {
      if (!(a instanceof GoInt)) throw new Error(`printf %d of a ${kindOf(a)} prints %!d(…): convert it with int64 first`);
      return String(a.v);
    }
    if (verb === 'q') return JSON.stringify(goString(a, '<nil>'));
    return goString(a, '<nil>');
  });
}

export type Funcs = Record<string, (...args: unknown[]) => unknown>;

/** The functions the chart may use; `include` is added by the renderer. */
export const FUNCS: Funcs = {
  eq,
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  not: (a) => !truth(a),
  len: (v) => {
    if (v === null || v === undefined) throw new Error('len of nil pointer');
    return new GoInt(typeof v === 'string' ? Buffer.byteLength(v) : Array.isArray(v) ? v.length : Object.keys(v as object).length);
  },
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new Error('index of untyped nil');
      cur = Array.isArray(cur) ? cur[num(k)] : isMap(cur) ? cur[String(k)] : undefined;
      if (cur === undefined) cur = null;
    }
    return cur;
  },
  print: (...args) => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + goString(a, '<nil>')).join(''),
  printf: (f, ...args) => printf(String(f), ...args),
  default: (d, ...given) => (given.length === 0 || empty(given[0]) ? d : given[0]),
  empty,
  required: (msg, v) => {
    if (v === null || v === undefined || v === '') throw new Error(String(msg));
    return v;
  },
  fail: (msg) => {
    throw new Error(String(msg));
  },
  ternary: (a, b, c) => {
    if (typeof c !== 'boolean') throw new Error(`ternary: wrong type for value; expected bool; got ${kindOf(c)}`);
    return c ? a : b;
  },
  quote: (...args) =>
    args
      .filter((a) => a !== null && a !== undefined)
      .map((a) => JSON.stringify(goString(a)))
      .join(' '),
  squote: (...args) =>
    args
      .filter((a) => a !== null && a !== undefined)
      .map((a) => `'${goString(a)}'`)
      .join(' '),
  toString: (v: unknown) => goString(v, '<nil>'),
  int: (v) => toInt(v, 'int'),
  int64: (v) => toInt(v, 'int64'),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  trim: (s) => String(s).trim(),
  trimSuffix: (suf, s) => (String(s).endsWith(String(suf)) ? String(s).slice(0, -String(suf).length || undefined) : String(s)),
  trimPrefix: (pre, s) => (String(s).startsWith(String(pre)) ? String(s).slice(String(pre).length) : String(s)),
  replace: (o, n, s) => String(s).split(String(o)).join(String(n)),
  trunc: (n, s) => {
    const c = num(n);
    const str = String(s);
    return c < 0 ? str.slice(Math.max(0, str.length + c)) : str.slice(0, c);
  },
  contains: (sub, s) => String(s).includes(String(sub)),
  hasPrefix: (pre, s) => String(s).startsWith(String(pre)),
  splitList: (sep, s) => String(s).split(String(sep)),
  join: (sep, v) => strList(v).join(String(sep)),
  list: (...args) => args,
  dict: (...args) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < args.length; i += 2) out[goString(args[i], '<nil>')] = args[i + 1] ?? null;
    return out;
  },
  first: (v) => (v as unknown[] | null)?.[0] ?? null,
  last: (v) => (v as unknown[] | null)?.at(-1) ?? null,
  append: (v, x) => [...((v as unknown[] | null) ?? []), x],
  uniq: (v) => ((v as unknown[] | null) ?? []).filter((x, i, all) => all.findIndex((y) => deepEqual(x, y)) === i),
  has: (needle, hay) => Array.isArray(hay) && hay.some((x) => deepEqual(x, needle)),
  hasKey: (m, k) => isMap(m) && Object.hasOwn(m, String(k)),
  kindIs: (kind, v) => kindOf(v) === kind,
  kindOf,
  indent,
  nindent: (n, s) => '\n' + indent(n, s),
  toYaml: (v) =>
    v === null || v === undefined ? 'null' : yamlStringify(sortKeys(v), { sortMapEntries: true, lineWidth: 0, indentSeq: false }).replace(/\n$/, ''),
  toJson: (v) => JSON.stringify(sortKeys(v ?? null)),
  sha256sum: (s) => createHash('sha256').update(String(s)).digest('hex'),
};
