/**
 * Request smuggling against the forwarder of the assembled service, on raw sockets: both framings
 * (CL.TE, TE.CL), Transfer-Encoding variants (lists, unknown codings, case, tab, space before the
 * colon, repeated headers, obs-fold), Content-Length variants (lists, signs, hex, repeats), bad
 * chunk sizes and bare-LF lines — each hiding a `GET /admin` behind an allowed `POST /public/…`.
 * Whatever the forwarder answers, every request the upstream receives was judged: `/admin` never
 * reaches it, and a legitimately pipelined `/admin` is judged (401) on its own.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGuarded, type Guarded } from './stack.js';

const SMUGGLED = 'GET /admin/secret HTTP/1.1\r\nHost: h\r\n\r\n';

/** Each: a request head's framing lines and the body that follows it (which carries SMUGGLED). */
const FRAMINGS: [name: string, head: string, body: string][] = [
  ['CL.TE', 'Content-Length: 6\r\nTransfer-Encoding: chunked', `0\r\n\r\n${SMUGGLED}`],
  ['TE.CL', 'Transfer-Encoding: chunked\r\nContent-Length: 4', `5c\r\n${SMUGGLED}\r\n0\r\n\r\n`],
  ['TE list with chunked first', 'Transfer-Encoding: chunked, identity', `0\r\n\r\n${SMUGGLED}`],
  ['TE unknown coding', 'Transfer-Encoding: xchunked', `0\r\n\r\n${SMUGGLED}`],
  ['TE space before colon', 'Transfer-Encoding : chunked', `0\r\n\r\n${SMUGGLED}`],
  ['TE obs-fold', 'Transfer-Encoding:\r\n chunked', `0\r\n\r\n${SMUGGLED}`],
  ['TE twice', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', `0\r\n\r\n${SMUGGLED}`],
  ['TE vertical tab', 'Transfer-Encoding:\x0bchunked', `0\r\n\r\n${SMUGGLED}`],
  ['TE upper case', 'Transfer-Encoding: CHUNKED', `0\r\n\r\n${SMUGGLED}`],
  ['TE tab', 'Transfer-Encoding:\tchunked', `0\r\n\r\n${SMUGGLED}`],
  ['CL list', 'Content-Length: 0, 40', SMUGGLED],
  ['CL twice, different', 'Content-Length: 0\r\nContent-Length: 40', SMUGGLED],
  ['CL plus sign', 'Content-Length: +0', SMUGGLED],
  ['CL hex', 'Content-Length: 0x0', SMUGGLED],
  ['CL negative', 'Content-Length: -1', SMUGGLED],
  ['chunk size overflow', 'Transfer-Encoding: chunked', `ffffffffffffffffff1\r\nx\r\n0\r\n\r\n${SMUGGLED}`],
  ['chunk size with junk', 'Transfer-Encoding: chunked', `0x0\r\n\r\n${SMUGGLED}`],
  ['chunk extension smuggling', 'Transfer-Encoding: chunked', `0;ext="\r\n\r\n${SMUGGLED}"\r\n\r\n`],
  ['bare LF chunk end', 'Transfer-Encoding: chunked', `0\n\n${SMUGGLED}`],
];

describe('request smuggling against the forwarder', () => {
  let g: Guarded;
  const results: string[] = [];
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' });
  });
  after(() => g.stop());

  /**
   * Writes `text` and then a last request that asks to close the connection, and resolves with the
   * status codes of every response read until the server closes it (after that last request, or
   * earlier when it refuses the framing). A connection still open after 30 s is a failure (5 s can
   * pass on a busy machine before three pipelined requests are judged and answered).
   */
  async function exchange(text: string): Promise<number[]> {
    const socket = connect(g.ingress, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.write(text + 'GET /public/last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const stuck = setTimeout(() => socket.destroy(new Error('still open')), 30_000);
    const [closedWithError] = (await once(socket, 'close')) as [boolean];
    clearTimeout(stuck);
    assert.equal(closedWithError && chunks.length === 0, false, 'the forwarder neither answered nor closed the connection');
    return [
      ...Buffer.concat(chunks)
        .toString('latin1')
        .matchAll(/HTTP\/1\.1 (\d{3}) /g),
    ].map((m) => Number(m[1]));
  }

  it('a pipelined second request is judged on its own: /public forwarded, /admin 401, only /public upstream', async () => {
    const before = g.upstream.heads.length;
    const statuses = await exchange(`GET /public/x HTTP/1.1\r\nHost: h\r\n\r\n${SMUGGLED}`);
    assert.deepEqual(statuses, [200, 401, 200]);
    assert.deepEqual(
      g.upstream.heads.slice(before).map((h) => h.url),
      ['/public/x', '/public/last'],
    );
  });

  for (const [name, framing, body] of FRAMINGS) {
    it(`${name}: refused or re-framed; /admin never reaches the upstream`, async () => {
      const before = g.upstream.heads.length;
      const statuses = await exchange(`POST /public/x HTTP/1.1\r\nHost: h\r\n${framing}\r\n\r\n${body}`);
      const upstream = g.upstream.heads.slice(before).map((h) => h.url);
      assert.ok(
        upstream.every((u) => u === '/public/x' || u === '/public/last'),
        `${name}: upstream saw ${JSON.stringify(upstream)}`,
      );
      assert.ok(upstream.filter((u) => u === '/public/x').length <= 1, `${name}: ${upstream.length} requests upstream`);
      // The allowed POST and the closing request may be answered 200; whatever was parsed between them was judged (401) or refused (400).
      assert.ok(statuses.filter((s) => s === 200).length <= 2, `${name}: ${JSON.stringify(statuses)}`);
      results.push(`${name}: ${statuses.join(' ')} → upstream ${upstream.length}`);
      assert.ok(
        statuses.every((s) => [200, 400, 401, 413].includes(s)),
        `${name}: ${JSON.stringify(statuses)}`,
      );
    });
  }

  it('still serves normally after all of that', async (t) => {
    assert.deepEqual(await exchange('GET /public/ok HTTP/1.1\r\nHost: h\r\n\r\n'), [200, 200]);
    t.diagnostic(results.join('; '));
  });
});
