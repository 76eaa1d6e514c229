#!/usr/bin/env node
// Rewrites the configuration table in README.md from the schema (run `npm run docs`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withTable } from '../dist/src/config/docs.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withTable(readFileSync(path, 'utf8')));
console.log('README.md configuration table updated');
