/**
 * Property, through the assembled service's forwarder and a real upstream: for any list of request
 * headers — identity header names in any case and `-`/`_` spelling, repeated, comma-joined values,
 * `Connection` naming any of them, unrelated headers — on an authenticated or a skipped path, the
 * upstream receives no identity header but the judge's: on an authenticated request exactly one of
 * each canonical name with the judge's value, on a skipped one none at all, and never a `_` spelling.
 * Extends the in-process header tests of test/forward/hop.test.ts to the wire.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { send } from '../helpers/http-send.js';
import { API } from './kit.js';
import { echoOf, startGuarded, type Guarded } from './stack.js';

const IDENTITY = ['kubeflow-userid', 'kubeflow-groups', 'auth-method'];
const canonical = (name: string): string => name.toLowerCase().replaceAll('_', '-');

/** An identity header name in a random case and spelling. */
const spelled = fc
  .tuple(fc.constantFrom(...IDENTITY), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }))
  .map(([name, upper, under]) => [...name].map((c, i) => (c === '-' && under[i] ? '_' : upper[i] ? c.toUpperCase() : c)).join(''));
const value = fc.oneof(fc.constantFrom('root@example.com', 'admins', 'cookie', 'a, b', 'alice@example.com, root@example.com', ''), fc.stringMatching(/^[ -~]{0,12}$/));
const entry = fc.oneof(
  { arbitrary: fc.tuple(spelled, value), weight: 4 },
  { arbitrary: fc.tuple(fc.constant('connection'), fc.array(fc.oneof(spelled, fc.constantFrom('keep-alive', 'close', 'x-other')), { minLength: 1, maxLength: 3 }).map((a) => a.join(', '))), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('x-other', 'X-Kubeflow-Userid', 'kubeflow-userid-x', 'kubeflowuserid'), value), weight: 1 },
);

describe('property: no forged identity header reaches the upstream', () => {
  let g: Guarded;
  let token: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' });
    token = await g.aliceToken();
  });
  after(async () => {
    agent.destroy();
    await g.stop();
  });

  it('300 generated header lists, authenticated and skipped', async (t) => {
    let forged = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.boolean(), async (entries, authenticated) => {
        const headers: Record<string, string[]> = {};
        for (const [n, v] of entries) (headers[n] ??= []).push(v);
        if (entries.some(([n]) => IDENTITY.includes(canonical(n)))) forged++;
        // Connection must stay a valid hop-by-hop list for Node to send it: keep one.
        if (headers['connection']) headers['connection'] = [headers['connection'].join(', ')];
        const r = await send(g.ingress, authenticated ? '/app/x' : '/public/x', { headers: { ...headers, ...API, ...(authenticated ? { authorization: `Bearer ${token}` } : {}) }, agent });
        assert.equal(r.status, 200);
        const seen = echoOf(r.body).headers;
        for (const name of Object.keys(seen)) {
          if (!IDENTITY.includes(canonical(name))) continue;
          assert.ok(authenticated, `${name} reached the upstream on a skipped path`);
          assert.equal(name, canonical(name), `the spelling ${name} reached the upstream`);
        }
        if (authenticated) {
          assert.deepEqual(seen['kubeflow-userid'], ['alice@example.com']);
          assert.deepEqual(seen['kubeflow-groups'], ['devs']);
          assert.deepEqual(seen['auth-method'], ['header']);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(forged > 200, `only ${forged} lists carried a forged identity header`);
    t.diagnostic(`${forged} of 300 header lists carried forged identity headers; none reached the upstream`);
  });
});
