/**
 * The child process of test/workers.test.ts: `runWorkers` with two workers, as `oidc-judge serve
 * --workers 2` would run. Mode `app` starts the real service in each worker (settings: env-style
 * names, as JSON in argv); mode `broken` has workers that cannot start. Logs go to stdout as JSON
 * lines; the test reads them to learn pids, ports and which worker answered.
 *   node workers-fixture.js app|broken '{"env":{…},"options":{…}}'
 */
import { startApp } from '../../src/app/start.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/obs/log.js';
import { runWorkers, type WorkerOptions } from '../../src/workers.js';

const [mode, json] = process.argv.slice(2);
const settings = JSON.parse(json ?? '{}') as { env?: Record<string, string>; options?: WorkerOptions };
const log = createLogger('info');

async function main(): Promise<number> {
  if (mode === 'app') {
    const { config } = loadConfig({ env: settings.env ?? {}, flags: {}, readFile: () => '' });
    return runWorkers(2, (workerLog) => startApp(config, { log: workerLog }), log, settings.options);
  }
  return runWorkers(2, () => Promise.reject(new Error('cannot bind the port')), log, settings.options);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`workers fixture: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(2);
  },
);
