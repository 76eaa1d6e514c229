/** Shared by the configuration tests: a minimal valid environment, no config files, and the problems a ConfigError lists. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/load.js';

export const base = { OIDC_PROVIDER: 'https://idp.example.com/dex', CLIENT_ID: 'judge', CLIENT_SECRET: 's3cr3t-value' };

/** A `readFile` for which no file exists. */
export const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
};

/** The problems of the ConfigError `fn` throws; fails the test when it throws nothing or something else. */
export function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}
