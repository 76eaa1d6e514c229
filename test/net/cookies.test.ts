import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clearCookie, cookieValues, parseCookies, serializeCookie, withoutCookies, type CookieOptions } from '../../src/net/cookies.js';

const NOW = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const base: CookieOptions = { secure: true, httpOnly: true, sameSite: 'Lax', path: '/' };

describe('parseCookies', () => {
  it('parses a browser Cookie header in order', () => {
    const m = parseCookies('a=1; b=two; c=');
    assert.deepEqual(
      [...m],
      [
        ['a', ['1']],
        ['b', ['two']],
        ['c', ['']],
      ],
    );
  });

  it('keeps every value of a repeated name, in order', () => {
    const m = parseCookies('authservice_session=specific; x=1; authservice_session=general');
    assert.deepEqual(m.get('authservice_session'), ['specific', 'general']);
    assert.deepEqual(m.get('x'), ['1']);
  });

  it('is tolerant: spaces, tabs, empty and nameless pairs, garbage', () => {
    const m = parseCookies(' ;;a = 1 ;\tb=\t2\t;noequals; =nameless;  ; c=x=y;=;d');
    assert.deepEqual(
      [...m],
      [
        ['a', ['1']],
        ['b', ['2']],
        ['c', ['x=y']],
      ],
    );
    for (const h of [undefined, '', ';', '=', '==;==', '\u0000\uFFFF', 'a'.repeat(10000)]) assert.doesNotThrow(() => parseCookies(h));
    assert.equal(parseCookies(undefined).size, 0);
  });

  it('does not decode values, only strips surrounding double quotes', () => {
    const m = parseCookies('a="quoted"; b=%20x%3B; c="; d="a"b; e=""');
    assert.deepEqual(
      [...m],
      [
        ['a', ['quoted']],
        ['b', ['%20x%3B']],
        ['c', ['"']],
        ['d', ['"a"b']],
        ['e', ['']],
      ],
    );
  });

  it('names are case-sensitive and may be any non-empty text', () => {
    const m = parseCookies('A=1; a=2; __proto__=3; constructor=4');
    assert.deepEqual(m.get('A'), ['1']);
    assert.deepEqual(m.get('a'), ['2']);
    assert.deepEqual(m.get('__proto__'), ['3']);
    assert.deepEqual(m.get('constructor'), ['4']);
  });

  it('takes linear time on pathological headers', () => {
    const start = process.hrtime.bigint();
    parseCookies(';'.repeat(200_000) + 'a=1');
    parseCookies('a'.repeat(100_000) + ';'.repeat(100_000) + '=');
    cookieValues(' '.repeat(200_000) + 'x=1', 'x');
    // Quadratic work on 200 000 characters takes minutes; 10 s leaves a busy machine room.
    assert.ok(process.hrtime.bigint() - start < 10_000_000_000n);
  });
});

describe('cookieValues', () => {
  it('returns every value of one name, in order', () => {
    assert.deepEqual(cookieValues('s=1; t=2; s="3"', 's'), ['1', '3']);
    assert.deepEqual(cookieValues('s=1', 'x'), []);
    assert.deepEqual(cookieValues(undefined, 's'), []);
    assert.deepEqual(cookieValues('xs=1; sx=2; s =3', 's'), ['3']);
  });
});

