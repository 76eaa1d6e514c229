/**
 * Every forwarder mode applies the judge's one strip list (src/judge/strip.ts via engine/hop.ts): identity
 * headers of the tools people migrate from, URL-rewrite headers and the judge's own cookies never
 * reach a verify or egress upstream, in any spelling; a trusted proxy's forwarding facts still do.
 * (The kube mode: kube-proxy/mode.test.ts; the metadata gateway forwards no client request.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../helpers/http-send.js';
import type { Echo } from '../helpers/upstream.js';
import { send as egressSend, startEgress, startTarget, type Target } from './egress/kit.js';
import { bearer, claimsAt, sign, startVerify } from './verify/harness.js';
import { assertClean, FOREIGN } from './strip-kit.js';

const SECRET = 'k'.repeat(40);
const HMAC = { keys: { source: 'hmac', secret: SECRET, encoding: 'raw' }, audience: 'https://api.example' };

describe('forwarder modes apply the strip list', () => {
  let target: Target;
  before(async () => {
    target = await startTarget();
  });
  after(() => target.close());

  it('verify: the upstream never sees foreign identity, rewrite headers or the judge’s cookies', async () => {
    const v = await startVerify(HMAC);
    const t = await sign(claimsAt(Date.now()), new TextEncoder().encode(SECRET), { alg: 'HS256' });
    const r = await send(v.port, '/x', { headers: { ...bearer(t), ...FOREIGN, 'x-forwarded-proto': 'https' } });
    assert.equal(r.status, 200);
    assertClean((JSON.parse(r.body) as Echo).headers, 'verify');
  });

  it('egress: neither', async () => {
    const e = await startEgress({ upstream: target.origin, token: { source: 'static', token: 's' } });
    try {
      const seen = target.seen.length;
      assert.equal((await egressSend(e.proxy.port, '/x', { headers: FOREIGN })).status, 200);
      assertClean(target.seen[seen]!.headers, 'egress');
      assert.deepEqual(target.seen[seen]!.authorization, ['Bearer s']);
    } finally {
      await e.stop();
    }
  });
});
