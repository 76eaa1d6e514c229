/**
 * Hostile gRPC at the ext_authz port of the assembled service: bytes that are no CheckRequest
 * (garbage, truncated, wrong wire types, 200-level nesting in `metadata_context`), a message over
 * GRPC_MAX_RECEIVE_BYTES (16 MiB; a 4.5 MiB `with_request_body` and a 96 KiB header set get decisions), an empty message, a request with a 20 000-entry header map and NUL, CR/LF and
 * invalid UTF-8 in it. Each gets a deny — never an allow, and never a gRPC error (which Envoy's
 * `failure_mode_allow: true` turns into an allow) except RESOURCE_EXHAUSTED for the oversized
 * message, which grpc-js refuses before we see it — and the server keeps judging afterwards.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { ALL_IDENTITY_SPELLINGS, checkRequest, SKIP_REMOVES, startJudge, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { AUTHZ_V3, loadDefinitions, serviceOf } from '../../src/judge/grpc/server.js';
import { protoDir } from '../../src/paths.js';
import { API } from './kit.js';

const CHECK = `/${AUTHZ_V3}/Check`;
const defs = loadDefinitions({ keepCase: true, longs: String, defaults: true, oneofs: true, includeDirs: [protoDir] });
const check = serviceOf(defs, AUTHZ_V3)['Check']!;

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), varint(body.length), body]);

/** A CheckRequest whose metadata_context holds a google.protobuf.Value nested `depth` lists deep. */
function nested(depth: number): Buffer {
  let v: Buffer = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) v = field(0x32, field(0x0a, v));
  const struct = field(0x0a, Buffer.concat([field(0x0a, Buffer.from('k')), field(0x12, v)]));
  const metadata = field(0x0a, Buffer.concat([field(0x0a, Buffer.from('filter')), field(0x12, struct)]));
  return field(0x0a, field(0x5a, metadata));
}

