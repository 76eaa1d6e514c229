/**
 * The gRPC front door against a real grpc-js client speaking our protos, with a small fake judge.
 */
import assert from 'node:assert/strict';
import { once, type EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { deny, type Decision } from '../../../src/judge/decision.js';
import { AUTHZ_V2, AUTHZ_V3, HEALTH, createGrpcJudge, loadDefinitions, serviceOf, type GrpcJudge } from '../../../src/judge/grpc/server.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createLogger, silentLogger } from '../../../src/obs/log.js';
import { Readiness } from '../../../src/obs/readiness.js';

const defs = loadDefinitions();
const checkV3 = serviceOf(defs, AUTHZ_V3)['Check']!;
const checkV2 = serviceOf(defs, AUTHZ_V2)['Check']!;
const healthCheck = serviceOf(defs, HEALTH)['Check']!;
const healthWatch = serviceOf(defs, HEALTH)['Watch']!;

/** CheckResponse as the client decodes it (proto-loader, enums as names, defaults filled). */
interface HeaderOpt {
  header: { key: string; value: string };
  append: { value: boolean } | null;
}
interface CheckResponse {
  status: { code: number };
  http_response?: string;
  ok_response?: { headers: HeaderOpt[]; headers_to_remove: string[]; response_headers_to_add: HeaderOpt[] } | null;
  denied_response?: { status: { code: string } | null; headers: HeaderOpt[]; body: string } | null;
}

const SECRET = 'Bearer sekrit-token-value';

/** The fake judge: the decision depends on the path; it records what it was asked. */
function fakeJudge(seen: JudgeRequest[]) {
  return (req: JudgeRequest): Promise<Decision> => {
    seen.push(req);
    switch (req.path) {
      case '/allow':
        return Promise.resolve({
          kind: 'allow',
          reason: 'authenticated',
          upstreamHeaders: [
            ['kubeflow-userid', 'alice@example.com'],
            ['kubeflow-groups', 'admins,devs'],
          ],
          removeHeaders: ['authorization', 'x-forged'],
          responseHeaders: [
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
            ['cache-control', 'no-store'],
          ],
        });
      case '/401':
        return Promise.resolve(deny(401, 'invalid-token', '', [['www-authenticate', 'Bearer error="invalid_token"']]));
      case '/403':
        return Promise.resolve(deny(403, 'forbidden', '{"error":"forbidden"}', [['content-type', 'application/json']]));
      case '/login':
        return Promise.resolve(
          deny(302, 'login', '', [
            ['location', 'https://idp.example/auth?state=s'],
            ['set-cookie', 'oidc_state=s; HttpOnly'],
          ]),
        );
      case '/reject':
        return Promise.reject(new Error('session store down'));
      case '/throw':
        throw new Error('judge bug');
      case '/unencodable': // a body protobufjs cannot turn into a string: the response fails to serialize
        return Promise.resolve(
          deny(403, 'forbidden', {
            toString: () => {
              throw new Error('no');
            },
          } as unknown as string),
        );
      default:
        return Promise.resolve({ ...deny(403, 'forbidden', 'no such case'), status: 404 });
    }
  };
}

function unary<Res>(client: grpc.Client, method: grpc.MethodDefinition<object, unknown>, req: object, raw = false): Promise<Res> {
  const deserialize = raw ? (b: Buffer) => b : method.responseDeserialize;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, deserialize, req, (err, value) => (err ? reject(err) : resolve(value as Res)));
  });
}

/** Top-level field numbers actually present on the wire. */
function wireFields(buf: Buffer): number[] {
  const r = protobuf.Reader.create(buf);
  const out: number[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    out.push(tag >>> 3);
    r.skipType(tag & 7);
  }
  return out;
}

const request = (path: string, headers: Record<string, string> = {}, http: object = {}) => ({
  attributes: {
    source: { address: { socket_address: { address: '10.9.8.7', port_value: 51000 } } },
    request: { http: { id: '4242', method: 'GET', path, host: 'app.example.com', scheme: 'https', headers: { authorization: SECRET, ...headers }, ...http } },
  },
});

const tuples = (opts: HeaderOpt[]) => opts.map((o) => [o.header.key, o.header.value, o.append?.value]);

