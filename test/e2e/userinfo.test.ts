/**
 * `GET <prefix>/userinfo` for frontends, through the judge's own routes (here the built-in
 * forwarder) and the web server (with and without the prefix): the signed-in session's identity as
 * JSON, never a token, `Cache-Control: no-store`, no CORS; 401 without a session; 403 for another
 * site's page. And, with the same real login: oauth2-proxy's `X-Auth-Request-*` headers and the
 * session's access token reach the upstream (HEADER_PRESET, FORWARD_ACCESS_TOKEN_HEADER).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JudgeClient } from '../helpers/app.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { send } from '../helpers/http-send.js';
import { ALICE, API, CALLBACK_PATH, SESSION_COOKIE, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

describe('GET <prefix>/userinfo and the oauth2-proxy headers', () => {
  let stack: LoginStack;
  let cookie: string;
  let id: string;

  before(async () => {
    stack = await startLoginStack({
      env: { HEADER_PRESET: 'oauth2-proxy', FORWARD_ACCESS_TOKEN_HEADER: 'X-Auth-Request-Access-Token', USERID_PREFIX: 'oidc:' },
    });
    const b = new HttpBrowser();
    const start = await b.request(stack.url('/authservice/login?rd=/'));
    await b.request(await b.signInAt(start.location!, ALICE, CALLBACK_PATH));
    id = b.cookie('localhost', SESSION_COOKIE)!;
    cookie = `${SESSION_COOKIE}=${id}`;
  });
  after(() => stack?.stop());

  const fromPage = { ...API, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };

  it('answers the session’s identity as JSON, without tokens, no-store, no CORS — at the judge and at the web server', async () => {
    const session = await stack.app.sessions.load(id, { fresh: true });
    const answers = [
      await stack.send('/authservice/userinfo', { headers: { ...fromPage, cookie } }),
      await send(stack.app.ports.web, '/authservice/userinfo', { headers: { ...fromPage, cookie } }),
      await send(stack.app.ports.web, '/userinfo', { headers: { ...API, cookie } }),
    ];
    for (const res of answers) {
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.ok(!Object.keys(res.headers).some((h) => h.startsWith('access-control-')), 'no CORS header');
      const body = JSON.parse(res.body) as Record<string, unknown>;
      assert.deepEqual(body, {
        user: 'oidc:alice@example.com',
        email: 'alice@example.com',
        groups: ALICE.groups,
        preferred_username: ALICE.preferredUsername,
        auth_method: 'cookie',
        expires_at: new Date(session!.expiresAt).toISOString(),
      });
      for (const secret of [session!.idToken, session!.accessToken, session!.refreshToken, id]) if (secret) assert.ok(!res.body.includes(secret));
    }
  });

  it('through the gRPC door the answer is Envoy’s denied_response with status 200; the HTTP door cannot carry a 200 (403, never an allow)', async () => {
    const grpc = new JudgeClient(stack.app.ports.grpc);
    try {
      const checked = await grpc.check('/authservice/userinfo', { ...fromPage, cookie }, { host: `localhost:${stack.port}`, scheme: 'http' });
      assert.equal(checked.denied_response?.status?.code, 200);
      assert.equal((JSON.parse(checked.denied_response!.body) as { email: string }).email, 'alice@example.com');
    } finally {
      grpc.close();
    }
    const door = await send(stack.app.ports.http, '/authservice/userinfo', { headers: { host: `localhost:${stack.port}`, ...fromPage, cookie } });
    assert.equal(door.status, 403);
  });

  it('401 without a session; 403 for another site’s page (Sec-Fetch-Site, foreign Origin)', async () => {
    const none = await stack.send('/authservice/userinfo', { headers: fromPage });
    assert.equal(none.status, 401);
    assert.equal(none.headers['cache-control'], 'no-store');
    const crossSite = await stack.send('/authservice/userinfo', { headers: { ...fromPage, cookie, 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.status, 403);
    const sameSite = await stack.send('/authservice/userinfo', { headers: { ...fromPage, cookie, 'sec-fetch-site': 'same-site' } });
    assert.equal(sameSite.status, 403);
    const foreign = await send(stack.app.ports.web, '/userinfo', { headers: { ...API, cookie, origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.ok(!foreign.body.includes('alice'));
  });

  it('the upstream gets X-Auth-Request-User/Email/Groups/Preferred-Username and the raw access token', async () => {
    const session = await stack.app.sessions.load(id, { fresh: true });
    const res = await stack.send('/api/me', { headers: { ...API, cookie, 'x-auth-request-user': 'admin' } });
    assert.equal(res.status, 200, res.body);
    const h = (JSON.parse(res.body) as { headers: Record<string, string[]> }).headers;
    assert.deepEqual(h['x-auth-request-user'], ['oidc:alice@example.com']);
    assert.deepEqual(h['x-auth-request-email'], ['alice@example.com']);
    assert.deepEqual(h['x-auth-request-groups'], [ALICE.groups.join(',')]);
    assert.deepEqual(h['x-auth-request-preferred-username'], [ALICE.preferredUsername]);
    assert.deepEqual(h['x-auth-request-access-token'], [session!.accessToken]);
  });
});
