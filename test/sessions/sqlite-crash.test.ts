import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { openSqliteStore } from '../../src/sessions/sqlite.js';

const writer = fileURLToPath(new URL('./fixtures/sqlite-writer.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it has printed `count` keys, kills it with SIGKILL, and returns the keys it printed. */
function writeUntilKilled(path: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.split('\n').length > count) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended by itself (code ${code}):\n${err}`));
      // Only complete lines: the last one may have been cut by the kill.
      resolve(out.split('\n').slice(0, -1));
    });
  });
}

it('every put that resolved before a SIGKILL is in the file afterwards', async () => {
  const path = join(dir, 'crash.db');
  const t = Date.now();
  for (const round of [1, 2]) {
    const keys = await writeUntilKilled(path, 300 * round);
    assert.ok(keys.length >= 300 * round, `printed ${keys.length} keys`);
    const store = openSqliteStore(path);
    try {
      for (const key of keys) {
        const i = key.slice('key-'.length);
        assert.equal(Buffer.from((await store.get(key, t))?.value ?? []).toString(), `value-${i}`, key);
      }
      assert.equal(await store.claimOnce(keys.at(-1)!, t + 3_600_000, t), false, 'the last claim survived too');
      assert.equal(await store.ping(), true);
    } finally {
      await store.close();
    }
  }
});
