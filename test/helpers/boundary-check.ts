/**
 * The checker behind test/boundaries.test.ts, kept apart so the test can run it on a fake file set:
 * glob matching, import rules (from → forbidden, or from → allowed only), a text rule for
 * `process.env`, and import cycles. Every finding names the rule, the importing file and the imported one.
 */
import type { Graph } from './source-scan.js';
import { PACKAGE, views } from './source-scan.js';

/** `**` any number of path segments, `*` any characters within one segment. */
export function glob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const compiled = new Map<string, RegExp>();
export const matches = (file: string, patterns: readonly string[]): boolean =>
  patterns.some((p) => (compiled.get(p) ?? compiled.set(p, glob(p)).get(p)!).test(file));

/**
 * One boundary: files matching `from` (minus `fromExcept`) may not import `forbid` (minus `forbidExcept`), or may import
 * only `allow` (minus `allowExcept`). Imports are repository paths (`src/judge/decide.ts`) or `package:<specifier>`.
 */
export type Rule = {
  readonly name: string;
  readonly from: readonly string[];
  readonly fromExcept?: readonly string[];
} & (
  | { readonly forbid: readonly string[]; readonly forbidExcept?: readonly string[] }
  | { readonly allow: readonly string[]; readonly allowExcept?: readonly string[] }
);

export interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

/** The key an exemption list uses, and the line a failure prints. */
export const key = (v: Violation): string => `${v.rule}: ${v.from} -> ${v.to}`;

export function breaks(rule: Rule, from: string, to: string): boolean {
  if (!matches(from, rule.from) || matches(from, rule.fromExcept ?? [])) return false;
  if ('allow' in rule) return !matches(to, rule.allow) || matches(to, rule.allowExcept ?? []);
  return matches(to, rule.forbid) && !matches(to, rule.forbidExcept ?? []);
}

export function importViolations(graph: Graph, rules: readonly Rule[]): Violation[] {
  const out: Violation[] = [];
  for (const [from, targets] of graph.edges) {
    for (const to of targets) for (const rule of rules) if (breaks(rule, from, to)) out.push({ rule: rule.name, from, to });
  }
  return out;
}

/** Reads of the process environment in code (comments do not count): `process.env`, `process['env']`, `{ env } = process`, `env` from node:process. */
const ENV_READS = [/\bprocess\s*(?:\?\.|\.)\s*env\b/, /\bprocess\s*(?:\?\.)?\s*\[/, /\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/, /=\s*process\s*[;,)\n]/];

export function envViolations(sources: ReadonlyMap<string, string>, rule: string, allowed: readonly string[]): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of sources) {
    if (matches(file, allowed)) continue;
    const { code, skeleton } = views(text);
    const fromProcessModule = /\bimport\s[^;]*\benv\b[^;]*\bfrom\s*['"](?:node:)?process['"]/.test(code);
    if (fromProcessModule || ENV_READS.some((re) => re.test(skeleton))) out.push({ rule, from: file, to: 'process.env' });
  }
  return out;
}

/** Every import cycle (strongly connected component of more than one file, or a file importing itself), each as `a -> b -> … -> a`. */
export function cycles(graph: Graph, rule: string): Violation[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: Violation[] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.edges.get(v) ?? []) {
      if (w.startsWith(PACKAGE)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (graph.edges.get(v) ?? []).includes(v)) out.push(cycleOf(graph, scc.sort(), rule));
  };
  for (const v of [...graph.edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** One concrete cycle through a strongly connected component, from its first file (shortest way back, breadth first). */
function cycleOf(graph: Graph, scc: readonly string[], rule: string): Violation {
  const start = scc[0]!;
  const members = new Set(scc);
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let p = prev.get(v); p !== undefined; p = prev.get(p)) path.unshift(p);
        return { rule, from: start, to: [...path.slice(1), start].join(' -> ') };
      }
      if (!prev.has(w) && w !== start) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return { rule, from: start, to: scc.join(' -> ') };
}
