import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientResponseHeaders,
  connectionListed,
  endToEnd,
  upgradeProtocols,
  upstreamRequestHeaders,
  withoutCookies,
  type HeaderEdits,
} from '../../../src/forward/engine/hop.js';
import { upstreamPath } from '../../../src/forward/engine/proxy.js';
import { wireValue } from '../../../src/net/wire.js';

const edits = (over: Partial<HeaderEdits> = {}): HeaderEdits => ({
  set: [],
  remove: [],
  stripCookies: [],
  responseHeaders: [],
  requestId: 'rid',
  client: { peer: '::ffff:10.1.2.3', trusted: false, proto: 'http', host: 'app.example.com' },
  ...over,
});

/** Flat list → lower-case name → values. */
function byName(flat: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    m.set(k, [...(m.get(k) ?? []), flat[i + 1]!]);
  }
  return m;
}

describe('hop-by-hop headers', () => {
  it('drops the standard hop-by-hop headers and every header a Connection header lists, in any case', () => {
    const raw = [
      'Connection',
      'X-Secret, keep-alive',
      'connection',
      'X-Other',
      'Keep-Alive',
      'timeout=5',
      'X-SECRET',
      '1',
      'x-other',
      '2',
      'TE',
      'trailers',
      'Proxy-Authorization',
      'Basic x',
      'Upgrade',
      'h2c',
      'X-Kept',
      'k',
    ];
    assert.deepEqual([...connectionListed(raw)].sort(), ['keep-alive', 'x-other', 'x-secret']);
    assert.deepEqual(
      endToEnd(raw, () => false),
      [['X-Kept', 'k']],
    );
  });

  it('keeps Connection and Upgrade when told to (an upgrade), and honours the drop predicate', () => {
    const raw = ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'X-A', '1', 'X-B', '2'];
    assert.deepEqual(
      endToEnd(raw, (n) => n === 'x-b', new Set(['connection', 'upgrade'])),
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['X-A', '1'],
      ],
    );
  });

  it('removes named cookies only by exact name, and says when none is left', () => {
    const names = new Set(['authservice_session', 'oidc_state_csrf']);
    assert.equal(withoutCookies(['a=1; authservice_session=s; authservice_session_x=2', 'oidc_state_csrf=c;b=3'], names), 'a=1; authservice_session_x=2; b=3');
    assert.equal(withoutCookies(['authservice_session=s; oidc_state_csrf=c'], names), undefined);
    assert.equal(withoutCookies(['Authservice_Session=s'], names), 'Authservice_Session=s');
  });

  it('removes cookies by name prefix too (the per-attempt login-binding cookies), case-sensitively', () => {
    const names = new Set(['authservice_session', 'oidc_state_csrf']);
    const prefixes = ['oidc_state_csrf_'];
    assert.equal(
      withoutCookies(['a=1; oidc_state_csrf_Ab3-x_9=v; oidc_state_csrf=c', 'oidc_state_csrf_zz=w; b=2; OIDC_STATE_CSRF_q=k'], names, prefixes),
      'a=1; b=2; OIDC_STATE_CSRF_q=k',
    );
    assert.equal(withoutCookies(['oidc_state_csrf_a=1; oidc_state_csrf_b=2'], names, prefixes), undefined);
    assert.equal(withoutCookies(['oidc_state_csrfx=1'], names, prefixes), 'oidc_state_csrfx=1');
  });

  it('reads the protocols an Upgrade header asks for', () => {
    assert.deepEqual(upgradeProtocols('WebSocket'), ['websocket']);
    assert.deepEqual(upgradeProtocols('SPDY/3.1, websocket'), ['spdy', 'websocket']);
    assert.deepEqual(upgradeProtocols(undefined), []);
  });
});

