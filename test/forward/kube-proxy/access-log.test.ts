import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { createAccessLog, failureLine, formatExtras, peerIp, successLine, xffWithout } from '../../../src/forward/kube-proxy/access-log.js';
import { capturingLogger } from '../../helpers/bearer.js';

describe('kube access log', () => {
  it("cleans X-Forwarded-For of the peer's own address (Tremolo's table)", () => {
    assert.equal(xffWithout(undefined, '10.0.0.1'), '');
    assert.equal(xffWithout([''], '10.0.0.1'), '');
    assert.equal(xffWithout(['10.0.0.1'], '10.0.0.1'), '');
    assert.equal(xffWithout(['192.0.2.1'], '10.0.0.1'), '192.0.2.1');
    assert.equal(xffWithout(['192.0.2.1, 10.0.0.1'], '10.0.0.1'), '192.0.2.1');
    assert.equal(xffWithout(['10.0.0.1,192.0.2.1', '198.51.100.2'], '10.0.0.1'), '192.0.2.1, 198.51.100.2');
  });

  it('keeps IPv6 peers whole and unwraps IPv4-mapped ones', () => {
    assert.equal(peerIp('::1'), '::1');
    assert.equal(peerIp('2001:db8::7'), '2001:db8::7');
    assert.equal(peerIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(
      failureLine('T', { peer: '2001:db8::7', xff: ['2001:db8::9, 2001:db8::7'], uri: '/api' }),
      '[T] AuFail src:[2001:db8::7 / 2001:db8::9] URI:/api',
    );
  });

  it('writes the success line with inbound and outbound identities', () => {
    const f = { peer: '::ffff:127.0.0.1', xff: undefined, uri: '/api/v1/pods?limit=1' };
    const inbound = { username: 'alice', groups: ['dev', 'ops'], extra: {} };
    const outbound = { username: 'bob', uid: 'u-1', groups: ['qa', 'system:authenticated'], extra: { b: ['2'], a: ['1', '3'] } };
    assert.equal(formatExtras(outbound.extra), 'a=1|3 b=2');
    assert.equal(successLine('T', f, inbound), '[T] AuSuccess src:[127.0.0.1 / ] URI:/api/v1/pods?limit=1 inbound:[alice / dev|ops / ]');
    assert.equal(
      successLine('T', f, inbound, outbound),
      '[T] AuSuccess src:[127.0.0.1 / ] URI:/api/v1/pods?limit=1 inbound:[alice / dev|ops / ] outbound:[bob / qa|system:authenticated / u-1 / a=1|3 b=2]',
    );
  });

  it('logs through pino with an ISO timestamp from the clock, or not at all when off', () => {
    const { log, lines } = capturingLogger('INFO');
    createAccessLog(log, new ManualClock(Date.UTC(2026, 4, 1, 12)), true).failure({ peer: '10.0.0.1', xff: undefined, uri: '/x' }, 401, 'no bearer token');
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec['msg'], '[2026-05-01T12:00:00.000Z] AuFail src:[10.0.0.1 / ] URI:/x');
    assert.equal(rec['status'], 401);
    createAccessLog(log, new ManualClock(), false).failure({ peer: '10.0.0.1', xff: undefined, uri: '/x' }, 401, 'x');
    assert.equal(lines.length, 1);
  });
});
