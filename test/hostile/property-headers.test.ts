/**
 * Property, through the assembled service's forwarder and a real upstream: for any list of request
 * headers — identity header names in any case and `-`/`_` spelling, repeated, comma-joined values,
 * `Connection` naming any of them, unrelated headers — on an authenticated or a skipped path, the
 * upstream receives no identity header but the judge's: on an authenticated request exactly one of
 * each canonical name with the judge's value, on a skipped one none at all, and never a `_` spelling.
 * Extends the in-process header tests of test/forward/engine/hop.test.ts to the wire.
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
const value = fc.oneof(
  fc.constantFrom('root@example.com', 'admins', 'cookie', 'a, b', 'alice@example.com, root@example.com', ''),
  fc.stringMatching(/^[ -~]{0,12}$/),
);
const entry = fc.oneof(
  { arbitrary: fc.tuple(spelled, value), weight: 4 },
  {
    arbitrary: fc.tuple(
      fc.constant('connection'),
      fc.array(fc.oneof(spelled, fc.constantFrom('keep-alive', 'close', 'x-other')), { minLength: 1, maxLength: 3 }).map((a) => a.join(', ')),
    ),
    weight: 1,
  },
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
        const r = await send(g.ingress, authenticated ? '/app/x' : '/public/x', {
          headers: { ...headers, ...API, ...(authenticated ? { authorization: `Bearer ${token}` } : {}) },
          agent,
        });
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

/** Names of the strip list (foreign identity, rewrite, a prefix) in a random case and `-`/`_` spelling. */
const FOREIGN = [
  'x-forwarded-user',
  'x-forwarded-groups',
  'x-auth-request-user',
  'x-auth-request-made-up',
  'remote-user',
  'remote-groups',
  'x-remote-user',
  'x-vouch-user',
  'x-authenticated-user',
  'x-original-url',
  'x-rewrite-url',
  'x-auth-subject',
];
const foreignSpelled = fc
  .tuple(fc.constantFrom(...FOREIGN), fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }), fc.array(fc.boolean(), { minLength: 32, maxLength: 32 }))
  .map(([name, upper, under]) => [...name].map((c, i) => (c === '-' && under[i] ? '_' : upper[i] ? c.toUpperCase() : c)).join(''));
/** A cookie: the judge's (session, login binding) or an app's, in any order. */
const jarEntry = fc.oneof(
  fc.constant('authservice_session=SESSION'),
  fc.constantFrom('oidc_state_csrf=x', 'oidc_state_csrf_k1=y', 'oidc_state_csrf_Zz-9=z'),
  fc.constantFrom('theme=dark', 'lang=en', 'authservice_session2=keep', 'Authservice_session=keep', 'x=oidc_state_csrf'),
);

describe('property: no foreign identity header, rewrite header or judge cookie reaches the upstream', () => {
  let g: Guarded;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' });
  });
  after(async () => {
    agent.destroy();
    await g.stop();
  });

  it('300 generated header lists and cookie jars, on a session, a token or a skipped path', async (t) => {
    const session = await g.session();
    const token = await g.aliceToken();
    let judgeCookies = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(foreignSpelled, value), { minLength: 1, maxLength: 6 }),
        fc.array(jarEntry, { minLength: 0, maxLength: 5 }),
        fc.constantFrom('session', 'token', 'skip'),
        async (entries, jar, how) => {
          const headers: Record<string, string[]> = {};
          for (const [n, v] of entries) (headers[n] ??= []).push(v);
          const cookies = jar.map((c) => c.replace('SESSION', session.slice(session.indexOf('=') + 1)));
          if (how === 'session') cookies.splice(Math.floor(cookies.length / 2), 0, session);
          if (cookies.some((c) => c.startsWith('authservice_session=') || c.startsWith('oidc_state_csrf'))) judgeCookies++;
          const r = await send(g.ingress, how === 'skip' ? '/public/x' : '/app/x', {
            headers: {
              ...headers,
              ...API,
              ...(cookies.length > 0 ? { cookie: cookies.join('; ') } : {}),
              ...(how === 'token' ? { authorization: `Bearer ${token}` } : {}),
            },
            agent,
          });
          assert.equal(r.status, 200, r.body);
          const seen = echoOf(r.body).headers;
          for (const name of Object.keys(seen)) assert.ok(!FOREIGN.includes(canonical(name)), `${name} reached the upstream`);
          const kept = cookies.filter((c) => !c.startsWith('authservice_session=') && !c.startsWith('oidc_state_csrf'));
          assert.deepEqual(seen['cookie'], kept.length === 0 ? undefined : [kept.join('; ')]);
          if (how !== 'skip') assert.deepEqual(seen['kubeflow-userid'], ['alice@example.com']);
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(judgeCookies > 150, `only ${judgeCookies} jars carried a judge cookie`);
    t.diagnostic(`${judgeCookies} of 300 jars carried the judge's cookies; none reached the upstream`);
  });
});
