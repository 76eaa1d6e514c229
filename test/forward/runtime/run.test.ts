/**
 * The forwarder runtime's listeners (real sockets): several blocks of several modes in one
 * process, unix-socket listen (mode 0755 by default or as configured, stale socket replaced,
 * a live socket or a plain file refused), TLS listen (TLS 1.2 minimum; refused on a unix socket),
 * one failing listener stopping everything, `Upgrade` → the mode or 501, `CONNECT` → the mode or 405.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { startForwarders, type ForwarderBlock, type Forwarders } from '../../../src/forward/runtime/run.js';
import { verifyMode } from '../../../src/forward/verify/mode.js';
import { silentLogger } from '../../../src/obs/log.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';
import { makeTlsFiles } from '../../helpers/redis.js';
import { startUpstream } from '../../helpers/upstream.js';
import { rawExchange } from '../ingress/harness.js';
import { getTls, getUnix, probeMode, probeState } from './harness.js';

const state = probeState();
const MODES = new Map<string, ModeDefinition<unknown>>([
  ['probe', probeMode(state) as ModeDefinition<unknown>],
  ['verify', verifyMode as ModeDefinition<unknown>],
]);
const deps = { log: silentLogger, clock: new ManualClock(Date.now()), readFile: (p: string) => readFileSync(p, 'utf8') };
const running: Forwarders[] = [];
after(() => Promise.all(running.map((f) => f.stop(0))));
const probe = (text: string, address: string, extra: Partial<ForwarderBlock> = {}, upgrades = false): ForwarderBlock => ({
  name: text,
  mode: 'probe',
  listen: { address },
  options: { text, upgrades },
  ...extra,
});
async function start(blocks: ForwarderBlock[], more: Record<string, unknown> = {}): Promise<Forwarders> {
  const f = await startForwarders(blocks, MODES, { ...deps, ...more });
  running.push(f);
  return f;
}
const dir = (): string => mkdtempSync(join(tmpdir(), 'run-'));

describe('forwarder runtime: listeners', () => {
  it('runs several blocks of different modes, each on its own listener', async () => {
    const upstream = await startUpstream();
    after(() => upstream.close());
    const errs: string[] = [];
    const verifyOpts = (token: string) => verifyMode.parse({ upstream: upstream.url, keys: { source: 'static-token', token } }, 'f', errs);
    const sock = join(dir(), 'p.sock');
    const f = await start([
      { name: 'one', mode: 'verify', listen: { address: '127.0.0.1:0' }, options: verifyOpts('token-one') },
      { name: 'two', mode: 'verify', listen: { address: '127.0.0.1:0' }, options: verifyOpts('token-two') },
      probe('three', `unix:${sock}`),
    ]);
    assert.deepEqual(errs, []);
    const [one, two] = f.listeners;
    assert.equal((await send(one!.port, '/', { headers: { authorization: 'Bearer token-one' } })).status, 200);
    assert.equal((await send(one!.port, '/', { headers: { authorization: 'Bearer token-two' } })).status, 401);
    assert.equal((await send(two!.port, '/', { headers: { authorization: 'Bearer token-two' } })).status, 200);
    assert.equal((await getUnix(sock, '/x')).body, 'three /x');
    assert.equal(f.listeners[2]!.address, `unix:${sock}`);
  });

  it('creates unix sockets with mode 0755 by default or the configured mode, and removes them on stop', async () => {
    const d = dir();
    const f = await start([
      probe('a', `unix:${join(d, 'a.sock')}`),
      probe('b', `unix:${join(d, 'b.sock')}`, { listen: { address: `unix:${join(d, 'b.sock')}`, socketMode: 0o700 } }),
    ]);
    assert.equal(statSync(join(d, 'a.sock')).mode & 0o777, 0o755);
    assert.equal(statSync(join(d, 'b.sock')).mode & 0o777, 0o700);
    await f.stop(0);
    assert.equal(existsSync(join(d, 'a.sock')), false);
    assert.equal(existsSync(join(d, 'b.sock')), false);
  });

  it('replaces a stale socket file, refuses a live socket and never removes a plain file', async () => {
    const d = dir();
    const stale = join(d, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(child.stdout!, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.ok(existsSync(stale), 'the killed process left its socket behind');
    await start([probe('stale', `unix:${stale}`)]);
    assert.equal((await getUnix(stale, '/')).body, 'stale /');
    await assert.rejects(start([probe('live', `unix:${stale}`)]), /forwarders\[0\] \(live\): cannot listen on unix:.*is in use by a running process/);
    const file = join(d, 'plain');
    writeFileSync(file, 'keep me');
    await assert.rejects(start([probe('file', `unix:${file}`)]), /exists and is not a socket/);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
  });

  it('listens with TLS 1.2 or later, and refuses TLS on a unix socket', async () => {
    const tls = await makeTlsFiles();
    after(() => tls.cleanup());
    const f = await start([probe('tls', '127.0.0.1:0', { listen: { address: '127.0.0.1:0', tls: { certFile: tls.cert, keyFile: tls.key } } })]);
    const ca = readFileSync(tls.ca, 'utf8');
    const port = f.listeners[0]!.port;
    assert.deepEqual(await getTls(port, '/s', ca), { status: 200, body: 'tls /s' });
    await assert.rejects(getTls(port, '/', ca, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
    await assert.rejects(
      start([
        probe('bad', `unix:${join(dir(), 't.sock')}`, { listen: { address: `unix:${join(dir(), 't.sock')}`, tls: { certFile: tls.cert, keyFile: tls.key } } }),
      ]),
      /TLS cannot be used with a unix-socket listener/,
    );
    await assert.rejects(
      start([probe('nokey', '127.0.0.1:0', { listen: { address: '127.0.0.1:0', tls: { certFile: tls.cert, keyFile: join(dir(), 'none.key') } } })]),
      /tls\.keyFile: cannot read/,
    );
  });

  it('stops everything when one listener cannot start, naming it', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    after(() => busy.close());
    const busyPort = (busy.address() as { port: number }).port;
    const closedBefore = state.closed.length;
    const firstPort = await freePort();
    const err = await start([probe('first', `127.0.0.1:${firstPort}`), probe('second', `127.0.0.1:${busyPort}`)]).catch((e: Error) => e);
    assert.match(String(err), new RegExp(`forwarders\\[1\\] \\(second\\): cannot listen on 127.0.0.1:${busyPort}: address already in use`));
    assert.deepEqual(state.closed.slice(closedBefore).sort(), ['first', 'second']);
    await assert.rejects(send(firstPort, '/'), /ECONNREFUSED/, 'the listener that had started is closed');
    await assert.rejects(start([{ name: 'x', mode: 'nope', listen: { address: '127.0.0.1:0' }, options: {} }]), /unknown mode "nope"/);
  });

  it('sends Upgrade and CONNECT to the mode, or answers 501 and 405 when it has none; a throwing handler gets 503', async () => {
    const f = await start([probe('plain', '127.0.0.1:0'), probe('up', '127.0.0.1:0', {}, true)]);
    const [plain, up] = f.listeners.map((l) => l.port);
    const upgrade = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    assert.match(await rawExchange(plain!, upgrade), /^HTTP\/1\.1 501 /);
    assert.match(await rawExchange(up!, upgrade), /^HTTP\/1\.1 101 [\s\S]*probe-upgraded$/);
    const connectReq = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n';
    const refused = await rawExchange(plain!, connectReq);
    assert.match(refused, /^HTTP\/1\.1 405 /);
    assert.match(refused, /allow: /i);
    assert.match(await rawExchange(up!, connectReq), /^HTTP\/1\.1 200 [\s\S]*x-target: example\.com:443/);
    assert.equal((await send(plain!, '/throw')).status, 503);
  });
});
