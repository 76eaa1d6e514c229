/**
 * Open-redirect attempts against the assembled service: the `rd` of `<prefix>/login?rd=` and the
 * original URL of a navigation, in every shape browsers have been tricked with — protocol-relative,
 * backslashes, percent-encoded and double-encoded separators, userinfo, look-alike and IDN hosts,
 * other schemes, CR/LF, over-long; and hostile AFTER_LOGOUT_URL settings. What is checked is where
 * the browser really goes: the login attempt's stored return URL (read back from the store), the
 * `Location` after the callback for complete logins, and the `Location` of the logout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.js';
import { request, startJudge, testConfig } from '../helpers/app.js';
import { attemptFromSetCookie } from '../helpers/attempt.js';
import { HttpBrowser, NAVIGATION } from '../helpers/http-browser.js';
import { send } from '../helpers/http-send.js';
import { ALICE, CALLBACK_PATH, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { seedSessions } from '../helpers/seed.js';

/** Targets that must never be the return URL (`%ORIGIN%` is the service's own origin). */
const HOSTILE = [
  '//evil.example/x',
  '///evil.example',
  '////evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  '\\/evil.example',
  '/%09/evil.example',
  '%2f%2fevil.example',
  '/%2f%2fevil.example',
  '/%2F%2Fevil.example',
  '/%5cevil.example',
  '/%5C%5Cevil.example',
  '/%252f%252fevil.example',
  '/.%2e/%2f%2fevil.example',
  'https:%2f%2fevil.example',
  'https:evil.example',
  'https:/evil.example',
  'https:\\\\evil.example',
  'http://evil.example',
  'https://evil.example/',
  'HTTPS://EVIL.EXAMPLE',
  '%ORIGIN%@evil.example/',
  'http://evil.example@%HOST%/',
  'https://%HOST%.evil.example/',
  'https://evil%HOST%/',
  'https://%HOST%%2eevil.example/',
  'https://xn--80ak6aa92e.com/',
  'https://evil.example\\@%HOST%/',
  'https://evil.example#@%HOST%/',
  'https://evil.example?@%HOST%/',
  'javascript:alert(document.domain)',
  'JaVaScRiPt:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  '/%0d%0aSet-Cookie:%20x=y',
  '/\r\nLocation: https://evil.example',
  '/%00//evil.example',
  `/${'a'.repeat(5000)}`,
];

