#!/usr/bin/env node
// The whole test suite: system packages, lint (Biome; whole-suite runs), type-check and build, then node's test runner.
//   node scripts/test.mjs                 every test
//   node scripts/test.mjs test/judge      only tests under that folder (or a single file)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureSystemDeps } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
ensureSystemDeps();

// Formatter and linter (biome.jsonc), before anything is built: on every whole-suite run (`npm test`,
// .ci/run); a run of chosen folders or files skips it unless OIDC_JUDGE_LINT=1 (`npm run lint` alone).
if (process.argv.length <= 2 || process.env.OIDC_JUDGE_LINT === '1') {
  const biome = 'node_modules/@biomejs/biome/bin/biome';
  if (!existsSync(biome)) {
    console.error(`lint: ${biome} is missing: npm install`);
    process.exit(1);
  }
  const lint = spawnSync(process.execPath, [biome, 'check', '--error-on-warnings', 'src', 'test', 'scripts'], { stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('lint failed: `npm run format` fixes the layout and the safe fixes; the rest is named above');
    process.exit(lint.status ?? 1);
  }
}

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('type-check failed');
  process.exit(tsc.status ?? 1);
}

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'bench') collect(p, out);
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const targets = (args.length ? args : ['test']).map((a) => join('dist', a.replace(/\.ts$/, '.js')));
const files = targets.flatMap((t) => (statSync(t).isDirectory() ? collect(t, []) : [t]));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The timeout applies to each file as a whole too: a file of browser logins took over 120 s on two
// busy cores. 300 s still turns a hang into a failure.
const r = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files.map((f) => relative(root, f))],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
