/**
 * `oidc-judge demo` as a newcomer runs it: the banner with the URL, no warning of ours, and then
 * every decision as it happens, one readable line each; Ctrl-C (SIGINT) stops it with exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
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
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
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
    // 'close', not 'exit': both pipes are read to their end by then.
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0);
    // Nothing on stderr on any Node we support (20.19, 22, 24): no quick-start adapter warning, no
    // "oidc-provider WARNING: Unsupported runtime" (oidc-provider 9's entry point prints it before 22).
    assert.deepEqual(
      err.split('\n').filter((l) => l !== ''),
      [],
      'nothing on stderr',
    );
    assert.doesNotMatch(out, /warning|unsupported runtime/i, 'no warning on stdout either');
  });

  it('a busy port: says so and suggests --port, exit 1', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn(process.execPath, [cli, 'demo', '--port', String(port)], {
        env: { PATH: process.env['PATH'] ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      // 'close', not 'exit': stderr is read to its end by then.
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 1);
      assert.match(err, new RegExp(`oidc-judge demo: port ${port} is in use; choose another with --port \\(npm run demo -- --port ${port + 1}\\)`));
    } finally {
      busy.close();
    }
  });
});
