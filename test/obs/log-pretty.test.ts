// Log lines for people: LOG_FORMAT=pretty (or auto on a terminal) prints time, level, message and
// key=value, a decision as one sentence — still redacted — while JSON stays the default elsewhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decisionLog } from '../../src/obs/decision-log.js';
import { batchLines } from '../../src/obs/log-destination.js';
import { prettyLine } from '../../src/obs/log-pretty.js';
import { createLogger, stdoutDestination } from '../../src/obs/log.js';

/** A destination whose lines are kept, flushed on demand. */
function capture(): { out: ReturnType<typeof batchLines>; text: () => string } {
  let text = '';
  const out = batchLines((bytes) => (text += Buffer.from(bytes).toString('utf8')));
  return { out, text: () => (out.flushSync(), text) };
}

const plain = { color: false };

describe('pretty log lines', () => {
  it('a line: time of day, level, message, then its fields as key=value (strings bare unless they need quotes)', () => {
    const line = prettyLine(
      '{"level":"warn","time":"2026-12-07T23:15:19.535Z","service":"oidc-judge","peer":"10.0.0.1","ports":{"http":1},"note":"two words","msg":"hello"}',
      plain,
    );
    assert.equal(line, '23:15:19.535 WARN  hello peer=10.0.0.1 ports={"http":1} note="two words"');
  });

  it('a decision is one sentence: request, outcome and status, reason, user, authenticator, latency', () => {
    const line = prettyLine(
      '{"level":"info","time":"2026-12-07T23:15:29.187Z","service":"oidc-judge","requestId":"r1","via":"ingress","method":"GET","host":"app.example.com","path":"/admin","outcome":"deny","status":403,"authenticator":"session","user":"bob@example.com","reason":"forbidden","ms":0.8,"msg":"decision"}',
      plain,
    );
    assert.equal(line, '23:15:29.187 INFO  GET app.example.com/admin → deny 403 forbidden · bob@example.com · session 0.8 ms');
    assert.match(
      prettyLine('{"level":"info","time":"2026-12-07T23:15:29.187Z","msg":"decision","method":"GET","host":"h","path":"/","outcome":"allow","status":200}', {
        color: true,
      }),
      /\u001b\[32mallow 200/,
    );
  });

  it('what is no JSON object passes as it is', () => {
    assert.equal(prettyLine('not json', plain), 'not json');
    assert.equal(prettyLine('[1,2]', plain), '[1,2]');
  });

  it('through the logger: redaction still applies, and the decision log writes pretty lines too', () => {
    const { out, text } = capture();
    const log = createLogger('INFO', stdoutDestination('pretty', { isTTY: false, noColor: true }, out));
    log.info({ headers: { cookie: 'authservice_session=abc' }, clientSecret: 's3cret' }, 'with secrets');
    decisionLog(log)({
      requestId: 'r',
      via: 'grpc',
      method: 'GET',
      host: 'h',
      path: '/p',
      outcome: 'allow',
      status: 200,
      authenticator: 'session',
      user: 'u',
      reason: undefined,
      ms: 1,
    });
    const lines = text().trimEnd().split('\n');
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}with secrets headers=\{"cookie":"\[redacted\]"\} clientSecret=\[redacted\]$/);
    assert.match(lines[1]!, /INFO {2}GET h\/p → allow 200 u · session 1 ms$/);
    assert.ok(!text().includes('abc') && !text().includes('s3cret'));
  });

  it('which format: pretty when asked, or auto on a terminal (coloured unless NO_COLOR); JSON otherwise', () => {
    const cases: [string, boolean, boolean, RegExp][] = [
      ['auto', false, false, /^\{"level":"info"/],
      ['json', true, false, /^\{"level":"info"/],
      ['auto', true, false, /^\u001b\[90m\d\d:/],
      ['auto', true, true, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}x$/],
      ['pretty', false, false, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}x$/],
    ];
    for (const [format, isTTY, noColor, expected] of cases) {
      const { out, text } = capture();
      createLogger('INFO', stdoutDestination(format, { isTTY, noColor }, out)).info('x');
      assert.match(text().trimEnd(), expected, `${format} isTTY=${isTTY} noColor=${noColor}`);
    }
  });
});
