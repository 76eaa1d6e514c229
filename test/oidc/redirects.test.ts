import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  afterLoginTarget,
  MAX_REDIRECT_LENGTH,
  originalUrl,
  plainReturnTo,
  returnToFromRequest,
  safeRedirect,
  type RedirectPolicy,
} from '../../src/oidc/redirects.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { judgeRequest } from '../helpers/request.js';

const ORIGIN = 'https://app.example.com';
const policy: RedirectPolicy = { allowedHosts: ['docs.example.com', '*.apps.example.com', 'api.example.com:8443', 'BÜCHER.example'] };
const none: RedirectPolicy = { allowedHosts: [] };

describe('safeRedirect: accepted', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['/', 'https://app.example.com/'],
    ['/a/b?x=1&y=%20#frag', 'https://app.example.com/a/b?x=1&y=%20#frag'],
    ['/a b', 'https://app.example.com/a%20b'],
    ['/a/../b', 'https://app.example.com/b'],
    ['/@evil.com', 'https://app.example.com/@evil.com'],
    ['/?next=//evil.com', 'https://app.example.com/?next=//evil.com'],
    ['/p?q=a\\b', 'https://app.example.com/p?q=a\\b'],
    ['/search?q=%0d%0a', 'https://app.example.com/search?q=%0d%0a'],
    ['/é', 'https://app.example.com/%C3%A9'],
    ['https://app.example.com', 'https://app.example.com/'],
    ['HTTPS://APP.Example.COM:443/x', 'https://app.example.com/x'],
    ['https://docs.example.com/guide', 'https://docs.example.com/guide'],
    ['https://a.apps.example.com/', 'https://a.apps.example.com/'],
    ['https://a.b.apps.example.com/', 'https://a.b.apps.example.com/'],
    ['https://api.example.com:8443/v1', 'https://api.example.com:8443/v1'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['https://ＡＰＰ.example.com/', 'https://app.example.com/'], // fullwidth letters: the same host to every browser
    ['https://evil。apps。example。com/', 'https://evil.apps.example.com/'], // ideographic dots are dots
  ];
  for (const [target, expected] of cases) {
    it(JSON.stringify(target), () => assert.equal(safeRedirect(target, ORIGIN, policy), expected));
  }

  it('an http request origin allows http targets on its own and allowed hosts', () => {
    assert.equal(safeRedirect('/x', 'http://localhost:8080', policy), 'http://localhost:8080/x');
    assert.equal(safeRedirect('http://docs.example.com/x', 'http://localhost:8080', policy), 'http://docs.example.com/x');
    assert.equal(safeRedirect('https://docs.example.com/x', 'http://localhost:8080', policy), 'https://docs.example.com/x');
  });

  it('a port on an allowed host must match; no port means the default port', () => {
    assert.equal(safeRedirect('https://docs.example.com:443/', ORIGIN, policy), 'https://docs.example.com/');
    assert.equal(safeRedirect('https://docs.example.com:8443/', ORIGIN, policy), undefined);
    assert.equal(safeRedirect('https://api.example.com/', ORIGIN, policy), undefined);
    assert.equal(safeRedirect('https://app.example.com:8443/', ORIGIN, none), undefined);
    assert.equal(safeRedirect('/x', 'https://app.example.com:8443', none), 'https://app.example.com:8443/x');
  });

  it('is idempotent: an accepted URL is accepted again unchanged', () => {
    for (const t of ['/a/./b?c#d', 'https://ＡＰＰ.example.com/%7e', 'https://bücher.example/ü']) {
      const once = safeRedirect(t, ORIGIN, policy);
      assert.ok(once);
      assert.equal(safeRedirect(once, ORIGIN, policy), once);
    }
  });
});

