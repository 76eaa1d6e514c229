/**
 * The documentation pages users read — README.md and every Markdown file under docs/ — for the
 * tests that check them (generated tables, links, settings named, runnable blocks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';

/** Paths relative to the project root, README.md first, then docs/ in sorted order. */
export function docPages(): string[] {
  const under = readdirSync(join(projectRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f.split('\\').join('/')}`);
  return ['README.md', ...under];
}

export const readPage = (page: string): string => readFileSync(join(projectRoot, page), 'utf8');
