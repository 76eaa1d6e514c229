/**
 * A small JSON Schema (draft-07) checker for the keywords scripts/helm-schema.mjs emits — what
 * Helm does with values.schema.json at install time. A keyword it does not know is an error, so
 * the generator cannot start using one the tests would silently ignore.
 */
export type JsonSchema = Readonly<Record<string, unknown>>;

const KNOWN = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'type',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'properties',
  'patternProperties',
  'additionalProperties',
  'required',
  'items',
  'anyOf',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

/** Every problem of `value` against `schema`, as `<path>: <what>`; [] when it validates. */
export function validateJson(schema: JsonSchema, value: unknown, path = ''): string[] {
  const errs: string[] = [];
  const at = path === '' ? '(root)' : path;
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) errs.push(`${at}: schema keyword "${k}" is not supported by this checker`);
  if (schema['type'] !== undefined) {
    const types = ([] as string[]).concat(schema['type'] as string | string[]);
    if (!types.some((t) => typeMatches(value, t))) return [...errs, `${at}: must be ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if (schema['enum'] !== undefined && !(schema['enum'] as unknown[]).some((e) => e === value)) {
    errs.push(`${at}: must be one of ${(schema['enum'] as unknown[]).map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'string' && typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(value)) {
    errs.push(`${at}: ${JSON.stringify(value)} does not match ${schema['pattern']}`);
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errs.push(`${at}: must be ≥ ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errs.push(`${at}: must be ≤ ${schema['maximum']}`);
  }
  if (schema['anyOf'] !== undefined) {
    const branches = (schema['anyOf'] as JsonSchema[]).map((s) => validateJson(s, value, path));
    if (!branches.some((b) => b.length === 0)) errs.push(`${at}: matches none of: ${branches.map((b) => b.join('; ')).join(' | ')}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
    const patterns = Object.entries((schema['patternProperties'] ?? {}) as Record<string, JsonSchema>).map(([p, s]) => [new RegExp(p, 'u'), s] as const);
    for (const req of (schema['required'] ?? []) as string[]) if (!(req in obj)) errs.push(`${at}: ${req} is required`);
    for (const [k, v] of Object.entries(obj)) {
      const sub = path === '' ? k : `${path}.${k}`;
      const matched = [...(props[k] ? [props[k]] : []), ...patterns.filter(([re]) => re.test(k)).map(([, s]) => s)];
      for (const s of matched) errs.push(...validateJson(s, v, sub));
      if (matched.length > 0) continue;
      const extra = schema['additionalProperties'];
      if (extra === false) errs.push(`${sub}: not allowed here (unknown key)`);
      else if (typeof extra === 'object' && extra !== null) errs.push(...validateJson(extra as JsonSchema, v, sub));
    }
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((v, i) => {
      errs.push(...validateJson(schema['items'] as JsonSchema, v, `${path}[${i}]`));
    });
  }
  return errs;
}
