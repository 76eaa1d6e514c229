import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDeadline } from '../../../src/judge/wrap/deadline.js';
import type { Decision } from '../../../src/judge/decision.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createResponses } from '../../../src/judge/responses.js';

const req = { method: 'GET', scheme: 'http', host: 'h', path: '/', headers: {}, peer: '', requestId: 'r', denyStyle: 'redirect', via: 'grpc' } as JudgeRequest;
const allow: Decision = { kind: 'allow', upstreamHeaders: [], removeHeaders: [], responseHeaders: [], reason: 'authenticated' };

describe('check deadline', () => {
  it('answers 503 when the judge does not answer in time, never an allow', async () => {
    let release: (d: Decision) => void = () => {};
    const slow = () => new Promise<Decision>((r) => (release = r));
    const d = await withDeadline(slow, 1, createResponses())(req);
    assert.equal(d.kind === 'deny' && d.status, 503);
    release(allow); // late answers are dropped
  });

  it('passes answers and errors through, and 0 turns it off', async () => {
    const fast = async () => allow;
    assert.equal((await withDeadline(fast, 1000, createResponses())(req)).kind, 'allow');
    await assert.rejects(withDeadline(async () => Promise.reject(new Error('boom')), 1000, createResponses())(req), /boom/);
    assert.equal(withDeadline(fast, 0, createResponses()), fast);
  });
});

describe('check deadline: one timer for all checks', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('answers 503 for each check still pending at its own deadline, whatever settles in between', async () => {
    const releases: ((d: Decision) => void)[] = [];
    const judge = withDeadline(
      (r) => (r.requestId.startsWith('fast') ? Promise.resolve(allow) : new Promise<Decision>((res) => releases.push(res))),
      5,
      createResponses(),
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => judge({ ...req, requestId: i % 3 === 0 ? `slow${i}` : `fast${i}` }).then((d) => [i, d] as const)),
    );
    for (const [i, d] of answers) {
      if (i % 3 === 0) assert.equal(d.kind === 'deny' && d.status, 503, `check ${i} timed out`);
      else assert.equal(d.kind, 'allow', `check ${i} answered`);
    }
    for (const release of releases) release(allow); // too late: dropped
  });

  it('checks that settle in time leave no timer holding the process', async () => {
    const before = timers();
    const judge = withDeadline(async () => allow, 60_000, createResponses());
    for (let i = 0; i < 100; i++) assert.equal((await judge(req)).kind, 'allow');
    assert.equal(timers(), before);
  });

  it('a judge that throws synchronously rejects at once and is forgotten', async () => {
    const before = timers();
    const judge = withDeadline(
      () => {
        throw new Error('sync boom');
      },
      60_000,
      createResponses(),
    );
    await assert.rejects(judge(req), /sync boom/);
    assert.equal(timers(), before);
  });
});