describe('ext_authz Check over gRPC', () => {
  const seen: JudgeRequest[] = [];
  const logLines: string[] = [];
  let server: GrpcJudge;
  let client: grpc.Client;

  before(async () => {
    const log = createLogger('info', { write: (line: string) => void logLines.push(line) });
    server = createGrpcJudge({ judge: fakeJudge(seen), readiness: new Readiness(), log });
    const port = await server.listen('127.0.0.1', 0);
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('allows with identity headers set (append false), removals and response headers; one oneof member on the wire', async () => {
    const res = await unary<CheckResponse>(client, checkV3, request('/allow'));
    assert.equal(res.status.code, 0);
    assert.equal(res.http_response, 'ok_response');
    assert.ok(res.ok_response);
    assert.deepEqual(tuples(res.ok_response.headers), [
      ['kubeflow-userid', 'alice@example.com', false],
      ['kubeflow-groups', 'admins,devs', false],
    ]);
    assert.deepEqual(res.ok_response.headers_to_remove, ['authorization', 'x-forged']);
    assert.deepEqual(tuples(res.ok_response.response_headers_to_add), [
      ['set-cookie', 'a=1', true],
      ['set-cookie', 'b=2', true],
      ['cache-control', 'no-store', false],
    ]);
    const raw = await unary<Buffer>(client, checkV3, request('/allow'), true);
    assert.deepEqual(wireFields(raw), [1, 3]);
  });

  it('denies 401 with a challenge (UNAUTHENTICATED)', async () => {
    const res = await unary<CheckResponse>(client, checkV3, request('/401'));
    assert.equal(res.status.code, 16);
    assert.equal(res.denied_response?.status?.code, 'Unauthorized');
    assert.deepEqual(tuples(res.denied_response.headers), [['www-authenticate', 'Bearer error="invalid_token"', false]]);
    assert.deepEqual(wireFields(await unary<Buffer>(client, checkV3, request('/401'), true)), [1, 2]);
  });

  it('denies 403 with a body (PERMISSION_DENIED)', async () => {
    const res = await unary<CheckResponse>(client, checkV3, request('/403'));
    assert.equal(res.status.code, 7);
    assert.equal(res.http_response, 'denied_response');
    assert.equal(res.denied_response?.status?.code, 'Forbidden');
    assert.equal(res.denied_response.body, '{"error":"forbidden"}');
    assert.deepEqual(tuples(res.denied_response.headers), [['content-type', 'application/json', false]]);
  });

  it('redirects to login with 302, location and set-cookie', async () => {
    const res = await unary<CheckResponse>(client, checkV3, request('/login'));
    assert.equal(res.status.code, 16);
    assert.equal(res.denied_response?.status?.code, 'Found');
    assert.deepEqual(tuples(res.denied_response.headers), [
      ['location', 'https://idp.example/auth?state=s', false],
      ['set-cookie', 'oidc_state=s; HttpOnly', false],
    ]);
  });

  it('answers 503 (status 14), never an error, when the judge rejects or throws or the answer cannot be encoded; logs without secrets', async () => {
    for (const path of ['/reject', '/throw', '/unencodable']) {
      const res = await unary<CheckResponse>(client, checkV3, request(path, { cookie: 'authservice_session=sekrit-cookie', 'x-request-id': `rid${path}` }));
      assert.equal(res.status.code, 14, path);
      assert.equal(res.denied_response?.status?.code, 'ServiceUnavailable');
      assert.equal(res.denied_response.body, 'Service unavailable');
      if (path === '/unencodable') continue; // logged by the serializer, which has no request id
      const line = logLines.find((l) => l.includes(`rid${path}`));
      assert.ok(line, `no log line for ${path}`);
      assert.match(line, /judge failed/);
    }
    assert.ok(logLines.some((l) => l.includes('did not encode')));
    assert.ok(
      logLines.every((l) => !l.includes('sekrit')),
      'a secret reached the log',
    );
  });

  it('serves the v2 service name with the same answers', async () => {
    for (const path of ['/allow', '/login']) {
      const v2 = await unary<Buffer>(client, checkV2, request(path), true);
      const v3 = await unary<Buffer>(client, checkV3, request(path), true);
      assert.deepEqual(v2, v3, path);
    }
    assert.equal(seen.at(-2)?.via, 'grpc-v2');
    assert.equal(seen.at(-1)?.via, 'grpc');
  });

  it('denies a check without an HTTP request (TCP filter) without asking the judge', async () => {
    const before = seen.length;
    const res = await unary<CheckResponse>(client, checkV3, {
      attributes: { source: { address: { socket_address: { address: '10.0.0.1', port_value: 1 } } } },
    });
    assert.equal(res.status.code, 7);
    assert.equal(res.denied_response?.status?.code, 'Forbidden');
    assert.equal(res.denied_response.body, '');
    assert.equal(seen.length, before);
  });

  it('gives the judge a mapped request: pseudo-headers, x-request-id, scheme fallback', async () => {
    await unary(client, checkV3, {
      attributes: {
        source: { address: { socket_address: { address: '192.0.2.1', port_value: 3000 } } },
        request: {
          http: {
            id: '77',
            method: 'post',
            headers: { ':authority': 'App.Example.COM', ':path': '/401?q=1', 'x-forwarded-proto': 'https', 'x-request-id': 'abc-123' },
          },
        },
      },
    });
    const req = seen.at(-1);
    assert.ok(req);
    assert.deepEqual(
      {
        method: req.method,
        scheme: req.scheme,
        host: req.host,
        path: req.path,
        peer: req.peer,
        requestId: req.requestId,
        denyStyle: req.denyStyle,
        via: req.via,
      },
      {
        method: 'POST',
        scheme: 'https',
        host: 'app.example.com',
        path: '/401?q=1',
        peer: '192.0.2.1',
        requestId: 'abc-123',
        denyStyle: 'redirect',
        via: 'grpc',
      },
    );
    assert.equal(req.headers[':authority'], 'App.Example.COM');
  });

  it('gives the judge headers built from header_map (encode_raw_headers)', async () => {
    await unary(client, checkV3, {
      attributes: {
        request: {
          http: {
            id: '88',
            method: 'GET',
            path: '/403',
            host: 'h.example',
            header_map: {
              headers: [
                { key: 'cookie', raw_value: Buffer.from('a=1') },
                { key: 'cookie', raw_value: Buffer.from('b=2') },
                { key: 'accept', raw_value: Buffer.from('text/html') },
                { key: 'accept', raw_value: Buffer.from('*/*') },
              ],
            },
          },
        },
      },
    });
    const req = seen.at(-1);
    assert.ok(req);
    assert.equal(req.headers['cookie'], 'a=1; b=2');
    assert.equal(req.headers['accept'], 'text/html, */*');
    assert.equal(req.requestId, '88');
    assert.equal(req.scheme, 'http');
    assert.match(req.peer, /127\.0\.0\.1/, 'falls back to the transport peer');
  });
});

describe('grpc.health.v1.Health', () => {
  const readiness = new Readiness();
  let server: GrpcJudge;
  let client: grpc.Client;

  before(async () => {
    server = createGrpcJudge({ judge: fakeJudge([]), readiness, log: silentLogger });
    client = new grpc.Client(`127.0.0.1:${await server.listen('127.0.0.1', 0)}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  const status = async (service: string) => (await unary<{ status: string }>(client, healthCheck, { service })).status;

  it('Check follows readiness for the known services', async () => {
    for (const service of ['', AUTHZ_V3, AUTHZ_V2]) assert.equal(await status(service), 'NOT_SERVING', service);
    readiness.set(true);
    for (const service of ['', AUTHZ_V3, AUTHZ_V2]) assert.equal(await status(service), 'SERVING', service);
    readiness.set(false, 'stopping');
    assert.equal(await status(''), 'NOT_SERVING');
  });

  it('Check of an unknown service is NOT_FOUND', async () => {
    await assert.rejects(status('no.such.Service'), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  });

  it('Watch streams the current status, then every change, and unsubscribes when cancelled', async () => {
    const call = client.makeServerStreamRequest(healthWatch.path, healthWatch.requestSerialize, healthWatch.responseDeserialize, { service: AUTHZ_V3 });
    call.on('error', () => {});
    const updates = call[Symbol.asyncIterator]() as AsyncIterator<{ status: string }>;
    const next = async () => (await updates.next()).value?.status;
    assert.equal(await next(), 'NOT_SERVING');
    assert.equal(readiness.listenerCount('change'), 1);
    readiness.set(true);
    assert.equal(await next(), 'SERVING');
    readiness.set(false, 'draining');
    assert.equal(await next(), 'NOT_SERVING');
    const unsubscribed = once(readiness as EventEmitter, 'removeListener');
    call.cancel();
    await unsubscribed;
    assert.equal(readiness.listenerCount('change'), 0);
  });

  it('Watch of an unknown service reports SERVICE_UNKNOWN; shutdown ends open watches', async () => {
    const call = client.makeServerStreamRequest(healthWatch.path, healthWatch.requestSerialize, healthWatch.responseDeserialize, { service: 'nope' });
    const first = once(call, 'data');
    assert.deepEqual((await first)[0], { status: 'SERVICE_UNKNOWN' });
    const known = client.makeServerStreamRequest(healthWatch.path, healthWatch.requestSerialize, healthWatch.responseDeserialize, { service: '' });
    await once(known, 'data');
    const ended = Promise.all([once(call, 'end'), once(known, 'end')]);
    await server.shutdown(1000);
    await ended;
    assert.equal(readiness.listenerCount('change'), 0);
  });
});
