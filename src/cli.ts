#!/usr/bin/env node
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Listeners are closed by now; do not wait for stray timers.
    if (code !== 0 || process.argv[2] !== 'check-config') setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`oidc-judge: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
