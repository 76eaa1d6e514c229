/**
 * Forged "sign in with another account" (`POST <prefix>/switch-account?rd=`), the 403 page's
 * protected logout: cross-site and same-site posts (another site, a sibling subdomain, another port
 * or scheme, `Origin: null`, no origin at all, a GET) through the built-in forwarder, the HTTP judge
 * (Envoy `http_service`) and gRPC ext_authz must neither end the session nor start a login; and a
 * hostile `rd` must never become where the browser lands after the new login.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JudgeClient } from '../helpers/app.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { send } from '../helpers/http-send.js';
import { ALICE, CALLBACK_PATH, SESSION_COOKIE, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { sessionRecord } from '../helpers/seed.js';

const SWITCH = '/authservice/switch-account?rd=%2Fadmin';

describe('hostile: forged switch-account posts and return targets', () => {
  let stack: LoginStack;
  let grpc: JudgeClient;
  let host: string;

  before(async () => {
    stack = await startLoginStack();
    grpc = new JudgeClient(stack.app.ports.grpc);
    host = `localhost:${stack.port}`;
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
  });

  const bobSession = (): Promise<string> => stack.app.sessions.create(sessionRecord('bob@example.com', { groups: ['guests'], issuer: stack.provider.issuer }));

  it('cross-site, same-site and origin-less posts, and a GET, through the forwarder, the HTTP judge and gRPC: refused, the session stays', async () => {
    const forged: Record<string, Record<string, string>> = {
      'another site': { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      'cross-site, our Origin forged': { 'sec-fetch-site': 'cross-site', origin: stack.origin },
      'a sibling subdomain': { 'sec-fetch-site': 'same-site', origin: `http://evil.localhost:${stack.port}` },
      'another port': { origin: `http://localhost:${stack.port + 1}` },
      'another scheme': { origin: `https://localhost:${stack.port}` },
      'Origin: null without Sec-Fetch-Site': { origin: 'null' },
      'no Origin, no Sec-Fetch-Site': {},
      'a typed-in request': { 'sec-fetch-site': 'none' },
    };
    const doors: Record<string, (headers: Record<string, string>) => Promise<{ status: number | undefined; setCookie: string }>> = {
      forwarder: async (h) => {
        const r = await stack.send(SWITCH, { method: 'POST', headers: h });
        return { status: r.status, setCookie: String(r.headers['set-cookie'] ?? '') };
      },
      'HTTP judge': async (h) => {
        const r = await send(stack.app.ports.http, SWITCH, { method: 'POST', headers: { host, ...h } });
        return { status: r.status, setCookie: String(r.headers['set-cookie'] ?? '') };
      },
      gRPC: async (h) => {
        const r = await grpc.check(SWITCH, h, { method: 'POST', host, scheme: 'http' });
        const setCookie = (r.denied_response?.headers ?? [])
          .filter((o) => o.header.key === 'set-cookie')
          .map((o) => o.header.value)
          .join(', ');
        return { status: r.status.code === 0 ? 200 : r.denied_response?.status?.code, setCookie };
      },
    };
    let refused = 0;
    for (const [door, post] of Object.entries(doors)) {
      for (const [what, headers] of Object.entries(forged)) {
        const id = await bobSession();
        const r = await post({ ...headers, cookie: `${SESSION_COOKIE}=${id}`, accept: 'text/html' });
        assert.equal(r.status, 403, `${door}, ${what}`);
        assert.doesNotMatch(r.setCookie, /authservice_session=;|oidc_state_csrf/, `${door}, ${what}: no cookie touched, no login started`);
        assert.ok(await stack.app.sessions.load(id, { fresh: true }), `${door}, ${what}: the session stays`);
        refused++;
      }
      const id = await bobSession();
      const asGet = await send(stack.port, SWITCH, {
        headers: { host, cookie: `${SESSION_COOKIE}=${id}`, origin: stack.origin, 'sec-fetch-site': 'same-origin' },
      });
      assert.notEqual(asGet.status, 302, `${door}: a GET starts nothing`);
      assert.ok(await stack.app.sessions.load(id, { fresh: true }), `${door}: a GET ends nothing`);
    }
    assert.equal(refused, 24);
  });

  it('a hostile rd: after signing in as alice the browser lands on the site root; a safe one is kept', async () => {
    const cases: [string, string][] = [
      ['//evil.example/x', '/'],
      ['/\\evil.example', '/'],
      ['/%2f%2fevil.example', '/'],
      ['https://evil.example/', '/'],
      [`${stack.origin}@evil.example/`, '/'],
      [`https://${host}.evil.example/`, '/'],
      ['javascript:alert(document.domain)', '/'],
      ['/%0d%0aLocation:%20https://evil.example', '/'],
      ['/admin?tab=users&x=%2F', '/admin?tab=users&x=%2F'],
    ];
    for (const [rd, landing] of cases) {
      const b = new HttpBrowser();
      const id = await bobSession();
      b.plant('localhost', SESSION_COOKIE, id);
      const start = await b.request(stack.url(`/authservice/switch-account?rd=${encodeURIComponent(rd)}`), {
        method: 'POST',
        headers: { origin: stack.origin, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(start.status, 302, rd);
      assert.equal(start.location?.searchParams.get('prompt'), 'login', 'the development provider lists no prompt_values_supported');
      assert.equal(await stack.app.sessions.load(id, { fresh: true }), undefined, `${rd}: bob was signed out`);
      assert.equal(b.cookie('localhost', SESSION_COOKIE), undefined, `${rd}: the forwarder cleared the dead session cookie`);
      const callback = await b.signInAt(start.location!, ALICE, CALLBACK_PATH);
      const done = await b.request(callback);
      assert.equal(done.status, 302, rd);
      assert.equal(done.headers['location'], `${stack.origin}${landing}`, rd);
    }
  });
});
