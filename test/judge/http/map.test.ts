import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Allow } from '../../../src/judge/decision.js';
import { createHttpMap, replyFor } from '../../../src/judge/http/map.js';
import { joinHeaders, joinRawHeaders } from '../../../src/judge/node-request.js';
import { requestIds } from '../../../src/judge/request.js';

/** The IncomingMessage node makes of a request with these header lines (repeats and case kept). */
async function received(lines: readonly (readonly [string, string])[]): Promise<IncomingMessage> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const got = once(server, 'request') as Promise<[IncomingMessage, { end(): void }]>;
    const req = request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/x', headers: lines.flat() });
    req.on('error', () => undefined);
    req.end();
    const [msg, res] = await got;
    res.end();
    return msg;
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

describe('HTTP check mapping: headers from rawHeaders', () => {
  it('gives the record joinHeaders(headersDistinct) gives: lower-case names, repeats joined (cookie with "; ")', async () => {
    const msg = await received([
      ['Host', 'App.Example'],
      ['Cookie', 'a=1'],
      ['X-Multi', 'one'],
      ['cookie', 'b=2'],
      ['x-multi', 'two'],
      ['AUTHORIZATION', 'Bearer t1'],
      ['Authorization', 'Bearer t2'],
      ['X-Empty', ''],
    ]);
    const out = Object.create(null) as Record<string, string>;
    assert.equal(joinRawHeaders(msg.rawHeaders, out), 1);
    assert.deepEqual({ ...out }, { ...joinHeaders(msg.headersDistinct) });
    assert.equal(out['cookie'], 'a=1; b=2');
    assert.equal(out['authorization'], 'Bearer t1, Bearer t2', 'two credentials are both seen (and rejected), never just the first');
    assert.equal(Object.getPrototypeOf(out), null);
  });

  it('counts Host headers, so two of them are refused', async () => {
    const msg = await received([
      ['Host', 'a.example'],
      ['host', 'b.example'],
    ]);
    assert.equal(joinRawHeaders(msg.rawHeaders, Object.create(null) as Record<string, string>), 2);
    const map = createHttpMap({ verifyPath: '/verify', forwardAuthPath: '/fa', checkPathPrefix: '', trustedProxies: [] }, requestIds());
    const m = map.map({ method: 'GET', url: '/x', rawHeaders: msg.rawHeaders, peer: '127.0.0.1' });
    assert.equal(m.kind === 'reply' && m.reply.status, 400);
  });

  it('builds every request with the same keys in the same order, whatever the mode', () => {
    const map = createHttpMap({ verifyPath: '/verify', forwardAuthPath: '/fa', checkPathPrefix: '', trustedProxies: ['127.0.0.1'] }, requestIds());
    const raw = ['Host', 'app.example', 'X-Forwarded-Uri', '/u', 'X-Original-URI', '/o'];
    const keys = ['/app', '/verify/app', '/fa'].map((url) => {
      const m = map.map({ method: 'GET', url, rawHeaders: raw, peer: '127.0.0.1' });
      assert.equal(m.kind, 'judge', url);
      return m.kind === 'judge' ? Object.keys(m.request) : [];
    });
    assert.deepEqual(keys[1], keys[0]);
    assert.deepEqual(keys[2], keys[0]);
  });
});

describe('request ids for checks without x-request-id', () => {
  it('are UUID-shaped (version 4 layout) and unique, within and across generators', () => {
    const a = requestIds();
    const b = requestIds();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      for (const id of [a(), b()]) {
        assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        ids.add(id);
      }
    }
    assert.equal(ids.size, 20_000);
  });
});

describe('allow replies for shared header lists', () => {
  const upstream = Object.freeze([
    ['kubeflow-userid', 'alice'],
    ['auth-method', 'cookie'],
  ] as const);
  const remove = Object.freeze(['kubeflow_userid', 'auth_method']);
  const none = Object.freeze([] as const);
  const allow = (more: Partial<Allow> = {}): Allow => ({
    kind: 'allow',
    upstreamHeaders: upstream,
    removeHeaders: remove,
    responseHeaders: none,
    reason: 'authenticated',
    ...more,
  });

  it('are made once per mode and lists, frozen, and the same as a fresh reply', () => {
    const http = replyFor('http', allow());
    assert.equal(replyFor('http', allow()), http);
    assert.ok(Object.isFrozen(http) && Object.isFrozen(http.headers));
    assert.deepEqual(http, { status: 200, headers: [...upstream, ['x-envoy-auth-headers-to-remove', 'kubeflow_userid, auth_method']], body: '' });
    const verify = replyFor('verify', allow());
    assert.deepEqual(verify, { status: 204, headers: [...upstream], body: '' }, 'nginx gets no Envoy header');
    assert.equal(replyFor('verify', allow()), verify);
    const other = replyFor('http', allow({ responseHeaders: Object.freeze([['set-cookie', 'a=1']] as const) }));
    assert.notEqual(other, http);
    assert.deepEqual(other.headers.slice(2, 3), [['set-cookie', 'a=1']]);
  });

  it('are fresh (and not frozen) when a list may still change', () => {
    const mutable = allow({ upstreamHeaders: [['kubeflow-userid', 'bob']] });
    const a = replyFor('http', mutable);
    assert.notEqual(replyFor('http', mutable), a);
    assert.ok(!Object.isFrozen(a));
  });
});
