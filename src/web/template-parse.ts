/**
 * Lexer and parser for the small subset of Go's template language the page templates use: text,
 * `{{ .Field }}` / `{{ .A.B }}` / `{{ . }}`, string literals, function calls with parenthesised
 * arguments (`{{ index .Frontend "KEY" }}`, `{{ resolve_url_ref .ProviderURL "/x" }}`),
 * `{{ template "name.html" . }}`, `{{ if … }}…{{ else if … }}…{{ else }}…{{ end }}`,
 * `{{/* comments *\/}}` and `{{- -}}` trim markers. Anything else is a `TemplateError` naming the
 * file and line. Which functions and fields exist is checked later, by the compiler.
 */
import { JudgeError } from '../errors.js';

export class TemplateError extends JudgeError<'template-invalid'> {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super('template-invalid', `${file}:${line}: ${detail}`);
    this.name = 'TemplateError';
  }
}

/** An operand or command: `.A.B` (an empty path is `.`), a string literal, or a function call. */
export type Expr =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] };

export type Node =
  | { readonly kind: 'text'; readonly text: string; readonly line: number }
  | { readonly kind: 'print'; readonly expr: Expr; readonly line: number }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Node[]; readonly else: Node[]; readonly line: number }
  | { readonly kind: 'template'; readonly name: string; readonly arg: Expr | undefined; readonly line: number };

type Piece = { t: 'text'; text: string; line: number } | { t: 'action'; body: string; line: number };

const TRIM_SPACE = /[ \t\r\n]/;
const lineCount = (s: string): number => s.split('\n').length - 1;

/** Splits the source into text and action bodies, applying trim markers and dropping comments. */
function lex(src: string, file: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i <= src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    const textLine = line;
    line += lineCount(text);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      if (text !== '') pieces.push({ t: 'text', text, line: textLine });
      break;
    }
    const startLine = line;
    let p = open + 2;
    const trimLeft = src[p] === '-' && TRIM_SPACE.test(src[p + 1] ?? '');
    if (trimLeft) {
      p++;
      text = text.replace(/[ \t\r\n]+$/, '');
    }
    if (text !== '') pieces.push({ t: 'text', text, line: textLine });
    let q = p;
    while (q < src.length && TRIM_SPACE.test(src[q]!)) q++;
    let close: number;
    let body: string | undefined;
    if (src.startsWith('/*', q)) {
      const end = src.indexOf('*/', q + 2);
      if (end < 0) throw new TemplateError(file, startLine, 'unclosed comment');
      const m = /^[ \t\r\n]*(-?)\}\}/.exec(src.slice(end + 2));
      if (m === null) throw new TemplateError(file, startLine, 'comment ends before closing delimiter');
      close = end + 2 + m[0].length;
      trimNext = m[1] === '-';
    } else {
      const end = findClose(src, p, file, startLine);
      body = src.slice(p, end);
      trimNext = /[ \t\r\n]-$/.test(body);
      if (trimNext) body = body.slice(0, -1);
      close = end + 2;
      pieces.push({ t: 'action', body, line: startLine });
    }
    line += lineCount(src.slice(open, close));
    i = close;
  }
  return pieces;
}

/** Index of the `}}` ending the action that starts at `from`, skipping string literals. */
function findClose(src: string, from: number, file: string, line: number): number {
  for (let k = from; k < src.length; k++) {
    const c = src[k];
    if (c === '}' && src[k + 1] === '}') return k;
    if (c === '"') {
      for (k++; k < src.length && src[k] !== '"'; k++) {
        if (src[k] === '\\') k++;
        if (src[k] === '\n') throw new TemplateError(file, line, 'unterminated string literal');
      }
    } else if (c === '`') {
      k = src.indexOf('`', k + 1);
      if (k < 0) break;
    }
  }
  throw new TemplateError(file, line, 'unclosed action: missing }}');
}

type Token = { t: 'field'; path: string[] } | { t: 'ident'; name: string } | { t: 'string'; value: string } | { t: '(' } | { t: ')' };

