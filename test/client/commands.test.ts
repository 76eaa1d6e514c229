/**
 * `oidc-judge token` hands out the kept credential only while it has more than 30 s to live (a
 * request must not expire on the way), and says to log in again otherwise; `--url` is required.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { programArgs, tokenCommand } from '../../src/client/commands.js';
import { saveCredential } from '../../src/client/credentials.js';

describe('oidc-judge token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-token-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (now: number) => {
    let out = '';
    let err = '';
    const args = programArgs({ url: 'https://kf.example.com/' });
    assert.ok(typeof args !== 'string');
    const code = tokenCommand(args, { out: (t) => void (out += t), err: (t) => void (err += t), dir, now: () => now });
    return { code, out, err };
  };

  it('prints the credential while it lives, refuses it in its last 30 s and after', () => {
    assert.match(run(0).err, /not signed in to https:\/\/kf\.example\.com; run: oidc-judge login --url/);
    saveCredential(dir, { url: 'https://kf.example.com', accessToken: 'cred', expiresAt: 100_000 });
    assert.deepEqual(run(69_999), { code: 0, out: 'cred\n', err: '' });
    const late = run(70_000);
    assert.equal(late.code, 1);
    assert.equal(late.out, '');
    assert.match(late.err, /has expired; run: oidc-judge login --url https:\/\/kf\.example\.com/);
  });

  it('wants --url, an http(s) URL', () => {
    assert.match(String(programArgs({})), /--url URL is required/);
    assert.match(String(programArgs({ url: 'true' })), /--url URL is required/);
    assert.match(String(programArgs({ url: 'ftp://x' })), /http\(s\)/);
    assert.deepEqual(programArgs({ url: 'https://kf.example.com/', device: 'true', prefix: '/auth/' }), {
      url: 'https://kf.example.com',
      prefix: '/auth/',
      device: true,
      clientName: 'oidc-judge CLI',
    });
  });
});
