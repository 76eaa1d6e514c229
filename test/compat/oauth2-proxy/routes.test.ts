/**
 * oauth2-proxy's /oauth2/start, sign_out and userinfo as route handlers: which paths and methods
 * they take, sign_out's target (rd, then X-Auth-Request-Redirect, validated like every redirect,
 * else "/"), the cookie cleared and every session in it ended, 503 when the store fails (never a
 * silent "signed out"), userinfo's JSON from the session and its 401, and no userinfo on the judge
 * port. The sign-in itself runs end to end in test/e2e/oauth2-proxy.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oauth2ProxyRoutes, userinfoBody } from '../../../src/compat/oauth2-proxy/routes.js';
import { deny, type Decision, type Identity } from '../../../src/judge/decision.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { testConfig } from '../../helpers/app.js';

const config = testConfig('https://idp.example.com', { env: { AUTHSERVICE_URL_PREFIX: '/oauth2/', SESSION_COOKIE_NAME: '_oauth2_proxy' } });
const ID = 'a'.repeat(43);
const alice: Identity = {
  user: 'alice@example.com',
  groups: ['admins'],
  claims: { sub: 'u-1', email: 'alice@example.com', preferred_username: 'alice' },
  method: 'cookie',
  authenticator: 'session',
};

const req = (path: string, headers: Record<string, string> = {}, method = 'GET'): JudgeRequest => ({
  method,
  scheme: 'https',
  host: 'kf.example.com',
  path,
  headers,
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle: 'redirect',
  via: 'web',
});
const target = (r: JudgeRequest) => ({ method: r.method, hostname: r.host, path: r.path.split('?')[0]!, ambiguous: false });

function routes(opts: { userinfo: boolean; session?: Identity | 'none' | 'unavailable'; endFails?: boolean }) {
  const ended: string[] = [];
  const started: string[] = [];
  const r = oauth2ProxyRoutes(
    {
      config,
      policy: { allowedHosts: ['dex.example.com'] },
      startAt: async (q) => (started.push(q.path), deny(302, 'login', '', [['location', 'https://dex.example.com/auth']])),
      endSession: async (id) => {
        if (opts.endFails) throw new Error('store down');
        ended.push(id);
        return undefined;
      },
      session: async () => {
        const s = opts.session ?? 'none';
        return typeof s === 'string' ? { kind: s } : { kind: 'ok' as const, identity: s };
      },
    },
    { userinfo: opts.userinfo },
  );
  const call = async (q: JudgeRequest): Promise<Decision | undefined> => r(q, target(q));
  return { call, ended, started };
}
const header = (d: Decision | undefined, name: string) => (d?.kind === 'deny' ? d.headers.filter(([n]) => n === name).map(([, v]) => v) : []);

describe('oauth2-proxy routes', () => {
  it('start: any method, rd handed to the login start; other paths are not theirs', async () => {
    const r = routes({ userinfo: true });
    assert.equal((await r.call(req('/oauth2/start?rd=%2Fpipeline'))) && r.started[0], '/oauth2/start?rd=%2Fpipeline');
    assert.ok(await r.call(req('/oauth2/start', {}, 'POST')));
    assert.equal(await r.call(req('/oauth2/sign_in')), undefined);
    assert.equal(await r.call(req('/oauth2/startx')), undefined);
    assert.equal(await r.call(req('/app/oauth2/start')), undefined);
  });

  it('sign_out: ends every session in the cookie, clears it, 302 to rd / X-Auth-Request-Redirect / "/"', async () => {
    const r = routes({ userinfo: true });
    const d = await r.call(req('/oauth2/sign_out?rd=%2Fdone', { cookie: `_oauth2_proxy=${ID}; other=1` }));
    assert.equal(d?.kind === 'deny' && d.status, 302);
    assert.deepEqual(header(d, 'location'), ['https://kf.example.com/done']);
    assert.match(header(d, 'set-cookie')[0]!, /^_oauth2_proxy=; .*Max-Age=0/);
    assert.deepEqual(r.ended, [ID]);
    const viaHeader = await r.call(req('/oauth2/sign_out', { 'x-auth-request-redirect': 'https://dex.example.com/logout' }, 'POST'));
    assert.deepEqual(header(viaHeader, 'location'), ['https://dex.example.com/logout']);
    assert.deepEqual(header(await r.call(req('/oauth2/sign_out')), 'location'), ['/']);
  });

  it('sign_out: an rd to a host not allowed (or a scheme-relative one) goes to "/" instead', async () => {
    const r = routes({ userinfo: true });
    for (const rd of ['https://evil.example/', '//evil.example/x', 'javascript:alert(1)']) {
      assert.deepEqual(header(await r.call(req(`/oauth2/sign_out?rd=${encodeURIComponent(rd)}`)), 'location'), ['/'], rd);
    }
  });

  it('sign_out: the store failing is a 503, and the cookie is kept', async () => {
    const d = await routes({ userinfo: true, endFails: true }).call(req('/oauth2/sign_out', { cookie: `_oauth2_proxy=${ID}` }));
    assert.equal(d?.kind === 'deny' && d.status, 503);
    assert.deepEqual(header(d, 'set-cookie'), []);
  });

  it("userinfo: oauth2-proxy's JSON of the session, no-store; 401 without one; 503 when it cannot tell", async () => {
    const ok = await routes({ userinfo: true, session: alice }).call(req('/oauth2/userinfo'));
    assert.equal(ok?.kind === 'deny' && ok.status, 200);
    assert.deepEqual(JSON.parse(ok?.kind === 'deny' ? ok.body : '{}'), {
      user: 'u-1',
      email: 'alice@example.com',
      groups: ['admins'],
      preferredUsername: 'alice',
    });
    assert.deepEqual(header(ok, 'cache-control'), ['no-store']);
    const none = await routes({ userinfo: true }).call(req('/oauth2/userinfo'));
    assert.equal(none?.kind === 'deny' && none.status, 401);
    const down = await routes({ userinfo: true, session: 'unavailable' }).call(req('/oauth2/userinfo'));
    assert.equal(down?.kind === 'deny' && down.status, 503);
    assert.equal(await routes({ userinfo: true, session: alice }).call(req('/oauth2/userinfo', {}, 'POST')), undefined);
  });

  it('userinfo is not served where a 200 would read as "allow" (the judge port)', async () => {
    assert.equal(await routes({ userinfo: false, session: alice }).call(req('/oauth2/userinfo')), undefined);
  });

  it('userinfo leaves out what the session lacks, as oauth2-proxy does (email stays, empty)', () => {
    assert.deepEqual(JSON.parse(userinfoBody({ ...alice, groups: [], claims: { sub: 'u-2' } })), { user: 'u-2', email: '' });
  });
});
