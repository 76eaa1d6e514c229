import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Decision } from '../../../src/judge/decision.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createResponses } from '../../../src/judge/responses.js';
import { createLogger } from '../../../src/obs/log.js';
import { createMetrics } from '../../../src/obs/metrics.js';
import { observe } from '../../../src/judge/wrap/observe.js';
import { StoreUnavailableError } from '../../../src/sessions/store.js';

const req: JudgeRequest = {
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path: '/reports?access_token=SECRETTOKEN',
  headers: { authorization: 'Bearer SECRETBEARER' },
  peer: '127.0.0.1',
  requestId: 'req-42',
  denyStyle: 'redirect',
  via: 'grpc',
};
const identity = { user: 'alice', groups: [], claims: {}, method: 'header' as const, authenticator: 'access_token' };

describe('decision log and metrics', () => {
  it('logs one line per check with request id, authenticator, outcome and latency, and counts it', async () => {
    const lines: string[] = [];
    const log = createLogger('INFO', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const metrics = createMetrics(false);
    const allow: Decision = { kind: 'allow', upstreamHeaders: [], removeHeaders: [], responseHeaders: [], reason: 'authenticated', identity };
    const deny: Decision = { kind: 'deny', status: 401, headers: [], body: '', reason: 'invalid-token', authenticator: 'access_token' };
    let next: Decision = allow;
    const judge = observe(async () => next, log, metrics, true);
    await judge(req);
    next = deny;
    await judge(req);
    assert.equal(lines.length, 2);
    const [a, d] = lines.map((l) => JSON.parse(l));
    assert.equal(a.msg, 'decision');
    assert.equal(a.requestId, 'req-42');
    assert.equal(a.authenticator, 'access_token');
    assert.equal(a.outcome, 'allow');
    assert.equal(a.user, 'alice');
    assert.equal(a.path, '/reports', 'query (which may carry tokens) is never logged');
    assert.equal(typeof a.ms, 'number');
    assert.equal(d.outcome, 'deny');
    assert.equal(d.status, 401);
    assert.equal(d.reason, 'invalid-token');
    assert.ok(!lines.join('').includes('SECRET'));
    const text = await metrics.registry.metrics();
    assert.match(text, /oidc_judge_decisions_total\{outcome="allow",status="200",authenticator="access_token",via="grpc"\} 1/);
    assert.match(text, /oidc_judge_decisions_total\{outcome="deny",status="401",authenticator="access_token",via="grpc"\} 1/);
    assert.match(text, /oidc_judge_check_duration_seconds_count\{via="grpc"\} 2/);
  });

  it('logs a deny with a detail as `<code>:<detail>`, the code from the catalogue', async () => {
    const lines: string[] = [];
    const log = createLogger('INFO', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const down = createResponses().unavailable(req, 'session: session store: StoreUnavailableError');
    await observe(async () => down, log, createMetrics(false), true)(req);
    const line = JSON.parse(lines[0]!);
    assert.equal(line.reason, 'unavailable:session: session store: StoreUnavailableError');
    assert.equal(line.outcome, 'unavailable');
  });

  it("logs a failed check with the error's catalogue code", async () => {
    const lines: string[] = [];
    const log = createLogger('INFO', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const judge = observe(async () => Promise.reject(new StoreUnavailableError('redis unavailable: down')), log, createMetrics(false), true);
    await assert.rejects(judge(req), StoreUnavailableError);
    const line = JSON.parse(lines[0]!);
    assert.equal(line.msg, 'check failed');
    assert.equal(line.err.name, 'StoreUnavailableError');
    assert.equal(line.err.code, 'store-unavailable');
  });

  it('stays quiet with LOG_DECISIONS=false but still counts', async () => {
    const lines: string[] = [];
    const log = createLogger('INFO', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const metrics = createMetrics(false);
    const skip: Decision = { kind: 'allow', upstreamHeaders: [], removeHeaders: [], responseHeaders: [], reason: 'skip', skipRule: '/public' };
    await observe(async () => skip, log, metrics, false)(req);
    assert.equal(lines.length, 0);
    assert.match(await metrics.registry.metrics(), /outcome="skip"/);
  });
});
