/**
 * The forwarder runtime's health listener and shutdown (real sockets): `/healthz` always 200,
 * `/readyz` 200 only when every forwarder is ready, each mode's health routes mounted (never over
 * the runtime's own paths); graceful stop lets an in-flight exchange finish while new connections
 * are refused, cuts what is left after the drain time, closes the handlers and removes sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { startForwarders, type ForwarderBlock, type Forwarders } from '../../../src/forward/runtime/run.js';
import { capturingLogger } from '../../helpers/bearer.js';
import { send } from '../../helpers/http-send.js';
import { getUnix, probeMode, probeState, type ProbeState } from './harness.js';

const running: Forwarders[] = [];
after(() => Promise.all(running.map((f) => f.stop(0))));
const probe = (text: string, address = '127.0.0.1:0'): ForwarderBlock => ({
  name: text,
  mode: 'probe',
  listen: { address },
  options: { text, upgrades: false },
});

async function start(state: ProbeState, blocks: ForwarderBlock[], healthListen?: string) {
  const { log, lines } = capturingLogger();
  const modes = new Map<string, ModeDefinition<unknown>>([['probe', probeMode(state) as ModeDefinition<unknown>]]);
  const f = await startForwarders(blocks, modes, {
    log,
    clock: new ManualClock(),
    readFile: (p) => readFileSync(p, 'utf8'),
    ...(healthListen !== undefined ? { healthListen } : {}),
  });
  running.push(f);
  return { f, lines };
}

/** A GET whose response head has arrived; `body` resolves when it ends (or rejects if cut). */
function startGet(port: number, path: string): Promise<{ status: number; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const body = new Promise<string>((ok, fail) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok(Buffer.concat(chunks).toString()));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('aborted')));
      });
      body.catch(() => undefined);
      resolve({ status: res.statusCode ?? 0, body });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('forwarder runtime: health listener', () => {
  it("answers /healthz always, /readyz by every forwarder, and each mode's own routes", async () => {
    const a = probeState();
    const { f, lines } = await start(a, [probe('alpha'), probe('beta')], '127.0.0.1:0');
    const port = f.healthPort!;
    assert.deepEqual([(await send(port, '/healthz')).status, (await send(port, '/readyz')).status], [200, 200]);
    a.ready = false;
    const notReady = await send(port, '/readyz');
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body, 'not ready: alpha, beta');
    assert.equal((await send(port, '/healthz')).status, 200, 'liveness does not follow readiness');
    assert.equal((await send(port, '/alpha-status')).body, 'alpha status');
    assert.equal((await send(port, '/beta-status')).body, 'beta status');
    assert.equal((await send(port, '/nothing')).status, 404);
    assert.equal((await send(port, '/healthz', { method: 'POST' })).status, 405);
    assert.match(lines.join(''), /health route not mounted/, 'a mode route on /readyz is not mounted');
  });

  it('serves health on a unix socket too', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'health-')), 'h.sock');
    const { f } = await start(probeState(), [probe('gamma')], `unix:${sock}`);
    assert.equal((await getUnix(sock, '/healthz')).status, 200);
    await f.stop(0);
    assert.equal(existsSync(sock), false);
  });
});

describe('forwarder runtime: graceful shutdown', () => {
  it('lets an in-flight exchange finish, refuses new connections, then closes handlers and removes sockets', async () => {
    const state = probeState();
    const sock = join(mkdtempSync(join(tmpdir(), 'drain-')), 'd.sock');
    const { f } = await start(state, [probe('tcp'), probe('unix', `unix:${sock}`)]);
    const port = f.listeners[0]!.port;
    const held = once(state.events, 'held');
    const inflight = await startGet(port, '/hold');
    await held;
    let stopped = false;
    const stopping = f.stop(60_000).then(() => {
      stopped = true;
    });
    await assert.rejects(send(port, '/'), /ECONNREFUSED/);
    assert.equal(stopped, false);
    assert.deepEqual(state.closed, [], 'handlers stay open while draining');
    state.release();
    assert.equal(await inflight.body, 'tcp held-done');
    await stopping;
    assert.deepEqual(state.closed.sort(), ['tcp', 'unix']);
    assert.equal(existsSync(sock), false);
  });

  it('cuts what is still in flight once the drain time is over', async () => {
    const state = probeState();
    const { f } = await start(state, [probe('slow')]);
    const held = once(state.events, 'held');
    const inflight = await startGet(f.listeners[0]!.port, '/hold');
    await held;
    await f.stop(20);
    await assert.rejects(inflight.body);
    assert.deepEqual(state.closed, ['slow']);
  });
});
