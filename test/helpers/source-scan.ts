/**
 * Reads TypeScript source without a parser dependency, for the import-boundary test: blanks comments
 * (and, for the skeleton, the insides of string and template literals) keeping every offset, then finds
 * import specifiers — static `import … from`, `import '…'`, `export … from`, and `import('…')`
 * (also in type positions) — and resolves the relative ones to files of the set.
 */
import { posix } from 'node:path';

/** Two same-length views of a source: comments blanked; comments and literal contents blanked. */
export interface Views {
  readonly code: string;
  readonly skeleton: string;
}

/** A `/` after one of these words starts a regular expression, not a division. */
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

const SPACES = /\s+/y;
const WORD = /[\w$]+/y;

const blank = (s: string): string => (s.includes('\n') ? s.replace(/[^\n]/g, ' ') : ' '.repeat(s.length));

const seen = new Map<string, Views>();

/** The views of a source (computed once per text: the boundary test reads each file for imports and for `process.env`). */
export function views(text: string): Views {
  let v = seen.get(text);
  if (v === undefined) seen.set(text, (v = scan(text)));
  return v;
}

function scan(text: string): Views {
  const code: string[] = [];
  const skel: string[] = [];
  const keep = (s: string): void => void (code.push(s), skel.push(s));
  const literal = (s: string): void => void (code.push(s), skel.push(blank(s)));
  const templates: number[] = []; // brace depth at each open `${`
  let depth = 0;
  let last = ''; // the last significant token's text (for `/`: division or regex?)
  let i = 0;
  const n = text.length;
  /** Reads a template literal's text from i (just after '`' or '}') up to and including '`' or '${'. */
  const templateText = (): void => {
    let j = i;
    while (j < n && text[j] !== '`' && !(text[j] === '$' && text[j + 1] === '{')) j += text[j] === '\\' ? 2 : 1;
    literal(text.slice(i, j));
    if (text[j] === '`') {
      keep('`');
      i = j + 1;
      last = '`';
    } else if (j < n) {
      keep('${');
      templates.push(depth);
      depth++;
      i = j + 2;
      last = '{';
    } else i = n;
  };
  while (i < n) {
    const c = text[i]!;
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      const end = text.indexOf('\n', i);
      const j = end < 0 ? n : end;
      const gap = blank(text.slice(i, j));
      code.push(gap);
      skel.push(gap);
      i = j;
    } else if (c === '/' && d === '*') {
      const end = text.indexOf('*/', i + 2);
      const j = end < 0 ? n : end + 2;
      const gap = blank(text.slice(i, j));
      code.push(gap);
      skel.push(gap);
      i = j;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      keep(c);
      literal(text.slice(i + 1, j));
      if (j < n) keep(text[j]!);
      i = j + 1;
      last = c;
    } else if (c === '`') {
      keep('`');
      i++;
      templateText();
    } else if (c === '}' && templates.length > 0 && templates[templates.length - 1] === depth - 1) {
      templates.pop();
      depth--;
      keep('}');
      i++;
      templateText();
    } else if (c === '/' && (last === '' || /[(,=:[!&|?{};+\-*%<>~^]$/.test(last) || REGEX_AFTER_WORD.has(last))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && text[j] !== '\n' && (inClass || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        j++;
      }
      keep('/');
      literal(text.slice(i + 1, j));
      keep('/');
      i = j + 1;
      last = 'regex';
    } else if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      SPACES.lastIndex = i;
      SPACES.test(text);
      keep(text.slice(i, SPACES.lastIndex));
      i = SPACES.lastIndex;
    } else {
      WORD.lastIndex = i;
      const tok = WORD.test(text) ? text.slice(i, WORD.lastIndex) : c;
      if (c === '{') depth++;
      else if (c === '}') depth--;
      keep(tok);
      i += tok.length;
      last = tok;
    }
  }
  return { code: code.join(''), skeleton: skel.join('') };
}

/** Where a specifier's opening quote may sit in the skeleton, after one of these forms. */
const IMPORT_FORMS = [
  /\bimport\s+(?:type\s+)?[\w$*{}\s,]*?\bfrom\s*(['"])/g, // import x, { y } from '…'; import * as z from '…'
  /\bimport\s*(['"])/g, // import '…' (side effects)
  /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])/g, // export { x } from '…'; export * from '…'
  /\bimport\s*\(\s*(['"`])/g, // import('…'), also `typeof import('…')`
];

/** Every import specifier a source names (literal ones), and how many `import(…)` compute theirs (those cannot be checked). */
export function specifiers(text: string): { readonly specs: string[]; readonly computed: number } {
  const { code, skeleton } = views(text);
  const found = new Map<number, string>();
  let computed = [...skeleton.matchAll(/\bimport\s*\(\s*(?!['"`])/g)].length;
  for (const form of IMPORT_FORMS) {
    for (const m of skeleton.matchAll(form)) {
      const quote = m.index + m[0].length - 1;
      const spec = code.slice(quote + 1, skeleton.indexOf(m[1]!, quote + 1));
      if (m[1] === '`' && spec.includes('${')) computed++;
      else found.set(quote, spec);
    }
  }
  return { specs: [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s), computed };
}

/**
 * The file a relative specifier names (`./x.js` → `dir/x.ts`, NodeNext style); `undefined` for packages and
 * `node:` modules; `null` when it names no file of the set.
 */
export function resolveSpecifier(from: string, spec: string, files: ReadonlySet<string>): string | undefined | null {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return undefined;
  const target = posix.normalize(posix.join(posix.dirname(from), spec));
  const stem = target.replace(/\.(js|mjs|cjs|ts)$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.d.ts`, `${stem}/index.ts`, target]) if (files.has(candidate)) return candidate;
  return null;
}

/** How a package or `node:` module appears among a file's imports: `package:express`, `package:node:http`. */
export const PACKAGE = 'package:';

export interface Graph {
  /** importing file → the files it imports (each once), and the packages, as `package:<specifier>`. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** Relative specifiers that name no file, and `import(…)` calls whose specifier is computed. */
  readonly problems: readonly string[];
}

/** The import graph of a file set (path → text; paths relative to the repository root, `/`-separated). */
export function importGraph(sources: ReadonlyMap<string, string>): Graph {
  const files = new Set(sources.keys());
  const edges = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [file, text] of sources) {
    const { specs, computed } = specifiers(text);
    if (computed > 0) problems.push(`${file}: ${computed} import(…) with a computed specifier`);
    const targets = new Set<string>();
    for (const spec of specs) {
      const to = resolveSpecifier(file, spec, files);
      if (to === null) problems.push(`${file}: '${spec}' names no file`);
      else targets.add(to ?? `${PACKAGE}${spec}`);
    }
    edges.set(file, [...targets]);
  }
  return { edges, problems };
}
