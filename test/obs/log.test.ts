import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { batchLines, MAX_WRITE } from '../../src/obs/log-destination.js';
import { createLogger } from '../../src/obs/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger('DEBUG', stream) };
}

describe('log redaction', () => {
  it('never writes tokens, cookies, secrets or Authorization values', () => {
    const { lines, log } = capture();
    log.info(
      { headers: { authorization: 'Bearer eyJSECRET', cookie: 'authservice_session=SESSIONVALUE', 'set-cookie': 'a=COOKIEOUT', 'x-ok': 'visible' } },
      'check',
    );
    log.info({ config: { clientSecret: 'CLIENTSECRET', sessionStoreRedisPwd: 'REDISPWD', clientId: 'judge' } }, 'config');
    log.info({ token: 'RAWTOKEN', idToken: 'IDTOKEN', refresh_token: 'REFRESHTOKEN', tokens: { access_token: 'ACCESSTOKEN' } }, 'tokens');
    log.debug({ authorization: 'Basic QUJD', cookie: 'x=COOKIE2' }, 'flat');
    const out = lines.join('');
    for (const secret of [
      'eyJSECRET',
      'SESSIONVALUE',
      'COOKIEOUT',
      'CLIENTSECRET',
      'REDISPWD',
      'RAWTOKEN',
      'IDTOKEN',
      'REFRESHTOKEN',
      'ACCESSTOKEN',
      'QUJD',
      'COOKIE2',
    ]) {
      assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    }
    assert.ok(out.includes('visible') && out.includes('judge'), 'non-secret fields stay');
    assert.equal(lines.length, 4);
    assert.ok(out.includes('[redacted]'));
  });
});

describe('buffered log destination', () => {
  it('hands the lines of one event-loop turn over in one write, at the end of the turn', async () => {
    const writes: string[] = [];
    const dest = batchLines((bytes) => writes.push(Buffer.from(bytes).toString()));
    const log = createLogger('INFO', dest);
    for (let i = 0; i < 5; i++) log.info({ i }, 'line');
    assert.equal(writes.length, 0, 'nothing is written while the turn goes on');
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1);
    assert.deepEqual(
      writes[0]!
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { i: number }).i),
      [0, 1, 2, 3, 4],
    );
  });

  it('writes whole lines of at most 4 KiB each (PIPE_BUF: workers sharing a pipe never interleave)', () => {
    const writes: string[] = [];
    const dest = batchLines((bytes) => writes.push(Buffer.from(bytes).toString()));
    // ASCII, two-byte and four-byte characters, a lone surrogate, and lines of every length up to past the buffer.
    const line = (i: number): string =>
      `${JSON.stringify({ i, pad: i % 5 === 0 ? 'x'.repeat(1300 + i * 7) : i % 3 === 0 ? '😀\ud800'.repeat(40) : 'é'.repeat(100 + (i % 37)) })}\n`;
    const lines = Array.from({ length: 200 }, (_, i) => line(i));
    for (const l of lines) dest.write(l);
    dest.write(`${'x'.repeat(MAX_WRITE + 10)}\n`);
    dest.flushSync();
    const all = writes.join('');
    assert.equal(all, Buffer.from(lines.join('') + `${'x'.repeat(MAX_WRITE + 10)}\n`).toString());
    assert.ok(writes.length > 10);
    for (const w of writes.slice(0, -1)) {
      assert.ok(Buffer.byteLength(w) <= MAX_WRITE, `a write of ${Buffer.byteLength(w)} bytes`);
      assert.ok(w.endsWith('\n'));
    }
    assert.equal(writes.at(-1), `${'x'.repeat(MAX_WRITE + 10)}\n`, 'a longer line goes alone');
  });

  it('a reader that goes away (EPIPE) ends logging, not the process', async () => {
    const logModule = new URL('../../src/obs/log.js', import.meta.url).href;
    const script = `import { createLogger } from ${JSON.stringify(logModule)};
const log = createLogger('info');
let turns = 0;
const more = () => {
  for (let i = 0; i < 200; i++) log.info({ i, pad: 'x'.repeat(100) }, 'line');
  if (++turns < 50) setTimeout(more, 1);
  else process.stderr.write('still here');
};
more();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, err);
    assert.equal(err, 'still here');
  });

  for (const [how, end] of [
    ['process.exit() in the same turn', 'process.exit(0);'],
    ['an uncaught exception', "throw new Error('boom');"],
    ['the event loop running dry', ''],
  ] as const) {
    it(`loses no line on ${how}`, async () => {
      const logModule = new URL('../../src/obs/log.js', import.meta.url).href;
      const script = `import { createLogger } from ${JSON.stringify(logModule)};
const log = createLogger('info');
for (let i = 0; i < 1000; i++) log.info({ i }, 'line');
${end}`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((resolve) => child.once('close', resolve));
      const lines = out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { i: number });
      assert.deepEqual(
        lines.map((l) => l.i),
        Array.from({ length: 1000 }, (_, i) => i),
      );
    });
  }
});
