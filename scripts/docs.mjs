#!/usr/bin/env node
// Rewrites the generated tables in README.md (run `npm run docs`): the configuration tables from the
// schemas, the error and deny codes from the catalogue in src/errors.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withTables } from '../dist/src/config/docs.js';
import { withErrorTables } from '../dist/src/errors-docs.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withErrorTables(withTables(readFileSync(path, 'utf8'))));
console.log('README.md configuration and error-code tables updated');
