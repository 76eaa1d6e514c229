import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withDeadline } from '../../src/judge/deadline.js';
import type { Decision } from '../../src/judge/decision.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses } from '../../src/judge/responses.js';

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
