/**
 * Property, through the assembled service: for any `rd` given to `<prefix>/login` — built from the
 * pieces open redirects are made of, plus arbitrary text — the return URL the login attempt stores
 * (read back from the session store) is on the request's origin or an allowed host, over https,
 * free of control characters, and never starts its path with `//`; the `Location` we answer never
 * carries CR or LF. Extends the unit-level properties of test/oidc/redirects.test.ts to the wire.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request, startJudge, type Judged } from '../helpers/app.js';
import { attemptFromSetCookie } from '../helpers/attempt.js';
import { NAVIGATION } from '../helpers/http-browser.js';
import { startOp, type TestOp } from '../helpers/op.js';

const ORIGIN = 'https://app.example.com';
const originOk = (u: URL): boolean =>
  u.origin === ORIGIN || u.origin === 'https://docs.example.com' || (u.protocol === 'https:' && u.port === '' && u.hostname.endsWith('.apps.example.com'));

const piece = fc.oneof(
  fc.constantFrom(
    '/',
    '//',
    '\\',
    '/\\',
    '.',
    '..',
    '@',
    ':',
    '?',
    '#',
    '%',
    '%2f',
    '%2F',
    '%5c',
    '%25',
    '%2e',
    '%0d',
    '%0a',
    '%00',
    '%09',
    '\r',
    '\n',
    '\t',
    ' ',
    '\u3002',
    '\uFF0F',
    '\u0430',
    '\u200B',
    'https:',
    'http:',
    'javascript:',
    'data:',
    '//evil.example',
    'app.example.com',
    'docs.example.com',
    'x.apps.example.com',
    'apps.example.com',
    'evil.example',
    'app.example.com.evil.example',
    ':443',
    ':8443',
    'https://',
    'HTTPS://',
    'a',
    'b/c',
  ),
  fc.string({ maxLength: 5 }),
);
const target = fc.oneof(
  fc.array(piece, { maxLength: 10 }).map((a) => a.join('')),
  fc
    .tuple(
      fc.constantFrom('/', 'https://app.example.com/', 'https://docs.example.com/', 'https://z.apps.example.com/', 'HTTPS://DOCS.example.com/'),
      fc.array(fc.oneof(piece, fc.constantFrom('a', 'x/y', '?q=1', '#f', '%20')), { maxLength: 4 }),
    )
    .map(([a, b]) => a + b.join('')),
  fc
    .tuple(
      fc.constantFrom('https://', 'http://', '//', '/\\', '', 'https:', 'https:\\\\'),
      fc.constantFrom(
        'app.example.com',
        'docs.example.com',
        'y.apps.example.com',
        'evil.example',
        'app.example.com@evil.example',
        'evil.example\\@app.example.com',
      ),
      fc.array(piece, { maxLength: 4 }).map((a) => a.join('')),
    )
    .map((a) => a.join('')),
);

describe('property: no open redirect through <prefix>/login?rd=', () => {
  let op: TestOp;
  let judge: Judged;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { env: { ALLOWED_REDIRECT_HOSTS: 'docs.example.com,*.apps.example.com' } });
  });
  after(async () => {
    agent.destroy();
    await judge.stop();
    await op.stop();
  });

  it('the remembered return URL is on an allowed origin for 200 generated targets', async () => {
    let elsewhere = 0;
    let kept = 0;
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const r = await request(
          judge.app.ports.http,
          `/authservice/login?rd=${encodeURIComponent(t)}`,
          { host: 'app.example.com', 'x-forwarded-proto': 'https', ...NAVIGATION },
          { agent },
        );
        assert.equal(r.status, 302);
        const location = String(r.headers['location']);
        assert.doesNotMatch(location, /[\r\n]/);
        const returnTo = (await attemptFromSetCookie(judge.app.browser, r.headers['set-cookie'])).returnTo;
        assert.doesNotMatch(returnTo, /[\x00-\x20\x7f-\x9f]/);
        const u = new URL(returnTo);
        assert.ok(originOk(u), `${JSON.stringify(t)} → ${returnTo}`);
        assert.ok(!u.pathname.startsWith('//'), returnTo);
        if (returnTo !== `${ORIGIN}/`) kept++;
        if (u.origin !== ORIGIN) elsewhere++;
      }),
      { numRuns: 200 },
    );
    // The generator must reach acceptance, on our origin and on allowed hosts, or the property says nothing.
    assert.ok(kept > 20 && elsewhere > 6, `kept ${kept}, on allowed hosts ${elsewhere}`);
  });
});
