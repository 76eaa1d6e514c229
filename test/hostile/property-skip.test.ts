/**
 * Property, through the assembled service's forwarder and a real upstream: for any raw path built
 * from dot segments, encoded separators, parameters, backslashes, NUL, case variants and
 * look-alike segments, a request without credentials reaches the upstream only when every strict
 * reading of the path the upstream received — raw, decoded, dots resolved before or after
 * decoding, slashes merged, `;` parameters cut, `\` as `/`, the WHATWG URL parser — lies under
 * SKIP_AUTH_URLS=/public. Anything else is answered 401 (or 400) and never forwarded. Extends the
 * in-process property of test/judge/skip.test.ts to the wire.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { send } from '../helpers/http-send.js';
import { API } from './kit.js';
import { startGuarded, type Guarded } from './stack.js';

function whatwg(raw: string): string {
  try {
    return new URL(raw, 'http://h').pathname;
  } catch {
    return '(invalid)';
  }
}

/**
 * Independent strict readings of a raw request target's path. Escapes of letters, digits, `-`, `_`
 * and `~` are equivalent to the characters (RFC 3986 §6.2.2.2); every other escape is read both
 * ways.
 */
function readings(target: string): string[] {
  const raw = target
    .split('?')[0]!
    .replace(/%(4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|3[0-9]|2d|5f|7e)/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const removeDots = (p: string): string => {
    const out: string[] = [];
    const segs = p.split('/').slice(1);
    segs.forEach((s, i) => {
      if (s === '..') out.pop();
      else if (s !== '.') out.push(s);
      if ((s === '.' || s === '..') && i === segs.length - 1) out.push('');
    });
    return '/' + out.join('/');
  };
  const decode = (p: string): string => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  };
  const params = (p: string): string =>
    p
      .split('/')
      .map((s) => s.split(';')[0])
      .join('/');
  const collapse = (p: string): string => p.replace(/\/{2,}/g, '/');
  const slashes = (p: string): string => p.replaceAll('\\', '/');
  const d = decode(raw);
  return [
    removeDots(raw),
    removeDots(d),
    removeDots(collapse(d)),
    collapse(removeDots(d)),
    removeDots(collapse(params(slashes(d)))),
    removeDots(collapse(params(slashes(raw)))),
    removeDots(decode(decode(raw))),
    raw.split('#')[0]!,
    whatwg(raw),
  ];
}
const underPublic = (p: string): boolean => p === '/public' || p.startsWith('/public/');

const segment = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'img', 'public', 'admin', '', '%70ublic', '~', 'x?y'), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e',
      '%2E',
      '%2e%2e',
      '.%2e',
      '%2f',
      '%2F',
      ';x',
      '\\',
      '%5c',
      '%252e',
      '%252f',
      '%00',
      '%0a',
      'publicity',
      'PUBLIC',
      'Public',
      '..;',
      'public%2f..',
      'public;',
      '#',
      '?',
      '%23',
      '%3f',
      '..%2f',
      '%c0%ae',
      '%',
    ),
    weight: 2,
  },
);
const rawPath = fc
  .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 6 }))
  .map(([lead, segs]) => '/' + (lead ? ['public', ...segs] : segs).join('/'));

describe('property: no skip-rule bypass through the forwarder', () => {
  let g: Guarded;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' });
  });
  after(async () => {
    agent.destroy();
    await g.stop();
  });

  it('what reaches the upstream without credentials is under /public in every reading (400 paths)', async (t) => {
    let forwarded = 0;
    let tricky = 0;
    await fc.assert(
      fc.asyncProperty(rawPath, async (raw) => {
        const before = g.upstream.heads.length;
        const r = await send(g.ingress, raw, { headers: API, agent });
        const seen = g.upstream.heads.slice(before).map((h) => h.url);
        if (readings(raw).some((p) => !underPublic(p)) && readings(raw).some(underPublic)) tricky++;
        if (r.status !== 200) {
          assert.ok(r.status === 401 || r.status === 400, `${raw}: ${r.status}`);
          assert.deepEqual(seen, [], raw);
          return;
        }
        forwarded++;
        // Forwarded once, as judged: the raw target, or its dot segments resolved and slashes merged.
        assert.equal(seen.length, 1, raw);
        const outside = readings(seen[0]!).find((p) => !underPublic(p));
        assert.equal(outside, undefined, `${JSON.stringify(raw)} reached the upstream unauthenticated but reads as ${JSON.stringify(outside)}`);
      }),
      { numRuns: 400 },
    );
    assert.ok(forwarded > 30, `only ${forwarded} forwarded: the property would be vacuous`);
    assert.ok(tricky > 15, `only ${tricky} paths with readings inside and outside /public: the generator is too tame`);
    t.diagnostic(`${forwarded} of 400 forwarded unauthenticated, ${tricky} with conflicting readings`);
  });
});
