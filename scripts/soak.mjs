#!/usr/bin/env node
// `npm run soak`: builds, then runs test/soak/run.ts — a bounded soak of the assembled service (a
// child process running `oidc-judge serve`) at a fixed moderate rate: cookie sessions on SQLite over
// HTTP, JWT bearer tokens over HTTP and gRPC. SOAK_SECONDS (default 300) sets the length, SOAK_RATE
// (checks per second) the rate — by default half of the maximum it measures first. Prints a table;
// exits non-zero on any error, RSS outside ±10 % after warm-up, or fd / connection growth.
// `--dir <outDir> --no-build` runs an existing build instead of building into dist/.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const args = process.argv.slice(2);
const dirAt = args.indexOf('--dir');
const dir = dirAt >= 0 ? args[dirAt + 1] : 'dist';
if (!args.includes('--no-build')) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
const r = spawnSync(process.execPath, ['--enable-source-maps', join(dir, 'test/soak/run.js')], {
  stdio: 'inherit',
  env: { ...process.env, SOAK_SECONDS: process.env.SOAK_SECONDS ?? '300' },
});
process.exit(r.status ?? 1);
