/**
 * The page template engine: a small, safe subset of Go's html/template, so that templates written
 * for oidc-authservice (overridden by file name through TEMPLATE_PATH) keep working. Templates are
 * compiled once at start-up into closures, with every printed value escaped for the place it lands
 * (html-context.ts); a broken template, an unknown function or field, or a missing included
 * template is a `TemplateError` naming the file and line, so a bad override fails start-up clearly.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HtmlContext, type Escaper } from './html-context.js';
import { parseTemplate, TemplateError, type Expr, type Node } from './template-parse.js';

export { TemplateError };

/**
 * The fields a template may name: `value` (printed as is), `map` (any key: `index .M "k"` or
 * `.M.k`), or a nested record of fields (`.A.B`).
 */
export interface FieldSchema {
  readonly [name: string]: 'value' | 'map' | FieldSchema;
}

type Type = 'value' | 'map' | FieldSchema;
type Eval = (dot: unknown) => unknown;
type Emit = (dot: unknown, out: string[], set: TemplateLookup) => void;

interface TemplateLookup {
  get(name: string): CompiledTemplate | undefined;
}

export interface CompiledTemplate {
  readonly name: string;
  readonly file: string;
  /** Templates it includes, with the line of each `{{template}}`. */
  readonly calls: readonly { readonly name: string; readonly line: number }[];
  run(dot: unknown, out: string[], set: TemplateLookup): void;
}

/** An own property of an object (never one from its prototype); undefined for anything else. */
function prop(v: unknown, key: string): unknown {
  return v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
}

/** Go's truthiness: false, 0, '', empty list or map, nil are false. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '';
}

/** `resolve_url_ref base ref`: `ref` resolved against `base` (RFC 3986), as oidc-authservice's function. */
export function resolveUrlRef(base: string, ref: string): string {
  try {
    return new URL(ref, base).href;
  } catch {
    // A relative base: resolve against a throw-away origin and keep the path.
    try {
      const u = new URL(ref, new URL(base, 'http://relative.invalid/'));
      return u.origin === 'http://relative.invalid' ? u.pathname + u.search + u.hash : u.href;
    } catch {
      return '';
    }
  }
}

const FUNCTIONS = ['index', 'resolve_url_ref'];

/** Compiles one template. `fields` lists what `.X` may name; anything else is an error. */
export function compileTemplate(src: string, opts: { readonly name: string; readonly file: string; readonly fields: FieldSchema }): CompiledTemplate {
  const { file, fields } = opts;
  const fail = (line: number, msg: string): never => {
    throw new TemplateError(file, line, msg);
  };
  const calls: { name: string; line: number }[] = [];

  function expr(e: Expr, line: number): [Eval, Type] {
    if (e.kind === 'string') return [() => e.value, 'value'];
    if (e.kind === 'field') {
      let type: Type = fields;
      for (const [i, seg] of e.path.entries()) {
        if (type === 'map') type = 'value';
        else if (typeof type === 'object' && Object.hasOwn(type, seg)) type = type[seg]!;
        else {
          const where = i === 0 ? '' : ` in .${e.path.slice(0, i).join('.')}`;
          const known =
            typeof type === 'object'
              ? ` (known: ${Object.keys(type)
                  .map((k) => `.${k}`)
                  .join(', ')})`
              : '';
          fail(line, `unknown field .${seg}${where}${known}`);
        }
      }
      const path = e.path;
      return [(dot) => path.reduce(prop, dot), type];
    }
    const args = e.args.map((a) => expr(a, line));
    if (e.fn === 'index') {
      if (args.length !== 2) fail(line, 'index takes a map and a key: {{ index .Frontend "KEY" }}');
      const [[m, mt], [k]] = args as [[Eval, Type], [Eval, Type]];
      if (mt === 'value') fail(line, 'index: the first argument is not a map');
      return [(dot) => prop(m(dot), text(k(dot))), 'value'];
    }
    if (e.fn === 'resolve_url_ref') {
      if (args.length !== 2) fail(line, 'resolve_url_ref takes a base URL and a reference');
      const [[b], [r]] = args as [[Eval, Type], [Eval, Type]];
      return [(dot) => resolveUrlRef(text(b(dot)), text(r(dot))), 'value'];
    }
    return fail(line, `unknown function "${e.fn}" (supported: ${FUNCTIONS.join(', ')})`);
  }

  function compile(nodes: readonly Node[], ctx: HtmlContext): [Emit[], HtmlContext] {
    const emits: Emit[] = [];
    for (const n of nodes) {
      if (n.kind === 'text') {
        const out = ctx.feed(n.text);
        if (out !== '') emits.push((_d, o) => void o.push(out));
      } else if (n.kind === 'print') {
        const [ev] = expr(n.expr, n.line);
        const where = ctx.describe();
        const escaper: Escaper | null | string = ctx.escaper();
        if (typeof escaper === 'string') fail(n.line, `${escaper} (in ${where})`);
        else if (escaper !== null) emits.push((d, o) => void o.push(escaper(text(ev(d)))));
      } else if (n.kind === 'if') {
        if (ctx.atTagStart) fail(n.line, "{{if}} right after '<' would choose a tag name");
        const [cond] = expr(n.cond, n.line);
        const [thenEmits, afterThen] = compile(n.then, ctx.clone());
        const [elseEmits, afterElse] = compile(n.else, ctx.clone());
        if (afterThen.key() !== afterElse.key()) {
          fail(n.line, `the branches of {{if}} end in different places (${afterThen.describe()} / ${afterElse.describe()})`);
        }
        ctx = afterThen;
        emits.push((d, o, s) => {
          for (const e of truthy(cond(d)) ? thenEmits : elseEmits) e(d, o, s);
        });
      } else {
        if (!ctx.inText) fail(n.line, `{{template "${n.name}"}} must be in HTML text, not in ${ctx.describe()}`);
        const arg = n.arg === undefined ? () => undefined : expr(n.arg, n.line)[0];
        const name = n.name;
        calls.push({ name, line: n.line });
        emits.push((d, o, s) => s.get(name)!.run(arg(d), o, s));
      }
    }
    return [emits, ctx];
  }

  const nodes = parseTemplate(src, file);
  const [emits, end] = compile(nodes, new HtmlContext());
  if (!end.inText) fail(src.split('\n').length, `the template ends inside ${end.describe()}`);
  return {
    name: opts.name,
    file,
    calls,
    run(dot, out, set) {
      for (const e of emits) e(dot, out, set);
    },
  };
}

