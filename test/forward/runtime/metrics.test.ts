/**
 * The forwarder runtime gives its modes the judge's operations: one metrics registry for the
 * process, scraped as Prometheus text on the health listener's `/metrics`, and `LOG_DECISIONS`
 * (flag, variable or config file key; default true) switching the decision log line of the modes
 * that decide through the judge. Run through the forward command, with a real HTTP client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/error.js';
import { runForwardCommand, type ForwardHandle } from '../../../src/forward/runtime/forward-command.js';
import { createLogger } from '../../../src/obs/log.js';
import { send } from '../../helpers/http-send.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';
import { MODES } from '../verify/harness.js';

const handles: ForwardHandle[] = [];
const upstreams: Upstream[] = [];
after(async () => {
  await Promise.all(handles.map((h) => h.forwarders.stop(0)));
  await Promise.all(upstreams.map((u) => u.close()));
});

type Line = Record<string, unknown>;

/** A verify forwarder (static token) from a config file, with a health listener; `extra` lines go on top of the file. */
async function start(env: Record<string, string>, extra = '', flags: Record<string, string> = {}) {
  const upstream = await startUpstream();
  upstreams.push(upstream);
  const file = join(mkdtempSync(join(tmpdir(), 'fwmetrics-')), 'f.yaml');
  writeFileSync(
    file,
    `${extra}forwarders:\n  - name: v\n    mode: verify\n    listen: 127.0.0.1:0\n    upstream: ${upstream.url}\n    keys: { source: static-token, token: tok }\n`,
  );
  const lines: string[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(s) });
  const h = await runForwardCommand(
    { readFile: (p) => readFileSync(p, 'utf8'), log, configFile: file, flags: { 'health-listen': '127.0.0.1:0', ...flags }, env },
    MODES,
  );
  handles.push(h);
  const port = h.forwarders.listeners[0]!.port;
  const decisions = (): Line[] => lines.map((l) => JSON.parse(l) as Line).filter((r) => r['msg'] === 'decision');
  return { h, port, health: h.forwarders.healthPort!, decisions };
}

const COUNTER = (outcome: string, status: string, authenticator: string): RegExp =>
  new RegExp(`^oidc_judge_decisions_total\\{outcome="${outcome}",status="${status}",authenticator="${authenticator}",via="forwarder"\\} 1$`, 'm');

describe('forwarder runtime: metrics and decision logs', () => {
  it('serves the check counters of the modes as Prometheus text on the health listener, and logs decisions by default', async () => {
    const f = await start({});
    assert.equal((await send(f.port, '/a', { headers: { authorization: 'Bearer tok' } })).status, 200);
    assert.equal((await send(f.port, '/b')).status, 401);
    const scraped = await send(f.health, '/metrics');
    assert.equal(scraped.status, 200);
    assert.match(String(scraped.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(scraped.body, COUNTER('allow', '200', 'verify-token'));
    assert.match(scraped.body, COUNTER('deny', '401', ''));
    assert.match(scraped.body, /^oidc_judge_process_cpu_seconds_total /m, 'one process registry, with the default metrics');
    assert.deepEqual(
      f.decisions().map((l) => [l['path'], l['status']]),
      [
        ['/a', 200],
        ['/b', 401],
      ],
    );
    assert.equal((await send(f.health, '/metrics', { method: 'POST' })).status, 405);
  });

  it('LOG_DECISIONS=false (variable, flag or file key) silences the decision lines; checks are still counted', async () => {
    for (const [env, extra, flags] of [
      [{ LOG_DECISIONS: 'false' }, '', {}],
      [{}, 'logDecisions: false\n', {}],
      [{ LOG_DECISIONS: 'true' }, '', { 'log-decisions': 'false' }],
    ] as const) {
      const f = await start(env, extra, flags);
      assert.equal((await send(f.port, '/a', { headers: { authorization: 'Bearer tok' } })).status, 200);
      assert.deepEqual(f.decisions(), [], JSON.stringify([env, extra, flags]));
      assert.match((await send(f.health, '/metrics')).body, COUNTER('allow', '200', 'verify-token'));
    }
  });

  it('refuses a LOG_DECISIONS that is not a boolean, naming where it came from', async () => {
    const err = await start({ LOG_DECISIONS: 'maybe' }).catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.ok(
      err.problems.some((p) => p.startsWith('LOG_DECISIONS: ')),
      err.problems.join('; '),
    );
  });
});