describe('serializeCookie', () => {
  it('writes name=value and the attributes in a fixed order', () => {
    const opts: CookieOptions = { ...base, domain: 'example.com', maxAgeSeconds: 86400 };
    assert.equal(
      serializeCookie('authservice_session', 'abc', opts, NOW),
      'authservice_session=abc; Path=/; Max-Age=86400; Expires=Fri, 02 Jan 2026 12:00:00 GMT; Domain=example.com; Secure; HttpOnly; SameSite=Lax',
    );
  });

  it('omits Max-Age/Expires (a session cookie), Domain, Secure and HttpOnly when not asked for', () => {
    assert.equal(serializeCookie('s', 'v', { secure: false, httpOnly: false, sameSite: 'Strict', path: '/app' }, NOW), 's=v; Path=/app; SameSite=Strict');
    assert.equal(serializeCookie('s', '', { ...base, sameSite: 'None' }, NOW), 's=; Path=/; Secure; HttpOnly; SameSite=None');
  });

  it('Expires is an IMF-fixdate matching Max-Age', () => {
    const c = serializeCookie('s', 'v', { ...base, maxAgeSeconds: 0 }, new Date(Date.UTC(2026, 1, 3, 4, 5, 6)));
    assert.match(c, /; Max-Age=0; Expires=Tue, 03 Feb 2026 04:05:06 GMT;/);
  });

  it('throws a TypeError on invalid names, values and attributes', () => {
    const bad: readonly [string, string, CookieOptions][] = [
      ['', 'v', base],
      ['a b', 'v', base],
      ['a;b', 'v', base],
      ['a=b', 'v', base],
      ['a\nb', 'v', base],
      ['é', 'v', base],
      ['s', 'a b', base],
      ['s', 'a;b', base],
      ['s', 'a,b', base],
      ['s', 'a\\b', base],
      ['s', 'a"b', base],
      ['s', '"a', base],
      ['s', 'a\r\nSet-Cookie: x=1', base],
      ['s', 'é', base],
      ['s', 'v', { ...base, path: 'app' }],
      ['s', 'v', { ...base, path: '/a;Domain=evil.com' }],
      ['s', 'v', { ...base, path: '/a\nb' }],
      ['s', 'v', { ...base, domain: 'evil.com; Secure' }],
      ['s', 'v', { ...base, domain: '' }],
      ['s', 'v', { ...base, domain: 'a..b' }],
      ['s', 'v', { ...base, maxAgeSeconds: -1 }],
      ['s', 'v', { ...base, maxAgeSeconds: 1.5 }],
      ['s', 'v', { ...base, maxAgeSeconds: Number.NaN }],
      ['s', 'v', { ...base, maxAgeSeconds: 1e15 }],
      ['s', 'v', { ...base, sameSite: 'lax' as 'Lax' }],
      ['__Host-s', 'v', { ...base, secure: false }],
      ['__Host-s', 'v', { ...base, path: '/app' }],
      ['__Host-s', 'v', { ...base, domain: 'example.com' }],
      ['__Secure-s', 'v', { ...base, secure: false }],
    ];
    for (const [name, value, opts] of bad) {
      assert.throws(() => serializeCookie(name, value, opts, NOW), TypeError, JSON.stringify([name, value, opts]));
    }
    assert.throws(() => serializeCookie('s', 'v', { ...base, maxAgeSeconds: 1 }, new Date(Number.NaN)), TypeError);
  });

  it('accepts quoted values and prefixed names that follow their rules', () => {
    assert.match(serializeCookie('s', '"q"', base, NOW), /^s="q"; /);
    assert.match(serializeCookie('__Host-s', 'v', base, NOW), /^__Host-s=v; Path=\/; /);
    assert.match(serializeCookie('__Secure-s', 'v', { ...base, domain: '.example.com' }, NOW), /; Domain=\.example\.com; Secure/);
  });
});

describe('clearCookie', () => {
  it('expires the cookie on the same Path and Domain', () => {
    assert.equal(
      clearCookie('authservice_session', { ...base, domain: 'example.com', path: '/app' }),
      'authservice_session=; Path=/app; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; Secure; HttpOnly; SameSite=Lax',
    );
  });
  it('ignores maxAgeSeconds and validates like serializeCookie', () => {
    assert.match(clearCookie('s', { ...base, maxAgeSeconds: 100 } as CookieOptions), /; Max-Age=0; /);
    assert.throws(() => clearCookie('a;b', base), TypeError);
    assert.throws(() => clearCookie('s', { ...base, path: '/;x' }), TypeError);
  });
});

describe('withoutCookies', () => {
  const ours = ['authservice_session', 'oidc_state_csrf'];
  it('removes every occurrence of the named cookies and keeps the rest byte for byte, in order', () => {
    assert.equal(withoutCookies('a=1; authservice_session=s1; b="2"; authservice_session=s2; c=%3B', ours), 'a=1; b="2"; c=%3B');
    assert.equal(withoutCookies('authservice_session=s; x=  y z ', ours), 'x=  y z');
    assert.equal(withoutCookies(' authservice_session = s ;oidc_state_csrf=t;k=v', ours), 'k=v');
  });
  it('returns the header unchanged when none of them is present', () => {
    const h = 'a=1;b=2;;  c=3 ';
    assert.equal(withoutCookies(h, ours), h);
  });
  it('undefined when nothing is left', () => {
    assert.equal(withoutCookies(undefined, ours), undefined);
    assert.equal(withoutCookies('', ours), undefined);
    assert.equal(withoutCookies(' ; ', ours), undefined);
    assert.equal(withoutCookies('authservice_session=s', ours), undefined);
    assert.equal(withoutCookies('authservice_session=s; oidc_state_csrf=t;', ours), undefined);
  });
  it('also removes a bare name without a value', () => {
    assert.equal(withoutCookies('authservice_session; a=1', ours), 'a=1');
  });
  it('does not remove look-alike names', () => {
    assert.equal(withoutCookies('Authservice_session=1; authservice_session2=2; authservice_session=3', ours), 'Authservice_session=1; authservice_session2=2');
  });
});