describe('safeRedirect: refused', () => {
  const refused: readonly string[] = [
    '',
    'relative/path',
    '?x=1',
    '#top',
    ' /leading-space',
    '//evil.com',
    '//evil.com/path',
    '/\\evil.com',
    '\\\\evil.com',
    '/\\/evil.com',
    '/a\\..\\..\\/evil.com',
    'https:\\\\evil.com',
    'https://app.example.com\\@evil.com',
    'https://evil.com\\app.example.com',
    'https:evil.com',
    'https:/evil.com',
    'https:///evil.com',
    'https://evil.com',
    'https://evil.com/https://app.example.com',
    'https://evil.com#@app.example.com',
    'https://evil.com?@app.example.com',
    'https://user@app.example.com/',
    'https://user:pw@app.example.com/',
    'https://app.example.com@evil.com/',
    'https://app.example.com:443@evil.com/',
    'https://app.example.com%40evil.com/',
    'https://%61pp.example.com/',
    'https://app.example.com%2f@evil.com/',
    'http://app.example.com/', // downgrade
    'http://docs.example.com/', // downgrade to an allowed host
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'javascript://app.example.com/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'ftp://app.example.com/',
    'ws://app.example.com/',
    'blob:https://app.example.com/uuid',
    'https://app.example.com.evil.com/',
    'https://docs.example.com.evil.com/',
    'https://evildocs.example.com/',
    'https://docs.example.comevil.com/',
    'https://appexample.com/',
    'https://apps.example.com/', // the apex of a wildcard
    'https://evil.com/.apps.example.com',
    'https://app.example.com./', // trailing dot: another origin
    'https://аpp.example.com/', // Cyrillic а
    'https://dоcs.example.com/', // Cyrillic о
    'https://docs.example.com／.evil.com/',
    'https://app.example.com:99999/',
    '/a\r\nSet-Cookie: x=1',
    '/a\nb',
    '/a\rb',
    '/a\tb',
    '/a\0b',
    '/\t/evil.com',
    '/\u0085',
    '/a\u007f',
    'https://app.example.com\t/',
    '/%0d%0aSet-Cookie:x=1',
    '/%0D%0A',
    '/%00',
    '/a%09b',
    '/%2f%2fevil.com',
    '/%2F%2Fevil.com',
    '/%2fevil.com',
    '/%5cevil.com',
    '/%5C%5Cevil.com',
    '/%252f%252fevil.com',
    '/%25252f%25252fevil.com',
    '/%2e%2e//evil.com',
    '/.//evil.com',
    '/a/..//evil.com',
    '/%2e/%2fevil.com',
    '/..%2f%2fevil.com',
    'https://app.example.com//evil.com',
    '/' + 'a'.repeat(MAX_REDIRECT_LENGTH),
  ];
  for (const target of refused) {
    it(JSON.stringify(target.length > 80 ? target.slice(0, 40) + '…' : target), () => assert.equal(safeRedirect(target, ORIGIN, policy), undefined));
  }

  it('accepts a target of exactly the maximum length', () => {
    assert.ok(safeRedirect('/' + 'a'.repeat(MAX_REDIRECT_LENGTH - 1), ORIGIN, policy));
  });

  it('refuses everything when the request origin is unusable, and never throws', () => {
    for (const origin of ['', 'app.example.com', 'javascript:x', 'https://', 'https://u@app.example.com', 'https://app\n.example.com', 'ftp://x']) {
      assert.equal(safeRedirect('/x', origin, policy), undefined, origin);
    }
    assert.equal(safeRedirect(undefined as unknown as string, ORIGIN, policy), undefined);
    assert.equal(
      safeRedirect('/x', ORIGIN, { allowedHosts: [42 as unknown as string, '', '*', '*.', 'a/b', 'u@h', '*.1.2.3.4'] }),
      'https://app.example.com/x',
    );
  });

  it('invalid allowed-host entries match nothing', () => {
    const odd: RedirectPolicy = { allowedHosts: ['*', '*.*.example.com', 'evil.com/path', 'u@evil.com', 'evil.com.', '%65vil.com'] };
    for (const t of ['https://evil.com/', 'https://x.example.com/', 'https://a.b.example.com/']) assert.equal(safeRedirect(t, ORIGIN, odd), undefined, t);
  });
});

describe('originalUrl and returnToFromRequest', () => {
  it('originalUrl is scheme://host + raw target, or the target alone without a host', () => {
    assert.equal(originalUrl(judgeRequest('/a/b?c=%20')), 'https://app.example.com/a/b?c=%20');
    assert.equal(originalUrl(judgeRequest('/a', { scheme: 'http', host: 'localhost:8080' })), 'http://localhost:8080/a');
    assert.equal(originalUrl(judgeRequest('/a?x', { host: '' })), '/a?x');
    assert.equal(originalUrl(judgeRequest('http://other/a')), 'http://other/a');
  });

  const fallback = 'https://app.example.com/';
  it('returns the validated original URL', () => {
    assert.equal(returnToFromRequest(judgeRequest('/notebooks/x?tab=1'), none, fallback), 'https://app.example.com/notebooks/x?tab=1');
    assert.equal(returnToFromRequest(judgeRequest('/a', { host: 'App.Example.com:443' }), none, fallback), 'https://app.example.com/a');
    assert.equal(returnToFromRequest(judgeRequest('/a', { scheme: 'http', host: '127.0.0.1:8080' }), none, fallback), 'http://127.0.0.1:8080/a');
  });

  it('falls back for the oidc-authservice open redirect (//evil) and other unsafe originals', () => {
    const unsafe: readonly [string, Partial<JudgeRequest>][] = [
      ['//evil.example/x', {}], // oidc-authservice §8.3 #6
      ['/%2f%2fevil.example/x', {}],
      ['/\\evil.example', {}],
      ['/a%0d%0aSet-Cookie:x', {}],
      ['*', {}],
      ['http://evil.example/x', {}],
      ['/a', { host: '' }],
      ['/a', { host: 'evil.example/x' }],
      ['/a', { host: 'evil.example@app.example.com' }],
      ['/a', { host: 'app.example.com\r\nx: y' }],
      ['/a', { scheme: 'javascript' }],
      ['/' + 'a'.repeat(MAX_REDIRECT_LENGTH), {}],
    ];
    for (const [path, more] of unsafe) assert.equal(returnToFromRequest(judgeRequest(path, more), policy, fallback), fallback, path);
  });
});