export interface TemplateSet {
  /** Names of the templates in the set (file names, e.g. `homepage.html`). */
  readonly names: readonly string[];
  /** The file each template came from. */
  fileOf(name: string): string | undefined;
  has(name: string): boolean;
  /** Renders a template; throws when the set has no such template. */
  render(name: string, context: unknown): string;
}

function isFileAt(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Loads every `*.html` of each directory in order — the built-in one first, then TEMPLATE_PATH's —
 * a later file replacing an earlier one of the same name, and compiles them. Throws a
 * `TemplateError` for a broken template or an included template that does not exist (or includes
 * itself), and a plain Error for a directory that cannot be read.
 */
export function loadTemplateSet(dirs: readonly string[], fields: FieldSchema): TemplateSet {
  const files = new Map<string, string>();
  for (const dir of dirs) {
    let entries: string[];
    try {
      // A ConfigMap mounted in Kubernetes holds symlinks (`homepage.html` → `..data/homepage.html`): follow them.
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.name.endsWith('.html') && (d.isFile() || (d.isSymbolicLink() && isFileAt(join(dir, d.name)))))
        .map((d) => d.name);
    } catch (err) {
      throw new Error(`template directory ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    for (const name of entries.sort()) files.set(name, join(dir, name));
  }
  const sources = new Map([...files].map(([name, file]) => [name, { file, src: readFileSync(file, 'utf8') }]));
  return templateSetOf(sources, fields);
}

/** A template set from sources in memory: name → { file (for messages), src }. */
export function templateSetOf(sources: ReadonlyMap<string, { readonly file: string; readonly src: string }>, fields: FieldSchema): TemplateSet {
  const compiled = new Map<string, CompiledTemplate>();
  for (const [name, { file, src }] of sources) compiled.set(name, compileTemplate(src, { name, file, fields }));
  // Every include must exist, and no template may include itself, even indirectly.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: CompiledTemplate): void => {
    state.set(t.name, 'visiting');
    for (const c of t.calls) {
      const callee = compiled.get(c.name);
      if (callee === undefined) throw new TemplateError(t.file, c.line, `no template named "${c.name}"`);
      if (state.get(c.name) === 'visiting') throw new TemplateError(t.file, c.line, `"${c.name}" includes itself`);
      if (state.get(c.name) === undefined) visit(callee);
    }
    state.set(t.name, 'done');
  };
  for (const t of compiled.values()) if (state.get(t.name) === undefined) visit(t);
  return {
    names: [...compiled.keys()],
    fileOf: (name) => compiled.get(name)?.file,
    has: (name) => compiled.has(name),
    render(name, context) {
      const t = compiled.get(name);
      if (t === undefined) throw new Error(`no template named "${name}"`);
      const out: string[] = [];
      t.run(context, out, compiled);
      return out.join('');
    },
  };
}
