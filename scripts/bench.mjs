#!/usr/bin/env node
// `npm run bench`: installs the load generators when missing (wrk; h2load from nghttp2-client),
// builds, then runs test/bench/run.ts. Extra arguments go to it: --seconds N (per run, default 10),
// --rss-seconds N (the half-load memory run, default 300; 0 skips it), --only TEXT (scenarios whose
// name contains TEXT; several texts separated by |). test/bench/micro.ts measures the judge's CPU per check
// in-process (node dist/test/bench/micro.js).
import { spawnSync } from 'node:child_process';
import { ensureSystemDeps } from './system-deps.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
ensureSystemDeps([
  ['/usr/bin/wrk', 'wrk'],
  ['/usr/bin/h2load', 'nghttp2-client'],
  ['/usr/bin/redis-server', 'redis-server'],
  ['/usr/bin/openssl', 'openssl'],
]);
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const r = spawnSync(process.execPath, ['--enable-source-maps', 'dist/test/bench/run.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
