/**
 * The parsing half of a small Go text/template implementation (the subset our Helm chart uses),
 * so that the chart can be rendered and checked without a Helm binary: text and actions with the
 * `{{-`/`-}}` trim markers, comments, `if`/`else if`/`else`, `range` (with `$k, $v :=`), `with`,
 * `define`, variables (`:=`, `=`), pipelines and parenthesized sub-pipelines. Anything else
 * (`template`, `block`, method calls) is a parse error, so the chart cannot drift outside what the
 * tests can render. Execution is in gotemplate.ts.
 */

export type Term =
  | { readonly t: 'dot' }
  | { readonly t: 'field'; readonly base: 'dot' | string; readonly chain: readonly string[] } // base: 'dot' or a variable name ('$', '$x')
  | { readonly t: 'ident'; readonly name: string }
  | { readonly t: 'lit'; readonly value: unknown; readonly int?: boolean }
  | { readonly t: 'pipe'; readonly pipe: Pipe };

export interface Pipe {
  readonly decl?: { readonly vars: readonly string[]; readonly assign: boolean };
  readonly cmds: readonly (readonly Term[])[];
}

export type Node =
  | { readonly n: 'text'; readonly text: string }
  | { readonly n: 'action'; readonly pipe: Pipe; readonly line: number }
  | { readonly n: 'if'; readonly branches: { pipe: Pipe; body: Node[] }[]; elseBody?: Node[]; readonly line: number }
  | { readonly n: 'range' | 'with'; readonly pipe: Pipe; readonly body: Node[]; elseBody?: Node[]; readonly line: number };

export interface Parsed {
  readonly nodes: Node[];
  readonly defines: Map<string, Node[]>;
}

const SPACE = /[ \t\r\n]/;

/** Splits source into text and raw action bodies, applying the trim markers. */
function lex(src: string, file: string): ({ text: string } | { action: string; line: number })[] {
  const out: ({ text: string } | { action: string; line: number })[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (pos: number): number => src.slice(0, pos).split('\n').length;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      out.push({ text });
      break;
    }
    let j = open + 2;
    const trimLeft = src[j] === '-' && SPACE.test(src[j + 1] ?? '');
    if (trimLeft) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 2;
    }
    out.push({ text });
    // Find the closing }} outside quotes; comments run to */.
    let k = j;
    while (k < src.length && SPACE.test(src[k]!)) k++;
    let close: number;
    if (src.startsWith('/*', k)) {
      const end = src.indexOf('*/', k + 2);
      if (end < 0) throw new Error(`${file}:${lineAt(open)}: unclosed comment`);
      close = src.indexOf('}}', end + 2);
    } else {
      close = -1;
      for (let q: string | undefined, p = j; p < src.length; p++) {
        const c = src[p]!;
        if (q) {
          if (c === '\\' && q === '"') p++;
          else if (c === q) q = undefined;
        } else if (c === '"' || c === '`') q = c;
        else if (src.startsWith('}}', p)) {
          close = p;
          break;
        }
      }
    }
    if (close < 0) throw new Error(`${file}:${lineAt(open)}: unclosed action`);
    let body = src.slice(j, close);
    trimNext = /[ \t\r\n]-$/.test(body);
    if (trimNext) body = body.slice(0, -2);
    if (!body.trim().startsWith('/*')) out.push({ action: body.trim(), line: lineAt(open) });
    i = close + 2;
  }
  return out;
}

type Tok = { k: 'str' | 'num' | 'ident' | 'var' | 'field' | 'punct'; v: string };

function tokenize(s: string, where: string): Tok[] {
  const toks: Tok[] = [];
  // `(x).Field` is not supported: the field would read as the next argument.
  const re =
    /\s+|"(?:[^"\\]|\\.)*"|`[^`]*`|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|:=|[()|,=]|\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.|[A-Za-z_][A-Za-z0-9_]*/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s))) {
    const v = m[0];
    if (/^\s/.test(v)) continue;
    const c = v[0]!;
    toks.push({
      k: c === '"' || c === '`' ? 'str' : /[-\d]/.test(c) ? 'num' : c === '$' ? 'var' : c === '.' ? 'field' : /[A-Za-z_]/.test(c) ? 'ident' : 'punct',
      v,
    });
  }
  if (re.lastIndex < s.length) throw new Error(`${where}: cannot read ${JSON.stringify(s.slice(re.lastIndex))}`);
  return toks;
}

