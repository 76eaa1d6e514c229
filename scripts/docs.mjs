#!/usr/bin/env node
// Rewrites the configuration tables in README.md from the schemas (run `npm run docs`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withTables } from '../dist/src/config/docs.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withTables(readFileSync(path, 'utf8')));
console.log('README.md configuration tables updated');
