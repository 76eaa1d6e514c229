/**
 * Compiles an access rule's `when:` condition once, at start-up: parsed, type-checked against the
 * variables' schemas (language.ts), and held to bounds that keep one evaluation's cost small and
 * predictable whatever the request — so a hostile or careless expression is refused before the
 * service listens, with the column of the problem:
 *   * at most 4 096 characters, 500 syntax nodes, nesting 32 deep (the parser's own limits are
 *     the specification's minimums, far above what a rule needs);
 *   * no comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) inside another, so an
 *     evaluation walks each list of the request or identity at most once per macro: cost grows
 *     with the expression times the input, never with a power of it;
 *   * no `matches()`: the library runs it on the backtracking JavaScript engine, where one
 *     pattern can hold the event loop; the rule's `match.path.regex` and `allow.claims` patterns
 *     are RE2.
 * At run time a condition that meets a value of another type than it expects, or a missing key,
 * evaluates to false: the rule does not allow (fail closed).
 */
import { checkEnv, runEnv } from './language.js';

export const MAX_WHEN_LENGTH = 4096;
const MAX_NODES = 500;
const MAX_DEPTH = 32;
const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const REFUSED_CALLS = new Set(['matches']);

export interface WhenRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly source: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

export interface WhenIdentity {
  readonly user: string;
  readonly groups: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  readonly method: string;
  readonly authenticator: string;
  readonly provider: string;
}

export type WhenTest = (request: WhenRequest, identity: WhenIdentity) => boolean;

interface Node {
  readonly op: string;
  readonly args: unknown;
  readonly pos?: number;
}

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).op === 'string';

/** Line and column (1-based) of character `pos` of `source`. */
function where(source: string, pos: number | undefined): string {
  if (pos === undefined) return '';
  const before = source.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - (before.lastIndexOf('\n') + 1) + 1;
  return line > 1 ? `line ${line}, column ${column}: ` : `column ${column}: `;
}

const firstLine = (message: string): string => message.split('\n')[0]!.trim();

/** The bounds the library does not hold: size, depth, nested comprehensions, refused functions. */
function boundsProblem(source: string, root: Node): string | undefined {
  let nodes = 0;
  let problem: string | undefined;
  const visit = (n: Node, depth: number, inMacro: boolean): void => {
    if (problem !== undefined) return;
    if (++nodes > MAX_NODES) problem = `${where(source, n.pos)}more than ${MAX_NODES} syntax nodes`;
    else if (depth > MAX_DEPTH) problem = `${where(source, n.pos)}nested more than ${MAX_DEPTH} deep`;
    if (problem !== undefined) return;
    const call = (n.op === 'rcall' || n.op === 'call') && Array.isArray(n.args) && typeof n.args[0] === 'string' ? n.args[0] : undefined;
    if (call !== undefined && REFUSED_CALLS.has(call)) {
      problem = `${where(source, n.pos)}${call}() is not offered (it backtracks: use match.path.regex or allow.claims, which are RE2)`;
      return;
    }
    const macro = n.op === 'rcall' && call !== undefined && MACROS.has(call);
    if (macro && inMacro) {
      problem = `${where(source, n.pos)}a comprehension (${call}) inside another is refused: its cost would grow with a power of the input`;
      return;
    }
    const children = (v: unknown, nested: boolean): void => {
      if (isNode(v)) visit(v, depth + 1, nested);
      else if (Array.isArray(v)) for (const x of v) children(x, nested);
    };
    if (macro && Array.isArray(n.args)) {
      // args: [name, target, [variable, …, body]]: the target is walked as before, the body inside the macro.
      children(n.args[1], inMacro);
      children(n.args[2], true);
    } else children(n.args, inMacro);
  };
  visit(root, 0, false);
  return problem;
}

export type Compiled = { readonly test: WhenTest } | { readonly problem: string };

/**
 * Compilations by source text: the loader validates each condition and the rules authorizer then
 * builds it (and a reload does both again for rules that did not change), so each text is compiled
 * once. Bounded; a text is a few kilobytes at most.
 */
const compiled = new Map<string, Compiled>();
const CACHE_LIMIT = 4096;

/** The compiled condition, or the problem (with its column) that refuses it. */
export function compileWhen(source: unknown): Compiled {
  if (typeof source !== 'string' || source.trim() === '') return { problem: 'must be a CEL expression (a non-empty string)' };
  const hit = compiled.get(source);
  if (hit !== undefined) return hit;
  const out = compileNew(source);
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(source, out);
  return out;
}

function compileNew(source: string): Compiled {
  if (source.length > MAX_WHEN_LENGTH) return { problem: `longer than ${MAX_WHEN_LENGTH} characters` };
  let checked;
  try {
    checked = checkEnv.parse(source);
  } catch (e) {
    const node = (e as { node?: { pos?: number } }).node;
    return { problem: `${where(source, node?.pos)}${firstLine((e as Error).message)}` };
  }
  const bounds = boundsProblem(source, checked.ast as Node);
  if (bounds !== undefined) return { problem: bounds };
  const result = checked.check();
  if (!result.valid) {
    const node = (result.error as { node?: { pos?: number } } | undefined)?.node;
    return { problem: `${where(source, node?.pos)}${firstLine(result.error?.message ?? 'type error')}` };
  }
  if (result.type !== 'bool' && result.type !== 'dyn') return { problem: `must be true or false, but is of type ${result.type}` };
  const run = runEnv.parse(source);
  return {
    test: (request, identity) => {
      try {
        return run({ request, identity }) === true;
      } catch {
        return false;
      }
    },
  };
}
