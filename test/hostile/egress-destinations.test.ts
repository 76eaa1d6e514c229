/**
 * The egress forward proxy's destination allow-list (`allowHosts`) against the spellings that reach
 * another host: IPv4 in decimal, hex, octal and short forms, IPv4-mapped IPv6, another port, the
 * apex of a wildcard, a look-alike suffix, userinfo and fragment tricks in the absolute URI, a
 * `Host` header naming the allowed host, and `CONNECT` authorities in the same forms. Every one is
 * refused (403, or 400 for what is no usable target) and nothing reaches a target — the stand-in for
 * a metadata server or an internal service the pod can reach.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectVia, makeCa, send, startEgress, startTarget, type CaFiles, type Started, type Target } from '../forward/egress/kit.js';

describe('hostile: egress destinations outside allowHosts', () => {
  let allowed: Target;
  let internal: Target;
  let mitm: CaFiles;
  let e: Started;
  before(async () => {
    allowed = await startTarget();
    internal = await startTarget();
    mitm = await makeCa('ec', 'egress interception CA');
    e = await startEgress({
      token: { source: 'static', token: 'egress-token' },
      connectCa: { certFile: mitm.certFile, keyFile: mitm.keyFile },
      allowHosts: [`localhost:${allowed.port}`, '*.allowed.test'],
    });
  });
  after(async () => {
    await e.stop();
    await allowed.close();
    await internal.close();
    mitm.cleanup();
  });

  const reached = (): number => allowed.seen.length + internal.seen.length;

  /** Sends a raw request line (so the target is exactly as written) and resolves with the status. */
  async function raw(target: string, hostHeader = 'x'): Promise<number> {
    const s = connect(e.proxy.port, '127.0.0.1');
    s.write(`GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
    let got = '';
    for await (const c of s) got += String(c);
    return Number(/^HTTP\/1\.1 (\d{3}) /.exec(got)?.[1] ?? 0);
  }

  it('absolute-URI requests: every other spelling of a host or port is refused, nothing reaches a target', async () => {
    const A = allowed.port;
    const I = internal.port;
    const before = reached();
    const refused: [string, number][] = [
      [`http://127.0.0.1:${I}/`, 403],
      [`http://127.0.0.1:${A}/`, 403],
      [`http://127.1:${A}/`, 403],
      [`http://2130706433:${A}/`, 403],
      [`http://0x7f000001:${A}/`, 403],
      [`http://0177.0.0.1:${A}/`, 403],
      [`http://[::ffff:127.0.0.1]:${A}/`, 403],
      [`http://[::1]:${A}/`, 403],
      [`http://localhost:${I}/`, 403],
      [`http://allowed.test:${A}/`, 403],
      [`http://localhost.allowed.test.evil:${A}/`, 403],
      [`http://evilallowed.test:${A}/`, 403],
      [`http://127.0.0.1:${I}#@localhost:${A}/`, 400],
      [`http://localhost:${A}@127.0.0.1:${I}/`, 400],
      [`https://127.0.0.1:${I}/`, 403],
    ];
    for (const [target, status] of refused) assert.equal(await raw(target), status, target);
    assert.equal(await raw(`http://127.0.0.1:${I}/`, `localhost:${A}`), 403, 'the Host header names the allowed host');
    assert.equal(await raw('/origin-form', `localhost:${A}`), 400);
    assert.equal(reached(), before, 'nothing reached a target');
    assert.equal((await send(e.proxy.port, `http://localhost:${A}/ok`)).status, 200, 'the listed one still works');
  });

  it('CONNECT: every other authority is refused before a tunnel opens', async () => {
    const A = allowed.port;
    const I = internal.port;
    const before = reached();
    for (const authority of [
      `127.0.0.1:${A}`,
      `127.1:${A}`,
      `[::ffff:7f00:1]:${A}`,
      `[::1]:${A}`,
      `localhost:${I}`,
      `LOCALHOST:${I}`,
      `allowed.test:${A}`,
      `x.allowed.test.evil:${A}`,
    ]) {
      const r = await connectVia(e.proxy.port, authority);
      assert.equal(r.status, 403, authority);
      r.socket.destroy();
    }
    assert.equal(reached(), before);
  });
});
