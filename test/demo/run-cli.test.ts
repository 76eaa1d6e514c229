/**
 * `oidc-judge demo` as a newcomer runs it: the banner with the URL, no warning of ours, and then
 * every decision as it happens, one readable line each; Ctrl-C (SIGINT) stops it with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { send } from '../helpers/http-send.js';
import { freePort } from '../helpers/net.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

describe('oidc-judge demo (the command)', () => {
  it('prints the URL, warns of nothing, shows each decision as it happens, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [cli, 'demo', '--port', String(port)], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`the demo exited early (${String(code)}): ${out}`);
    });
    exited.catch(() => {});
    /** Waits for `text` in the output (no timer: the next output or the exit wakes it). */
    const outputHas = async (text: string): Promise<void> => {
      while (!out.includes(text)) await Promise.race([once(child.stdout, 'data'), exited]);
    };
    await outputHas(`http://localhost:${port}/admin`);
    await outputHas('OIDC provider discovered');
    const r = await send(port, '/', { headers: { Host: `localhost:${port}`, Accept: 'text/html', 'Sec-Fetch-Mode': 'navigate' } });
    assert.equal(r.status, 302);
    await outputHas(`GET localhost:${port}/ → deny 302 login`);
    assert.doesNotMatch(out, /\b(WARN|ERROR) /, 'no warning or error of ours');
    assert.doesNotMatch(out, /\{"level"/, 'lines for people, not JSON');
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });
});
