import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { decisionLog, type DecisionFields } from '../../src/obs/decision-log.js';
import { createLogger } from '../../src/obs/log.js';

function capture(level = 'INFO') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (s: string) => void lines.push(s) });
  return { lines, log };
}

const fields: DecisionFields = {
  requestId: 'rid-1',
  via: 'http',
  method: 'GET',
  host: 'app.example.com',
  path: '/reports',
  outcome: 'allow',
  status: 200,
  authenticator: 'session',
  user: 'alice@example.com',
  reason: undefined,
  ms: 0.125,
};

/** A line without its time, which differs between two lines written a moment apart. */
function timeless(line: string): Record<string, unknown> {
  const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
  assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  return rest;
}

describe('decision log line', () => {
  it('is the line pino would write for the same fields: same keys, order, level, bindings and message', () => {
    const { lines, log } = capture();
    const child = log.child({ worker: 3 });
    decisionLog(child)(fields);
    child.info({ ...fields }, 'decision');
    assert.equal(lines.length, 2);
    const [fast, viaPino] = lines.map(timeless);
    assert.deepEqual(fast, viaPino);
    assert.deepEqual(Object.keys(fast!), Object.keys(viaPino!), 'same key order');
    assert.deepEqual(Object.keys(fast!), [
      'level',
      'service',
      'worker',
      'requestId',
      'via',
      'method',
      'host',
      'path',
      'outcome',
      'status',
      'authenticator',
      'user',
      'ms',
      'msg',
    ]);
    assert.ok(lines[0]!.endsWith('}\n'));
  });

  it('escapes what JSON must escape, and leaves out absent fields', () => {
    const { lines, log } = capture();
    const odd: DecisionFields = {
      ...fields,
      requestId: 'a"b\\c\u0001\n',
      host: 'bücher.example',
      user: 'ünïcödé \u2028 "quoted"',
      authenticator: undefined,
      reason: 'skip:/public',
      ms: Number.NaN,
    };
    decisionLog(log)(odd);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line['requestId'], odd.requestId);
    assert.equal(line['host'], odd.host);
    assert.equal(line['user'], odd.user);
    assert.equal(line['reason'], 'skip:/public');
    assert.equal(line['ms'], null);
    assert.ok(!('authenticator' in line));
    assert.equal(lines[0]!.split('\n').length, 2, 'one line');
  });

  it('follows the logger level', () => {
    const { lines, log } = capture('WARN');
    decisionLog(log)(fields);
    assert.equal(lines.length, 0);
    log.level = 'info';
    decisionLog(log)(fields);
    assert.equal(lines.length, 1);
  });

  it('goes through pino (with its redaction) for a logger not made by createLogger', () => {
    const lines: string[] = [];
    const foreign = pino({ redact: ['user'] }, { write: (s: string) => void lines.push(s) });
    decisionLog(foreign)(fields);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line['msg'], 'decision');
    assert.equal(line['user'], '[Redacted]');
  });
});