describe('upstream request headers', () => {
  const raw = [
    'Host',
    'app.example.com',
    'Connection',
    'kubeflow-userid, x-drop',
    'X-Drop',
    'gone',
    'kubeflow-userid',
    'forged',
    'kubeflow_userid',
    'forged too',
    'X-Forwarded-For',
    '6.6.6.6',
    'X-Forwarded-Host',
    'evil.example',
    'Forwarded',
    'for=6.6.6.6',
    'X-Real-IP',
    '6.6.6.6',
    'Cookie',
    'a=1; authservice_session=s',
    'Content-Length',
    '999',
    'Expect',
    '100-continue',
    'Accept',
    'text/html',
  ];

  it('sets the identity, strips forged and listed headers, and states framing from what was parsed', () => {
    const out = byName(
      upstreamRequestHeaders({
        raw,
        edits: edits({ set: [['kubeflow-userid', 'José']], remove: ['kubeflow_userid'], stripCookies: ['authservice_session'] }),
        host: 'upstream:8080',
        body: { contentLength: undefined, chunked: true },
        wire: wireValue,
      }),
    );
    assert.deepEqual(out.get('host'), ['upstream:8080']);
    assert.deepEqual(out.get('kubeflow-userid'), [wireValue('José')]);
    assert.equal(out.has('kubeflow_userid'), false);
    assert.equal(out.has('x-drop'), false);
    assert.equal(out.has('connection'), false);
    assert.equal(out.has('expect'), false);
    assert.deepEqual(out.get('cookie'), ['a=1']);
    // the client's Content-Length never travels next to a Transfer-Encoding Node re-encodes
    assert.equal(out.has('content-length'), false);
    assert.deepEqual(out.get('transfer-encoding'), ['chunked']);
    assert.deepEqual(out.get('accept'), ['text/html']);
    // untrusted peer: its forwarding facts are replaced, not appended to
    assert.deepEqual(out.get('x-forwarded-for'), ['10.1.2.3']);
    assert.deepEqual(out.get('x-forwarded-host'), ['app.example.com']);
    assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
    assert.equal(out.has('forwarded') || out.has('x-real-ip'), false);
    assert.deepEqual(out.get('x-request-id'), ['rid']);
  });

  it("appends to a trusted proxy's X-Forwarded-For and keeps its X-Forwarded-Host", () => {
    const out = byName(
      upstreamRequestHeaders({
        raw,
        edits: edits({ client: { peer: '127.0.0.1', trusted: true, proto: 'https', host: 'app.example.com' } }),
        host: 'upstream',
        body: { contentLength: '999', chunked: false },
        wire: wireValue,
        upgrade: 'websocket',
      }),
    );
    assert.deepEqual(out.get('x-forwarded-for'), ['6.6.6.6, 127.0.0.1']);
    assert.deepEqual(out.get('x-forwarded-host'), ['evil.example']);
    assert.deepEqual(out.get('x-forwarded-proto'), ['https']);
    assert.deepEqual(out.get('forwarded'), ['for=6.6.6.6']);
    assert.deepEqual(out.get('content-length'), ['999']);
    assert.deepEqual(out.get('connection'), ['upgrade']);
    assert.deepEqual(out.get('upgrade'), ['websocket']);
  });

  it("gives the client the end-to-end response headers plus the allow's response headers", () => {
    const up = ['Connection', 'content-length, x-l', 'X-L', '1', 'Content-Length', '3', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1'];
    const out = byName(clientResponseHeaders(up, edits({ responseHeaders: [['set-cookie', 'session=refreshed']] }), wireValue));
    assert.deepEqual(out.get('content-length'), ['3']);
    assert.deepEqual(out.get('set-cookie'), ['a=1', 'session=refreshed']);
    assert.equal(out.has('x-l') || out.has('transfer-encoding') || out.has('connection'), false);
  });
});

describe('upstream path', () => {
  it('prefixes the base path with one slash and puts the base query first', () => {
    assert.equal(upstreamPath(new URL('http://u:1'), '/a/b?x=1'), '/a/b?x=1');
    assert.equal(upstreamPath(new URL('http://u:1/base'), '/a?x=1'), '/base/a?x=1');
    assert.equal(upstreamPath(new URL('http://u:1/base/'), '/a'), '/base/a');
    assert.equal(upstreamPath(new URL('http://u:1/base?k=v'), '/a?x=1'), '/base/a?k=v&x=1');
    assert.equal(upstreamPath(new URL('http://u:1/base?k=v'), '/a'), '/base/a?k=v');
    // the raw path travels as sent: no decoding, no dot-segment resolution
    assert.equal(upstreamPath(new URL('http://u:1/'), '/a/%2e%2e/b'), '/a/%2e%2e/b');
  });
});
