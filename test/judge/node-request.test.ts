// One request builder for every door that receives a Node request (HTTP front door, web server,
// ingress forwarder): one trust rule for X-Forwarded-Proto, one bound on x-request-id — and the
// gRPC door bounds the id the same way.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { toJudgeRequest } from '../../src/judge/grpc/map.js';
import { createHttpMap } from '../../src/judge/http/map.js';
import { judgeRequestOf, MAX_REQUEST_ID, requestIdOf, schemeOf } from '../../src/judge/node-request.js';
import { trustMatcher } from '../../src/net/cidr.js';

const fresh = (): string => 'new-id';

describe('request builder', () => {
  it('keeps a short printable x-request-id and replaces every other', () => {
    assert.equal(requestIdOf('4f1c-abc', fresh), '4f1c-abc');
    assert.equal(requestIdOf('r'.repeat(MAX_REQUEST_ID), fresh), 'r'.repeat(MAX_REQUEST_ID));
    for (const bad of [undefined, '', 'r'.repeat(MAX_REQUEST_ID + 1), 'a b', 'a\tb', 'line\nbreak', 'caf\u00e9', 'x\u0000y'])
      assert.equal(requestIdOf(bad, fresh), 'new-id', JSON.stringify(bad));
  });

  it('believes X-Forwarded-Proto from a trusted proxy only, before the socket; the first entry counts', () => {
    assert.equal(schemeOf({ 'x-forwarded-proto': 'https' }, true, false), 'https');
    assert.equal(schemeOf({ 'x-forwarded-proto': 'http' }, true, true), 'http', 'a trusted proxy that re-encrypts still knows the client used http');
    assert.equal(schemeOf({ 'x-forwarded-proto': 'https, http' }, true, false), 'https');
    assert.equal(schemeOf({ 'x-forwarded-proto': 'https' }, false, false), 'http', 'an untrusted peer is not believed');
    assert.equal(schemeOf({ 'x-forwarded-proto': 'http' }, false, true), 'https');
    assert.equal(schemeOf({ 'x-forwarded-proto': 'gopher' }, true, true), 'https');
  });

  it('the gRPC door bounds x-request-id the same way', () => {
    const check = (rid: string) => ({ attributes: { request: { http: { method: 'GET', host: 'a.example', path: '/', headers: { 'x-request-id': rid } } } } });
    assert.equal(toJudgeRequest(check('short-id'), 'grpc')?.requestId, 'short-id');
    const long = toJudgeRequest(check('x'.repeat(5000)), 'grpc')!.requestId;
    assert.match(long, /^[0-9a-f-]{36}$/, 'a 5 000-character id is replaced by a fresh one');
    assert.match(toJudgeRequest(check('a\u0001b'), 'grpc')!.requestId, /^[0-9a-f-]{36}$/);
  });

  it('the HTTP front door, the web server and the forwarder build the same request from the same bytes', async () => {
    const seen: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      seen.push(req);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const headers = { host: 'App.Example.com', 'x-forwarded-proto': 'https', 'x-request-id': 'x'.repeat(300), cookie: 'a=1' };
      await new Promise<void>((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port, path: '/app/data?q=1', method: 'post', headers }, (res) => res.resume().on('end', resolve));
        r.on('error', reject);
        r.end();
      });
      const req = seen[0]!;
      for (const trusted of [true, false]) {
        const trust = trustMatcher(trusted ? ['127.0.0.1/32'] : ['10.0.0.0/8']);
        const web = judgeRequestOf(req, { trust, newId: fresh, via: 'web', denyStyle: 'redirect' }).request;
        const forwarder = judgeRequestOf(req, { trust, newId: fresh, via: 'forwarder', denyStyle: 'redirect' }).request;
        const mapped = createHttpMap(
          { verifyPath: '/verify', forwardAuthPath: '/forward-auth', checkPathPrefix: '', trustedProxies: trusted ? ['127.0.0.1/32'] : ['10.0.0.0/8'] },
          fresh,
        ).map({
          method: req.method,
          url: req.url,
          rawHeaders: req.rawHeaders,
          peer: req.socket.remoteAddress,
        });
        assert.equal(mapped.kind, 'judge');
        const door = mapped.kind === 'judge' ? mapped.request : undefined;
        for (const r of [web, forwarder, door!]) {
          assert.equal(r.scheme, trusted ? 'https' : 'http');
          assert.equal(r.requestId, 'new-id');
          assert.equal(r.host, 'app.example.com');
          assert.equal(r.method, 'POST');
          assert.equal(r.path, '/app/data?q=1');
          assert.deepEqual({ ...r.headers }, { ...web.headers });
        }
      }
    } finally {
      server.close();
    }
  });
});
