/** `WORKERS` / `--workers` / `workers:` through config loading: a count, or `auto` / 0 for one per CPU. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const workers = (more: { env?: Record<string, string>; flags?: Record<string, string>; file?: string }): number =>
  loadConfig({
    env: { ...base, ...more.env },
    flags: more.flags ?? {},
    ...(more.file !== undefined ? { configFile: 'c.yaml' } : {}),
    readFile: more.file !== undefined ? () => more.file! : noFiles,
  }).config.workers;

describe('configuration: WORKERS', () => {
  it('defaults to one process', () => {
    assert.equal(workers({}), 1);
  });

  it('takes a count from the environment, a flag or the config file', () => {
    assert.equal(workers({ env: { WORKERS: '4' } }), 4);
    assert.equal(workers({ env: { WORKERS: ' 256 ' } }), 256);
    assert.equal(workers({ flags: { workers: '3' } }), 3);
    assert.equal(workers({ file: 'workers: 2\n' }), 2);
  });

  it('takes auto (any case) or 0 for one per CPU: both load as 0, which serve resolves to the CPU count', () => {
    assert.equal(workers({ env: { WORKERS: 'auto' } }), 0);
    assert.equal(workers({ env: { WORKERS: ' AUTO ' } }), 0);
    assert.equal(workers({ env: { WORKERS: '0' } }), 0);
    assert.equal(workers({ flags: { workers: 'auto' } }), 0);
    assert.equal(workers({ file: 'workers: auto\n' }), 0);
  });

  it('refuses anything else at start-up with a problem naming WORKERS', () => {
    for (const bad of ['two', '-1', '1.5', '', '01', '257', 'autos']) {
      const found = problems(() => workers({ env: { WORKERS: bad } }));
      assert.equal(found.length, 1, bad);
      assert.match(found[0]!, /WORKERS/, bad);
      assert.match(found[0]!, /must be a number of workers \(1–256\), or 0 or "auto" for one per CPU/, bad);
    }
    assert.match(problems(() => workers({ flags: { workers: 'many' } }))[0]!, /--workers.*must be a number of workers/);
  });
});
