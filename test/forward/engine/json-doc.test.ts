import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ifNoneMatchMatches, jsonDocument, jsonDocumentOf, serveJsonDocument } from '../../../src/forward/engine/json-doc.js';
import { send } from '../../helpers/http-send.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('jsonDocument', () => {
  it('pretty-prints with 2 spaces keeping key order; the ETag is the quoted hex SHA-256 of the body', () => {
    const doc = jsonDocument({ z: 1, a: { y: [1, 2], b: '<&>' } });
    assert.equal(doc.body.toString(), '{\n  "z": 1,\n  "a": {\n    "y": [\n      1,\n      2\n    ],\n    "b": "<&>"\n  }\n}');
    assert.equal(doc.etag, `"${createHash('sha256').update(doc.body).digest('hex')}"`);
    assert.equal(jsonDocument({ z: 1, a: 2 }, false).body.toString(), '{"z":1,"a":2}');
  });

  it('same content → same ETag; other content → another one', () => {
    assert.equal(jsonDocument({ a: 1 }).etag, jsonDocument({ a: 1 }).etag);
    assert.equal(jsonDocumentOf(Buffer.from('{"a":1}')).etag, jsonDocument({ a: 1 }, false).etag);
    assert.notEqual(jsonDocument({ a: 1 }).etag, jsonDocument({ a: 2 }).etag);
  });

  it('If-None-Match: exact tag, one of a list, weak form of the tag, or * match; others do not', () => {
    const e = '"abc"';
    assert.ok(ifNoneMatchMatches('"abc"', e));
    assert.ok(ifNoneMatchMatches('"x", "abc"', e));
    assert.ok(ifNoneMatchMatches('W/"abc"', e));
    assert.ok(ifNoneMatchMatches('*', e));
    assert.ok(!ifNoneMatchMatches('"abcd"', e));
    assert.ok(!ifNoneMatchMatches(undefined, e));
    assert.ok(!ifNoneMatchMatches('abc', e));
  });
});

describe('serveJsonDocument over a real socket', () => {
  const doc = jsonDocument({ keys: [{ kid: 'k1' }] });
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => serveJsonDocument(req, res, { ...doc, maxAgeSeconds: 3600, nowMs: NOW }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('GET → 200 with Content-Type, Cache-Control, Expires and ETag', async () => {
    const r = await send(port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['cache-control'], 'public, max-age=3600');
    assert.equal(r.headers['expires'], 'Thu, 01 Jan 2026 13:00:00 GMT');
    assert.equal(r.headers['etag'], doc.etag);
    assert.equal(r.headers['content-length'], String(doc.body.length));
    assert.equal(r.body, doc.body.toString());
  });

  it('HEAD → the same headers, no body', async () => {
    const r = await send(port, '/', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['etag'], doc.etag);
    assert.equal(r.headers['content-length'], String(doc.body.length));
    assert.equal(r.body, '');
  });

  it('a matching If-None-Match → 304 with the validators and freshness, no body; a stale tag → 200', async () => {
    const r = await send(port, '/', { headers: { 'if-none-match': doc.etag } });
    assert.equal(r.status, 304);
    assert.equal(r.body, '');
    assert.equal(r.headers['etag'], doc.etag);
    assert.equal(r.headers['cache-control'], 'public, max-age=3600');
    assert.equal(r.headers['expires'], 'Thu, 01 Jan 2026 13:00:00 GMT');
    assert.equal((await send(port, '/', { headers: { 'if-none-match': '"old"' } })).status, 200);
  });

  it('other methods → 405 with Allow', async () => {
    const r = await send(port, '/', { method: 'POST', body: '{}' });
    assert.equal(r.status, 405);
    assert.equal(r.headers['allow'], 'GET, HEAD');
  });
});