describe('afterLoginTarget', () => {
  it('adds next, URL-encoded, keeping the existing query and fragment', () => {
    const original = 'https://app.example.com/a b?x=1&y=2';
    assert.equal(afterLoginTarget('https://app.example.com/welcome', original), 'https://app.example.com/welcome?next=' + encodeURIComponent(original));
    assert.equal(afterLoginTarget('/welcome?lang=de&q=a%20b+c', '/p?x=1'), '/welcome?lang=de&q=a%20b+c&next=%2Fp%3Fx%3D1');
    assert.equal(afterLoginTarget('/welcome?', '/p'), '/welcome?next=%2Fp');
    assert.equal(afterLoginTarget('/welcome#top', '/p'), '/welcome?next=%2Fp#top');
    assert.equal(afterLoginTarget('/welcome?a=1#top', '/p'), '/welcome?a=1&next=%2Fp#top');
  });

  it('replaces an existing next', () => {
    assert.equal(afterLoginTarget('/w?next=/old&a=1&%6Eext=x', '/new'), '/w?a=1&next=%2Fnew');
  });

  it('an empty AFTER_LOGIN_URL returns the original', () => {
    assert.equal(afterLoginTarget('', '/p?x'), '/p?x');
  });

  it('never throws, even on lone surrogates', () => {
    assert.equal(afterLoginTarget('/w', '/\uD800x'), '/w?next=%2F%EF%BF%BDx');
  });

  it('next round-trips through URLSearchParams', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('/w', '/w?a=1', 'https://h/w?a=b&c#f'), (original, after) => {
        const u = new URL(afterLoginTarget(after, original), 'https://base/');
        assert.deepEqual(u.searchParams.getAll('next'), [original]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('safeRedirect properties', () => {
  const allowedOrigins = new Set([ORIGIN, 'https://docs.example.com', 'https://api.example.com:8443', 'https://xn--bcher-kva.example']);
  const originOk = (u: URL): boolean => allowedOrigins.has(u.origin) || (u.protocol === 'https:' && u.port === '' && u.hostname.endsWith('.apps.example.com'));

  /** Targets built from the pieces attacks are made of (schemes, hosts and look-alikes, separators, escapes), plus arbitrary text. */
  const piece = fc.oneof(
    fc.constantFrom(
      '/',
      '//',
      '\\',
      '/\\',
      '.',
      '..',
      '/.',
      '/..',
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
      '\0',
      ' ',
      '\u3002',
      '\uFF0F',
      '\u0430',
      '\u200B',
      '\u0085',
      '\uD800',
      'https:',
      'javascript:',
      '//evil.com',
      'app.example.com',
      'docs.example.com',
      'x.apps.example.com',
      'evil.com',
      'bücher.example',
      ':8443',
      ':443',
      'ＡＰＰ',
      'a',
      'b/c',
    ),
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'binary-ascii', maxLength: 4 }),
  );
  const text = (n: number) => fc.array(piece, { maxLength: n }).map((a) => a.join(''));
  const host = fc.oneof(
    fc.constantFrom(
      'app.example.com',
      'APP.example.com:443',
      'app.example.com:8443',
      'docs.example.com',
      'docs.example.com:443',
      'x.apps.example.com',
      'a.b.apps.example.com',
      'apps.example.com',
      'api.example.com:8443',
      'api.example.com',
      'bücher.example',
      'ＡＰＰ.example.com',
      'evil.com',
      'app.example.com.evil.com',
      'evilapps.example.com',
      '\u0430pp.example.com',
      'x.apps.example.com.',
      '127.0.0.1',
      '[::1]',
    ),
    fc
      .array(
        fc.constantFrom(
          'app',
          'apps',
          'docs',
          'api',
          'example',
          'com',
          'evil',
          'x',
          '.',
          '\u3002',
          '@',
          ':',
          '443',
          '8443',
          '%2e',
          '\u0430',
          'Ａ',
          '\u200B',
          '\\',
          '/',
        ),
        { maxLength: 8 },
      )
      .map((a) => a.join('')),
  );
  const scheme = fc.constantFrom(
    'https://',
    'http://',
    'HTTPS://',
    'https:',
    'https:/',
    'https:\\\\',
    'https:///',
    '//',
    '/\\',
    '',
    'javascript:',
    'ftp://',
    ' https://',
  );
  const target = fc.oneof(
    fc.tuple(fc.constantFrom('https://', 'HTTPS://', 'http://'), host, fc.oneof(text(2), fc.constantFrom('', '/x', '/a/b?c=d#e'))).map((a) => a.join('')),
    fc
      .tuple(scheme, host, fc.constantFrom('', '/', '/a', '@', '?q', '#f', '\\'), fc.oneof(text(4), fc.constantFrom('', '/x', '/a/b?c=d#e')))
      .map((a) => a.join('')),
    fc.tuple(fc.constantFrom('/', '/a/', '/./', '/../', '/%2e/', '/a/..'), text(8)).map((a) => a.join('')),
    text(10),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
  );

  it('a result is on an allowed origin, has no control characters, and re-parses to itself', () => {
    let accepted = 0;
    let elsewhere = 0;
    fc.assert(
      fc.property(target, (t) => {
        const r = safeRedirect(t, ORIGIN, policy);
        if (r === undefined) return;
        accepted++;
        if (!r.startsWith(ORIGIN + '/')) elsewhere++;
        assert.doesNotMatch(r, /[\x00-\x20\x7f-\x9f]/);
        const u = new URL(r);
        assert.ok(originOk(u), `${JSON.stringify(t)} → ${r}`);
        assert.equal(u.href, r);
        assert.ok(!u.pathname.startsWith('//'), r);
        assert.equal(safeRedirect(r, ORIGIN, policy), r);
      }),
      { numRuns: 4000 },
    );
    // the generator must exercise acceptance, on our origin and on allowed hosts (expected ~12% and ~2%)
    assert.ok(accepted > 200 && elsewhere > 20, `accepted ${accepted}, on allowed hosts ${elsewhere}`);
  });

  it('relative paths on an origin with no allowed hosts stay on that origin', () => {
    fc.assert(
      fc.property(target, (t) => {
        const r = safeRedirect('/' + t, ORIGIN, none);
        if (r !== undefined) assert.equal(new URL(r).origin, ORIGIN);
      }),
      { numRuns: 2000 },
    );
  });

  it('the return URL without a parse is exactly what the parse gives, or not taken', () => {
    const hosts = [
      'app.example.com',
      'APP.example.com',
      'app.example.com:8080',
      'app.example.com:80',
      'app.example.com:443',
      'app.example.com:0080',
      'app.example.com:99999',
      '127.0.0.1',
      '1.2.3',
      '0x7f.1',
      'foo.123',
      'foo.0x1f',
      'xn--nxasmq6b.com',
      'xn--zz.com',
      'localhost',
      'a-b.c-d',
      '-a.com',
      'a..b',
      'a.b.',
      '[::1]',
      'a_b.com',
    ];
    const paths = [
      '/',
      '/a',
      '/a/b?c=d',
      '/a/./b',
      '/a/../b',
      '/a/.',
      '/a/%2e%2e/b',
      '//evil',
      '/\\evil',
      "/a?x='y",
      '/a b',
      '/a?',
      '/a?b=/../c',
      '/.well-known/x',
      '/a;b=c',
      '/a:b@c',
      '/~user',
      '/a|b',
      '/a{b}',
      '/%0d%0a',
      '/a#b',
      '/a?x=1&y=2',
      '/a`b',
      '/a^b',
      '/a[b]',
      '/a"b',
      '/a<b>',
    ];
    let taken = 0;
    for (const scheme of ['http', 'https']) {
      for (const host of hosts) {
        for (const path of paths) {
          const fast = plainReturnTo(scheme, host, path);
          if (fast === undefined) continue;
          taken++;
          assert.equal(fast, safeRedirect(`${scheme}://${host}${path}`, `${scheme}://${host}`, { allowedHosts: [] }), `${scheme}://${host}${path}`);
        }
      }
    }
    assert.ok(taken > 50, `the fast path serves plain URLs (${taken} taken)`);
    assert.equal(plainReturnTo('https', 'app.example.com', '/app/data?x=1'), 'https://app.example.com/app/data?x=1');
    fc.assert(
      fc.property(fc.constantFrom('http', 'https'), fc.stringMatching(/^[a-z0-9.:-]{1,20}$/), fc.stringMatching(/^\/[ -~]{0,30}$/), (scheme, host, path) => {
        const fast = plainReturnTo(scheme, host, path);
        if (fast !== undefined) assert.equal(fast, safeRedirect(`${scheme}://${host}${path}`, `${scheme}://${host}`, { allowedHosts: [] }));
      }),
      { numRuns: 3000 },
    );
  });
});