describe('cookie properties', () => {
  const tchar = fc.constantFrom(..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split(''));
  const octet = fc.constantFrom(
    ...[...Array(0x7f).keys()]
      .filter((c) => c === 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e))
      .map((c) => String.fromCharCode(c)),
  );
  const name = fc.array(tchar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
  const bare = fc.array(octet, { maxLength: 24 }).map((a) => a.join(''));
  const value = fc.oneof(
    bare,
    bare.map((v) => `"${v}"`),
  );
  const unquoted = (v: string): string => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
  const opts = fc.record({
    secure: fc.boolean(),
    httpOnly: fc.boolean(),
    sameSite: fc.constantFrom('Lax' as const, 'Strict' as const, 'None' as const),
    path: fc.constantFrom('/', '/app', '/a/b/'),
    maxAgeSeconds: fc.integer({ min: 0, max: 400 * 86400 }),
  });

  it('parse(serialize(v)) round-trips: the pair a browser sends back reads as the value set', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }), opts, (pairs, o) => {
        const sent = pairs
          .map(([n, v]) => {
            const setCookie = serializeCookie(n.startsWith('__') ? 'x' + n : n, v, o, NOW);
            return setCookie.slice(0, setCookie.indexOf('; Path='));
          })
          .join('; ');
        const expected = new Map<string, string[]>();
        for (const [n, v] of pairs) {
          const key = n.startsWith('__') ? 'x' + n : n;
          expected.set(key, [...(expected.get(key) ?? []), unquoted(v)]);
        }
        assert.deepEqual(parseCookies(sent), expected);
      }),
      { numRuns: 1000 },
    );
  });

  /** Cookie-ish headers: names, separators, quotes, whitespace, and arbitrary text. */
  const header = fc.oneof(
    fc.array(fc.oneof(name, fc.constantFrom(';', '; ', '=', '"', ' ', '\t', '\n', '\0', 'é', '\uD800')), { maxLength: 16 }).map((a) => a.join('')),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
  );

  it('parseCookies and cookieValues never throw and agree', () => {
    fc.assert(
      fc.property(header, name, (h, n) => {
        const m = parseCookies(h);
        assert.deepEqual(cookieValues(h, n), m.get(n) ?? []);
        for (const k of m.keys()) assert.ok(k !== '' && !/^[ \t]|[ \t]$/.test(k), JSON.stringify(k)); // names trimmed of SP/HTAB (RFC 6265 WSP)
      }),
      { numRuns: 1000 },
    );
  });

  it('withoutCookies never leaves a removed name and keeps every other cookie', () => {
    const names = fc.constantFrom('authservice_session', 'oidc_state_csrf', 'a', 'b');
    const segment = fc.oneof(
      fc.tuple(names, fc.constantFrom('=', ' = ', '=\t'), value).map(([n, eq, v]) => n + eq + v),
      names,
      fc.string({ maxLength: 8 }),
      fc.constantFrom('', ' ', '=x'),
    );
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 8 }),
        fc.constantFrom(';', '; ', ' ;'),
        fc.subarray(['authservice_session', 'oidc_state_csrf', 'a']),
        (segments, sep, remove) => {
          const header = segments.join(sep);
          const out = withoutCookies(header, remove);
          const after = parseCookies(out);
          for (const r of remove) {
            assert.equal(after.has(r), false);
            assert.ok(!(out ?? '').split(';').some((s) => s.trim() === r), `${JSON.stringify(header)} → ${JSON.stringify(out)}`);
          }
          const before = parseCookies(header);
          for (const r of remove) before.delete(r);
          assert.deepEqual(after, before);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