const TOKEN = /\s*(?:(\.(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?)(?![\w.])|([A-Za-z_]\w*)|("(?:[^"\\\n]|\\.)*")|`([^`]*)`|([()]))/y;

function tokenize(body: string, file: string, line: number): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < body.length) {
    if (/^\s*$/.test(body.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(body);
    if (m === null) {
      const rest = body.slice(at).trim();
      const why = rest.startsWith('|')
        ? "pipelines ('|') are not supported"
        : rest.startsWith('$')
          ? 'variables are not supported'
          : `unexpected ${JSON.stringify(rest.slice(0, 20))}`;
      throw new TemplateError(file, line, why);
    }
    at = TOKEN.lastIndex;
    if (m[1] !== undefined) tokens.push({ t: 'field', path: m[1] === '.' ? [] : m[1].slice(1).split('.') });
    else if (m[2] !== undefined) tokens.push({ t: 'ident', name: m[2] });
    else if (m[3] !== undefined) {
      try {
        tokens.push({ t: 'string', value: JSON.parse(m[3]) as string });
      } catch {
        throw new TemplateError(file, line, `unsupported escape in string literal ${m[3]}`);
      }
    } else if (m[4] !== undefined) tokens.push({ t: 'string', value: m[4] });
    else tokens.push({ t: m[5] as '(' | ')' });
  }
  return tokens;
}

const UNSUPPORTED = new Set(['range', 'with', 'define', 'block', 'break', 'continue', 'nil', 'true', 'false']);

/** Parses `[fn] operand…` from `tokens[at]` up to `end`; returns the expression and where it stopped. */
function command(tokens: Token[], at: number, file: string, line: number, nested: boolean): [Expr, number] {
  const first = tokens[at];
  if (first === undefined || first.t === ')') throw new TemplateError(file, line, 'missing value');
  if (first.t === 'ident' && UNSUPPORTED.has(first.name)) throw new TemplateError(file, line, `{{${first.name}}} is not supported`);
  const operands: Expr[] = [];
  let k = first.t === 'ident' ? at + 1 : at;
  while (k < tokens.length && tokens[k]!.t !== ')') {
    const [e, next] = operand(tokens, k, file, line);
    operands.push(e);
    k = next;
  }
  if (!nested && k < tokens.length) throw new TemplateError(file, line, "unexpected ')'");
  if (first.t === 'ident') return [{ kind: 'call', fn: first.name, args: operands }, k];
  if (operands.length > 1) throw new TemplateError(file, line, 'a value cannot take arguments');
  return [operands[0]!, k];
}

function operand(tokens: Token[], at: number, file: string, line: number): [Expr, number] {
  const t = tokens[at]!;
  switch (t.t) {
    case 'field':
      return [{ kind: 'field', path: t.path }, at + 1];
    case 'string':
      return [{ kind: 'string', value: t.value }, at + 1];
    case 'ident':
      if (UNSUPPORTED.has(t.name)) throw new TemplateError(file, line, `${t.name} is not supported`);
      return [{ kind: 'call', fn: t.name, args: [] }, at + 1];
    case '(': {
      const [e, end] = command(tokens, at + 1, file, line, true);
      if (tokens[end]?.t !== ')') throw new TemplateError(file, line, "missing ')'");
      return [e, end + 1];
    }
    case ')':
      throw new TemplateError(file, line, "unexpected ')'");
  }
}

type Frame = { node: Extract<Node, { kind: 'if' }>; inElse: boolean; chained: boolean };

/** Parses a template source into nodes. Errors name `file` and the line. */
export function parseTemplate(src: string, file: string): Node[] {
  const root: Node[] = [];
  const stack: Frame[] = [];
  const target = (): Node[] => {
    const top = stack.at(-1);
    return top === undefined ? root : top.inElse ? top.node.else : top.node.then;
  };
  for (const piece of lex(src, file)) {
    if (piece.t === 'text') {
      target().push({ kind: 'text', text: piece.text, line: piece.line });
      continue;
    }
    const { line } = piece;
    const tokens = tokenize(piece.body, file, line);
    const head = tokens[0];
    if (head === undefined) throw new TemplateError(file, line, 'empty action');
    const keyword = head.t === 'ident' ? head.name : '';
    if (keyword === 'if' || (keyword === 'else' && tokens[1]?.t === 'ident' && tokens[1].name === 'if')) {
      const skip = keyword === 'if' ? 1 : 2;
      if (tokens.length === skip) throw new TemplateError(file, line, 'missing condition in {{if}}');
      const [cond] = command(tokens, skip, file, line, false);
      const node: Frame['node'] = { kind: 'if', cond, then: [], else: [], line };
      if (keyword === 'else') {
        const top = stack.at(-1);
        if (top === undefined || top.inElse) throw new TemplateError(file, line, 'unexpected {{else if}}');
        top.inElse = true;
      }
      target().push(node);
      stack.push({ node, inElse: false, chained: keyword === 'else' });
    } else if (keyword === 'else' || keyword === 'end') {
      if (tokens.length > 1) throw new TemplateError(file, line, `unexpected words after {{${keyword}}}`);
      const top = stack.at(-1);
      if (top === undefined) throw new TemplateError(file, line, `unexpected {{${keyword}}}`);
      if (keyword === 'else') {
        if (top.inElse) throw new TemplateError(file, line, 'a second {{else}}');
        top.inElse = true;
      } else {
        while (stack.pop()?.chained === true);
      }
    } else if (keyword === 'template') {
      const name = tokens[1];
      if (name?.t !== 'string') throw new TemplateError(file, line, '{{template}} needs a quoted template name');
      const arg = tokens.length > 2 ? command(tokens, 2, file, line, false)[0] : undefined;
      target().push({ kind: 'template', name: name.value, arg, line });
    } else {
      target().push({ kind: 'print', expr: command(tokens, 0, file, line, false)[0], line });
    }
  }
  const open = stack.at(-1);
  if (open !== undefined) throw new TemplateError(file, open.node.line, '{{if}} without {{end}}');
  return root;
}