function unquote(v: string): string {
  return v[0] === '`' ? v.slice(1, -1) : (JSON.parse(v.replace(/\\'/g, "'")) as string);
}

function parsePipe(toks: Tok[], pos: { i: number }, where: string, stopAtParen: boolean): Pipe {
  let decl: Pipe['decl'];
  // `$x :=`, `$x =`, `$k, $v :=`
  const vars: string[] = [];
  let p = pos.i;
  while (toks[p]?.k === 'var' && !toks[p]!.v.includes('.')) {
    vars.push(toks[p]!.v);
    if (toks[p + 1]?.v === ',') p += 2;
    else break;
  }
  if (vars.length > 0 && (toks[p + 1]?.v === ':=' || toks[p + 1]?.v === '=')) {
    decl = { vars, assign: toks[p + 1]!.v === '=' };
    pos.i = p + 2;
  }
  const cmds: Term[][] = [[]];
  while (pos.i < toks.length) {
    const tok = toks[pos.i]!;
    if (tok.v === ')' && stopAtParen) break;
    pos.i++;
    const cmd = cmds[cmds.length - 1]!;
    if (tok.v === '|') {
      if (cmd.length === 0) throw new Error(`${where}: empty command in pipeline`);
      cmds.push([]);
    } else if (tok.v === '(') {
      cmd.push({ t: 'pipe', pipe: parsePipe(toks, pos, where, true) });
      if (toks[pos.i]?.v !== ')') throw new Error(`${where}: unclosed (`);
      pos.i++;
    } else if (tok.k === 'str') cmd.push({ t: 'lit', value: unquote(tok.v) });
    else if (tok.k === 'num') cmd.push({ t: 'lit', value: Number(tok.v), int: /^-?\d+$/.test(tok.v) });
    else if (tok.k === 'field') cmd.push(tok.v === '.' ? { t: 'dot' } : { t: 'field', base: 'dot', chain: tok.v.slice(1).split('.') });
    else if (tok.k === 'var') {
      const [name, ...chain] = tok.v.split('.');
      cmd.push({ t: 'field', base: name!, chain });
    } else if (tok.k === 'ident') {
      if (tok.v === 'true' || tok.v === 'false') cmd.push({ t: 'lit', value: tok.v === 'true' });
      else if (tok.v === 'nil') cmd.push({ t: 'lit', value: null });
      else cmd.push({ t: 'ident', name: tok.v });
    } else throw new Error(`${where}: unexpected ${JSON.stringify(tok.v)}`);
  }
  if (cmds.some((c) => c.length === 0)) throw new Error(`${where}: missing value in pipeline`);
  return decl ? { decl, cmds } : { cmds };
}

/** Parses one template file: its top-level nodes and the `define` blocks it contains. */
export function parseTemplate(src: string, file: string): Parsed {
  const defines = new Map<string, Node[]>();
  const root: Node[] = [];
  type Frame = { kind: 'root' | 'if' | 'range' | 'with' | 'define'; node?: Node; body: Node[]; name?: string; line: number };
  const stack: Frame[] = [{ kind: 'root', body: root, line: 0 }];
  const top = (): Frame => stack[stack.length - 1]!;
  for (const item of lex(src, file)) {
    if ('text' in item) {
      if (item.text !== '') top().body.push({ n: 'text', text: item.text });
      continue;
    }
    const where = `${file}:${item.line}`;
    const toks = tokenize(item.action, where);
    const head = toks[0]?.k === 'ident' ? toks[0].v : '';
    const rest = (from: number): Pipe => {
      const pos = { i: from };
      const pipe = parsePipe(toks, pos, where, false);
      if (pos.i !== toks.length) throw new Error(`${where}: unexpected ${toks[pos.i]!.v}`);
      return pipe;
    };
    if (head === 'if' || head === 'range' || head === 'with') {
      const pipe = rest(1);
      const body: Node[] = [];
      const node: Node = head === 'if' ? { n: 'if', branches: [{ pipe, body }], line: item.line } : { n: head, pipe, body, line: item.line };
      top().body.push(node);
      stack.push({ kind: head, node, body, line: item.line });
    } else if (head === 'else') {
      const f = top();
      if (f.kind !== 'if' && f.kind !== 'range' && f.kind !== 'with') throw new Error(`${where}: else outside if/range/with`);
      const body: Node[] = [];
      if (toks[1]?.v === 'if') {
        if (f.node?.n !== 'if' || f.node.elseBody) throw new Error(`${where}: else if outside if`);
        f.node.branches.push({ pipe: rest(2), body });
      } else {
        if (toks.length > 1) throw new Error(`${where}: unsupported else ${toks[1]!.v}`);
        const node = f.node as { elseBody?: Node[] };
        if (node.elseBody) throw new Error(`${where}: second else`);
        node.elseBody = body;
      }
      f.body = body;
    } else if (head === 'end') {
      if (toks.length > 1) throw new Error(`${where}: unexpected tokens after end`);
      const f = stack.pop()!;
      if (f.kind === 'root') throw new Error(`${where}: end without a block`);
      if (f.kind === 'define') defines.set(f.name!, f.body);
    } else if (head === 'define') {
      if (toks.length !== 2 || toks[1]!.k !== 'str') throw new Error(`${where}: define needs one name`);
      if (stack.length > 1) throw new Error(`${where}: define inside a block`);
      stack.push({ kind: 'define', body: [], name: unquote(toks[1]!.v), line: item.line });
    } else if (head === 'template' || head === 'block' || head === 'break' || head === 'continue') {
      throw new Error(`${where}: "${head}" is not supported here (use include)`);
    } else top().body.push({ n: 'action', pipe: rest(0), line: item.line });
  }
  if (stack.length > 1) throw new Error(`${file}:${top().line}: ${top().kind} without end`);
  return { nodes: root, defines };
}
