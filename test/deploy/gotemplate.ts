/**
 * The executing half of our small Go text/template + Sprig implementation (parsing is in
 * gotemplate-parse.ts), faithful where Helm charts usually go wrong:
 * - numbers from values files are float64 (Helm decodes YAML through JSON): printed the Go way
 *   (1e+06), and comparing one with an integer literal is an error, as in Go;
 * - `default` treats false, 0 and "" as empty (Sprig), `required` fails on nil and "";
 * - a field of a missing value is an error ("nil pointer evaluating"), a missing last key is nil;
 * - `and`/`or` short-circuit and return one of their arguments; `range` over a map is in key order.
 * Only the functions of gotemplate-funcs.ts exist; a template calling another fails, so the chart
 * stays renderable.
 */
import type { Node, Parsed, Pipe, Term } from './gotemplate-parse.js';
import { FUNCS, GoInt, goString, kindOf, truth, type Funcs } from './gotemplate-funcs.js';

export { FUNCS, GoInt, goFloat, goString, kindOf, truth, type Funcs } from './gotemplate-funcs.js';

type Ctx = unknown;
type Scope = Map<string, unknown>[];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoInt);

export interface Template {
  /** Renders `nodes` with `.` = `dot`; `defines` are every template's `define` blocks. */
  execute(nodes: readonly Node[], dot: Ctx): string;
}

export function createTemplate(parsed: readonly Parsed[], extraFuncs: Funcs = {}): Template {
  const defines = new Map<string, Node[]>();
  for (const p of parsed) for (const [k, v] of p.defines) defines.set(k, v);
  const funcs: Funcs = { ...FUNCS, ...extraFuncs, include: (name, dot) => run(defines.get(String(name)) ?? missing(String(name)), dot) };
  function missing(name: string): never {
    throw new Error(`no template named ${JSON.stringify(name)}`);
  }

  function lookup(scope: Scope, name: string): unknown {
    for (let i = scope.length - 1; i >= 0; i--) if (scope[i]!.has(name)) return scope[i]!.get(name);
    throw new Error(`undefined variable: ${name}`);
  }

  function field(base: unknown, chain: readonly string[], what: string): unknown {
    let cur = base;
    for (const name of chain) {
      if (cur === null || cur === undefined) throw new Error(`nil pointer evaluating interface {}.${name} (${what})`);
      if (!isMap(cur)) throw new Error(`can't evaluate field ${name} in type ${kindOf(cur)} (${what})`);
      cur = Object.hasOwn(cur, name) ? cur[name] : null;
    }
    return cur ?? null;
  }

  function term(t: Term, dot: Ctx, scope: Scope): unknown {
    switch (t.t) {
      case 'dot':
        return dot;
      case 'field':
        return field(t.base === 'dot' ? dot : lookup(scope, t.base), t.chain, [t.base === 'dot' ? '' : t.base, ...t.chain].join('.'));
      case 'lit':
        return t.int ? new GoInt(t.value as number) : t.value;
      case 'pipe':
        return pipe(t.pipe, dot, scope);
      case 'ident':
        return call(t.name, [], dot, scope, []);
    }
  }

  function call(name: string, args: readonly Term[], dot: Ctx, scope: Scope, piped: unknown[]): unknown {
    if (name === 'and' || name === 'or') {
      const all = [...args.map((a) => () => term(a, dot, scope)), ...piped.map((p) => () => p)];
      let v: unknown;
      for (const get of all) {
        v = get();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const f = funcs[name];
    if (!f) throw new Error(`function "${name}" not defined (the tests' renderer knows: ${Object.keys(funcs).sort().join(' ')})`);
    return f(...args.map((a) => term(a, dot, scope)), ...piped);
  }

  function pipe(p: Pipe, dot: Ctx, scope: Scope): unknown {
    let piped: unknown[] = [];
    for (const cmd of p.cmds) {
      const head = cmd[0]!;
      const args = cmd.slice(1);
      if (head.t === 'ident') piped = [call(head.name, args, dot, scope, piped)];
      else {
        if (args.length > 0 || piped.length > 0) throw new Error("can't give argument to non-function");
        piped = [term(head, dot, scope)];
      }
    }
    const value = piped[0];
    if (p.decl) {
      const [name] = p.decl.vars;
      if (p.decl.assign) {
        const frame = [...scope].reverse().find((s) => s.has(name!));
        if (!frame) throw new Error(`undefined variable: ${name}`);
        frame.set(name!, value);
      } else scope[scope.length - 1]!.set(name!, value);
    }
    return value;
  }

  function nodes(list: readonly Node[], dot: Ctx, scope: Scope, out: string[]): void {
    for (const node of list) {
      try {
        one(node, dot, scope, out);
      } catch (e) {
        const err = e as Error;
        if ('line' in node && !err.message.includes(' (line ')) err.message += ` (line ${node.line})`;
        throw err;
      }
    }
  }

  function one(node: Node, dot: Ctx, scope: Scope, out: string[]): void {
    switch (node.n) {
      case 'text':
        out.push(node.text);
        return;
      case 'action': {
        const v = pipe(node.pipe, dot, scope);
        if (!node.pipe.decl) out.push(goString(v).replace(/<no value>/g, ''));
        return;
      }
      case 'if': {
        for (const b of node.branches) {
          const inner: Scope = [...scope, new Map()];
          if (truth(pipe(b.pipe, dot, inner))) return nodes(b.body, dot, inner, out);
        }
        if (node.elseBody) nodes(node.elseBody, dot, [...scope, new Map()], out);
        return;
      }
      case 'with': {
        const inner: Scope = [...scope, new Map()];
        const v = pipe(node.pipe, dot, inner);
        if (truth(v)) nodes(node.body, v, inner, out);
        else if (node.elseBody) nodes(node.elseBody, dot, inner, out);
        return;
      }
      case 'range': {
        const vars = node.pipe.decl?.vars ?? [];
        const v = pipe({ cmds: node.pipe.cmds }, dot, scope);
        const entries: [unknown, unknown][] = Array.isArray(v)
          ? v.map((x, i) => [new GoInt(i), x])
          : isMap(v)
            ? Object.keys(v)
                .sort()
                .map((k) => [k, v[k]])
            : v === null || v === undefined
              ? []
              : (() => {
                  throw new Error(`range can't iterate over ${kindOf(v)}`);
                })();
        if (entries.length === 0 && node.elseBody) return nodes(node.elseBody, dot, [...scope, new Map()], out);
        for (const [k, x] of entries) {
          const frame = new Map<string, unknown>();
          if (vars.length === 1) frame.set(vars[0]!, x);
          if (vars.length === 2) frame.set(vars[0]!, k).set(vars[1]!, x);
          nodes(node.body, x, [...scope, frame], out);
        }
        return;
      }
    }
  }

  function run(list: readonly Node[], dot: Ctx): string {
    const out: string[] = [];
    nodes(list, dot, [new Map([['$', dot]])], out);
    return out.join('');
  }

  return { execute: run };
}
