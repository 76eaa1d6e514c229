#!/usr/bin/env node
// Lists the import cycles among src/ files (type-only imports included: they tie the files'
// design together even where they vanish at run time). Exits 1 when there is one.
//   node scripts/import-cycles.mjs           every cycle, one strongly connected group a line
//   node scripts/import-cycles.mjs --folders the same between folders of src/ (top-level files stand alone)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const src = join(root, 'src');
const byFolder = process.argv.includes('--folders');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const SPEC = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const node = (file) => {
  const rel = relative(src, file);
  if (!byFolder) return rel;
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) + '/' : rel;
};

const edges = new Map();
for (const file of walk(src)) {
  const from = node(file);
  if (!edges.has(from)) edges.set(from, new Set());
  for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
    const to = node(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
    if (to !== from) edges.get(from).add(to);
  }
}

// Tarjan's strongly connected components: every group of two or more is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const groups = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const g = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      g.push(w);
    } while (w !== v);
    if (g.length > 1) groups.push(g.sort());
  }
}
for (const v of [...edges.keys()].sort()) if (!idx.has(v)) visit(v);

for (const g of groups) {
  const inside = new Set(g);
  console.log(`cycle (${g.length}): ${g.join(', ')}`);
  for (const v of g) {
    const out = [...edges.get(v)].filter((w) => inside.has(w));
    console.log(`  ${v} → ${out.join(', ')}`);
  }
}
if (groups.length === 0) console.log('no import cycles');
process.exit(groups.length === 0 ? 0 : 1);