describe('hostile gRPC messages', () => {
  let op: TestOp;
  let judge: Judged;
  let raw: grpc.Client;
  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer);
    raw = new grpc.Client(`127.0.0.1:${judge.app.ports.grpc}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  });
  after(async () => {
    raw.close();
    await judge.stop();
    await op.stop();
  });

  /** Sends `bytes` as the request message; resolves with the status code and, on success, the decoded response. */
  const send = (bytes: Buffer): Promise<{ code: number; response?: { status: { code: number }; ok_response?: unknown } }> =>
    new Promise((resolve) => {
      raw.makeUnaryRequest(
        CHECK,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (err, value) => {
          if (err) return resolve({ code: err.code });
          resolve({ code: 0, response: check.responseDeserialize(value!) as { status: { code: number }; ok_response?: unknown } });
        },
      );
    });
  const stillJudging = async (): Promise<void> => {
    const r = await judge.grpc.check('/api', API);
    assert.equal(r.denied_response?.status?.code, 401);
  };

  it('bytes that are no CheckRequest: a 403 deny (not a gRPC error fail-open could turn into an allow), and the next check is judged', async () => {
    const good = check.requestSerialize(checkRequest('/api', API));
    const cases = [
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      good.subarray(0, Math.floor(good.length / 2)),
      Buffer.from([0x0a, 0x7f, 0x01]),
      Buffer.from([0x0b, 0x01]),
      Buffer.concat([Buffer.from([0x0a]), varint(1 << 30)]),
      nested(200),
    ];
    for (const bytes of cases) {
      const r = await send(bytes);
      const what = bytes.subarray(0, 8).toString('hex');
      assert.equal(r.code, 0, `a gRPC error for ${what}`);
      assert.equal(r.response?.status.code, 7, `PERMISSION_DENIED for ${what}`);
      assert.equal(r.response?.ok_response ?? undefined, undefined);
      assert.equal((r.response as { denied_response?: { status?: { code?: number } } }).denied_response?.status?.code, 403);
      await stillJudging();
    }
  });

  it('nesting within the decoder’s limit decodes and is denied like any check without credentials', async () => {
    const r = await send(nested(8));
    assert.equal(r.code, 0);
    assert.equal(r.response?.status.code, 7, 'no HTTP request in it: PERMISSION_DENIED');
  });

  it('an empty message is a check without an HTTP request: denied (403), not allowed', async () => {
    const r = await send(Buffer.alloc(0));
    assert.equal(r.code, 0);
    assert.equal(r.response?.status.code, 7);
    assert.equal(r.response?.ok_response ?? undefined, undefined);
  });

  /** A CheckRequest as Envoy builds it with `with_request_body` (the body in `raw_body`). */
  const withBody = (path: string, bytes: number, headers: Record<string, string> = API): Buffer => {
    const msg = checkRequest(path, { ...headers, 'content-length': String(bytes) }, { method: 'POST' }) as {
      attributes: { request: { http: Record<string, unknown> } };
    };
    msg.attributes.request.http['raw_body'] = Buffer.alloc(bytes, 0x61);
    return check.requestSerialize(msg);
  };

  it('a 4.5 MiB request body (Envoy with_request_body) gets a decision, not RESOURCE_EXHAUSTED (grpc-js defaults to 4 MiB)', async () => {
    const skipped = await send(withBody('/authservice/site/homepage', 4.5 * 1024 * 1024));
    assert.equal(skipped.code, 0, `a gRPC error: ${skipped.code}`);
    assert.equal(skipped.response?.status.code, 0, 'allowed (skipped path)');
    const denied = await send(withBody('/api', 4.5 * 1024 * 1024));
    assert.equal(denied.code, 0, `a gRPC error: ${denied.code}`);
    assert.equal((denied.response as { denied_response?: { status?: { code?: number } } }).denied_response?.status?.code, 401);
  });

  it('a large header set as Envoy can build it (96 KiB in 200 headers) gets a decision', async () => {
    const headers: Record<string, string> = { ...API };
    for (let i = 0; i < 200; i++) headers[`x-envoy-h-${i}`] = 'v'.repeat(480);
    const r = await judge.grpc.check('/authservice/site/homepage', headers);
    assert.equal(r.status.code, 0);
    const denied = await judge.grpc.check('/api', headers);
    assert.equal(denied.denied_response?.status?.code, 401);
  });

  it('a message over GRPC_MAX_RECEIVE_BYTES (16 MiB): RESOURCE_EXHAUSTED, and the server carries on', async () => {
    const r = await send(withBody('/api', 17 * 1024 * 1024));
    assert.equal(r.code, grpc.status.RESOURCE_EXHAUSTED);
    await stillJudging();
  });

  it('GRPC_MAX_RECEIVE_BYTES raises the limit: 17 MiB under 32 MiB gets a decision', async () => {
    const small = await startJudge(op.issuer, { env: { GRPC_MAX_RECEIVE_BYTES: String(32 * 1024 * 1024) } });
    const client = new grpc.Client(`127.0.0.1:${small.app.ports.grpc}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
    try {
      const code = await new Promise<number>((resolve) =>
        client.makeUnaryRequest(
          CHECK,
          (b: Buffer) => b,
          (b: Buffer) => b,
          withBody('/api', 17 * 1024 * 1024),
          (err) => resolve(err ? err.code : 0),
        ),
      );
      assert.equal(code, 0, `a gRPC error: ${code}`);
    } finally {
      client.close();
      await small.stop();
    }
  });

  it('20 000 headers, forged identities among them, NUL, CR/LF and invalid UTF-8: judged (401), skipped paths still strip every spelling', async () => {
    const headers: Record<string, string> = { ...API };
    for (let i = 0; i < 20_000; i++) headers[`x-h-${i}`] = `v${i}`;
    for (const n of ALL_IDENTITY_SPELLINGS) headers[n] = 'root@example.com';
    headers['x-nul'] = 'a\u0000b';
    headers['x-crlf'] = 'a\r\nkubeflow-userid: root';
    headers['x-bad-utf8'] = '\ud800';
    const denied = await judge.grpc.check('/api', headers);
    assert.equal(denied.denied_response?.status?.code, 401);
    const skipped = await judge.grpc.check('/authservice/site/homepage', headers);
    assert.equal(skipped.status.code, 0);
    assert.deepEqual([...skipped.ok_response!.headers_to_remove].sort(), SKIP_REMOVES);
    assert.deepEqual(skipped.ok_response!.headers, []);
  });
});
