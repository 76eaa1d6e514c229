#!/usr/bin/env node
// Rewrites the generated tables in README.md and docs/**/*.md (run `npm run docs`): the configuration
// tables from the schemas, the error and deny codes from the catalogue in src/errors.ts. Each table
// lives on the page it belongs to, between its markers; pages without markers are left alone.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTables } from '../dist/src/config/docs.js';
import { withErrorTables } from '../dist/src/errors-docs.js';

const root = new URL('..', import.meta.url).pathname;
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
const changed = [];
for (const page of pages) {
  const path = join(root, page);
  const before = readFileSync(path, 'utf8');
  const after = withErrorTables(withTables(before));
  if (after !== before) {
    writeFileSync(path, after);
    changed.push(page);
  }
}
console.log(changed.length ? `generated tables updated in ${changed.join(', ')}` : 'generated tables up to date');