describe('open redirects after login', () => {
  let stack: LoginStack;
  let origin: string;
  before(async () => {
    stack = await startLoginStack({ env: { ALLOWED_REDIRECT_HOSTS: 'docs.example.com' } });
    origin = stack.origin;
  });
  after(() => stack.stop());
  const fill = (t: string): string => t.replaceAll('%ORIGIN%', origin).replaceAll('%HOST%', new URL(origin).host);

  /** The remembered return URL of the login started by this request (302 to the provider expected). */
  async function returnTo(path: string, headers: Record<string, string> = {}): Promise<string> {
    const r = await send(stack.port, path, { headers: { host: new URL(origin).host, ...NAVIGATION, ...headers } });
    assert.equal(r.status, 302, `${path.slice(0, 80)}: ${r.status}`);
    const location = String(r.headers['location']);
    assert.doesNotMatch(location, /[\r\n]/);
    const saved = await attemptFromSetCookie(stack.app.browser, r.headers['set-cookie']);
    assert.equal(saved.state, new URL(location).searchParams.get('state'));
    return saved.returnTo;
  }

  it(`GET <prefix>/login?rd=… with ${HOSTILE.length} hostile targets (encoded and raw) returns to the site root`, async () => {
    for (const raw of HOSTILE) {
      const t = fill(raw);
      assert.equal(await returnTo(`/authservice/login?rd=${encodeURIComponent(t)}`), `${origin}/`, t.slice(0, 80));
      if (!/\s/.test(t) && t.length < 4000)
        assert.equal(await returnTo(`/authservice/login?rd=${t.replaceAll('%', '%25').replaceAll('#', '%23')}`), `${origin}/`, `raw ${t.slice(0, 80)}`);
    }
  });

  it('safe targets are kept (re-serialized): a path with its query, our origin, an allowed host, a line separator encoded', async () => {
    assert.equal(await returnTo(`/authservice/login?rd=${encodeURIComponent('/x\u2028y')}`), `${origin}/x%E2%80%A8y`);
    assert.equal(await returnTo(`/authservice/login?rd=${encodeURIComponent('/app/x?y=1&z=%2F')}`), `${origin}/app/x?y=1&z=%2F`);
    assert.equal(await returnTo(`/authservice/login?rd=${origin}/deep/page?q=1`), `${origin}/deep/page?q=1`);
    assert.equal(await returnTo(`/authservice/login?rd=${encodeURIComponent('http://docs.example.com/guide')}`), 'http://docs.example.com/guide');
  });

  it('a navigation whose own URL looks like another origin returns to a path of ours, or is refused', async () => {
    // The forwarder judges, and so remembers, the canonical path it would send (slashes merged):
    // `//evil.example/x` is our own `/evil.example/x`.
    for (const [path, back] of [
      ['//evil.example/x', '/evil.example/x'],
      ['/x/..//evil.example', '/evil.example'],
    ] as const) {
      assert.equal(await returnTo(path), `${origin}${back}`, path);
    }
    // Paths it cannot send unambiguously are refused before any login starts.
    for (const path of ['/\\evil.example', '/%2f%2fevil.example', '/%5cevil.example', '/%0d%0aLocation:%20https://evil.example']) {
      assert.equal((await send(stack.port, path, { headers: { host: new URL(origin).host, ...NAVIGATION } })).status, 400, path);
    }
  });

  it('complete logins land where the checks said: the root for hostile targets, the page for a safe one', async () => {
    for (const [rd, landing] of [
      ['//evil.example/x', '/'],
      ['/\\evil.example', '/'],
      ['javascript:alert(1)', '/'],
      ['/app/ok?x=1', '/app/ok?x=1'],
    ] as const) {
      const b = new HttpBrowser();
      const start = await b.request(stack.url(`/authservice/login?rd=${encodeURIComponent(rd)}`));
      const cb = await b.signInAt(start.location!, ALICE, CALLBACK_PATH);
      const done = await b.request(cb);
      assert.equal(done.status, 302);
      assert.equal(done.headers['location'], `${origin}${landing}`, rd);
    }
  });

  it('a spoofed Host only changes the redirect_uri, which the provider refuses: no code leaves it', async () => {
    const r = await send(stack.port, '/app', { headers: { ...NAVIGATION, host: 'evil.example' } });
    assert.equal(r.status, 302);
    const auth = new URL(String(r.headers['location']));
    assert.equal(new URL(auth.searchParams.get('redirect_uri')!).host, 'evil.example');
    const b = new HttpBrowser();
    const { res, stoppedAt } = await b.follow(auth, (u) => u.hostname === 'evil.example');
    assert.equal(stoppedAt, undefined, 'the provider redirected to the spoofed host');
    assert.equal(res.status, 400);
  });
});

describe('open redirects after logout (hostile AFTER_LOGOUT_URL)', () => {
  let op: TestOp;
  before(async () => {
    op = await startOp();
  });
  after(() => op.stop());

  it('a browser logout goes to our own origin unless AFTER_LOGOUT_URL is same-origin or allowed', async (t) => {
    const seen: string[] = [];
    const cases: [string, string | RegExp][] = [
      ['https://evil.example/bye', /^https:\/\/app\.example\.com\/authservice\/site\/homepage$/],
      ['//evil.example/bye', /^https:\/\/app\.example\.com\//],
      ['/\\evil.example', /^https:\/\/app\.example\.com\//],
      ['https://app.example.com@evil.example/', /^https:\/\/app\.example\.com\//],
      ['https://app.example.com.evil.example/', /^https:\/\/app\.example\.com\//],
      ['javascript:alert(1)', /^https:\/\/app\.example\.com\//],
      ['/bye?x=1', 'https://app.example.com/bye?x=1'],
      ['https://docs.example.com/bye', 'https://docs.example.com/bye'],
    ];
    for (const [value, want] of cases) {
      const env = { AFTER_LOGOUT_URL: value, ALLOWED_REDIRECT_HOSTS: 'docs.example.com' };
      try {
        testConfig(op.issuer, { env });
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        seen.push(`${value} → refused at start-up`);
        continue; // refused at start-up: nothing to redirect to
      }
      const judge = await startJudge(op.issuer, { env });
      try {
        const [id] = await seedSessions(judge.app.sessions, 1);
        const r = await request(
          judge.app.ports.http,
          '/authservice/logout',
          {
            host: 'app.example.com',
            cookie: `authservice_session=${id}`,
            origin: 'https://app.example.com',
            'sec-fetch-site': 'same-origin',
            'x-forwarded-proto': 'https',
          },
          { method: 'POST' },
        );
        assert.equal(r.status, 303, value);
        const location = String(r.headers['location']);
        if (typeof want === 'string') assert.equal(location, want, value);
        else assert.match(location, want, value);
        assert.ok(!location.includes('evil.example'), `${value} → ${location}`);
        seen.push(`${value} → ${location}`);
      } finally {
        await judge.stop();
      }
    }
    t.diagnostic(seen.join('; '));
  });
});
