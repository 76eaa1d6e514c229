import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deny, type Allow } from '../../../src/judge/decision.js';
import { AUTHZ_V3, SERVER_LOAD_OPTIONS, loadDefinitions, serviceOf } from '../../../src/judge/grpc/server.js';
import { NO_HTTP_RESPONSE, UNAVAILABLE_RESPONSE, rpcCodeFor, toCheckResponse, toJudgeRequest, type CheckRequestMsg } from '../../../src/judge/grpc/map.js';

const http = (fields: Record<string, unknown>, source?: unknown): CheckRequestMsg =>
  ({ attributes: { source: source ?? null, request: { http: fields } } }) as CheckRequestMsg;

const allow = (a: Partial<Allow> = {}): Allow => ({
  kind: 'allow',
  upstreamHeaders: [],
  removeHeaders: [],
  responseHeaders: [],
  reason: 'authenticated',
  ...a,
});

describe('toJudgeRequest', () => {
  it('takes method, scheme, host and path from the HTTP attributes', () => {
    const req = toJudgeRequest(
      http({ method: 'get', scheme: 'HTTPS', host: 'App.Example.COM:8443', path: '/a/%2e%2e/b?x=1', id: '77', headers: { 'x-request-id': 'rid-1' } }),
      'grpc',
    );
    assert.ok(req);
    assert.equal(req.method, 'GET');
    assert.equal(req.scheme, 'https');
    assert.equal(req.host, 'app.example.com:8443');
    assert.equal(req.path, '/a/%2e%2e/b?x=1');
    assert.equal(req.requestId, 'rid-1');
    assert.equal(req.denyStyle, 'redirect');
    assert.equal(req.via, 'grpc');
  });

  it('falls back to pseudo-headers, x-forwarded-proto, http.id and defaults', () => {
    const req = toJudgeRequest(
      http({ method: '', scheme: '', host: '', path: '', id: '9', headers: { ':authority': 'H.example', ':path': '/p', 'x-forwarded-proto': 'HTTPS, http' } }),
      'grpc-v2',
    );
    assert.ok(req);
    assert.deepEqual([req.method, req.scheme, req.host, req.path, req.requestId, req.via], ['GET', 'https', 'h.example', '/p', '9', 'grpc-v2']);
    const bare = toJudgeRequest(http({ headers: { host: 'plain.example' } }), 'grpc');
    assert.ok(bare);
    assert.deepEqual([bare.scheme, bare.host, bare.path], ['http', 'plain.example', '/']);
    assert.match(bare.requestId, /^[0-9a-f-]{36}$/);
  });

  it('lower-cases header names into an object without a prototype', () => {
    const req = toJudgeRequest(http({ headers: { 'X-Mixed': 'v', cookie: 'a=1; b=2' } }), 'grpc');
    assert.ok(req);
    assert.equal(req.headers['x-mixed'], 'v');
    assert.equal(req.headers['constructor'], undefined);
    assert.equal(Object.getPrototypeOf(req.headers), null);
  });

  it('builds headers from header_map (encode_raw_headers), joining duplicates', () => {
    const req = toJudgeRequest(
      http({
        headers: {},
        header_map: {
          headers: [
            { key: 'Cookie', raw_value: Buffer.from('a=1') },
            { key: 'cookie', raw_value: Buffer.from('b=2') },
            { key: 'x-a', raw_value: Buffer.from('1') },
            { key: 'X-A', raw_value: Buffer.from('2') },
            { key: 'x-utf8', raw_value: Buffer.from('héllo') },
            { key: 'x-plain', value: 'p', raw_value: Buffer.alloc(0) },
            { key: ':authority', raw_value: Buffer.from('raw.example') },
          ],
        },
      }),
      'grpc',
    );
    assert.ok(req);
    assert.equal(req.headers['cookie'], 'a=1; b=2');
    assert.equal(req.headers['x-a'], '1, 2');
    assert.equal(req.headers['x-utf8'], 'héllo');
    assert.equal(req.headers['x-plain'], 'p');
    assert.equal(req.host, 'raw.example');
  });

  it('takes the peer from the source socket address, a pipe path, or the fallback', () => {
    const sock = toJudgeRequest(http({}, { address: { socket_address: { address: '10.1.2.3', port_value: 5 } } }), 'grpc', 'ipv4:127.0.0.1:1');
    const pipe = toJudgeRequest(http({}, { address: { pipe: { path: '/run/x.sock' } } }), 'grpc');
    const none = toJudgeRequest(http({}), 'grpc', 'ipv4:127.0.0.1:1');
    assert.deepEqual([sock?.peer, pipe?.peer, none?.peer], ['10.1.2.3', '/run/x.sock', 'ipv4:127.0.0.1:1']);
  });

  it('maps a check without an HTTP request (TCP filter) to no request', () => {
    assert.equal(toJudgeRequest({ attributes: { source: null, request: null } }, 'grpc'), undefined);
    assert.equal(toJudgeRequest({ attributes: { request: { http: null } } }, 'grpc'), undefined);
    assert.equal(toJudgeRequest({}, 'grpc'), undefined);
  });
});

describe('toCheckResponse', () => {
  it('allows with set-headers, removals and response headers (set-cookie appended)', () => {
    const res = toCheckResponse(
      allow({
        upstreamHeaders: [['kubeflow-userid', 'alice']],
        removeHeaders: ['authorization'],
        responseHeaders: [
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
          ['cache-control', 'no-store'],
        ],
      }),
    );
    assert.deepEqual(res, {
      status: { code: 0 },
      ok_response: {
        headers: [{ header: { key: 'kubeflow-userid', value: 'alice' }, append: { value: false } }],
        headers_to_remove: ['authorization'],
        response_headers_to_add: [
          { header: { key: 'set-cookie', value: 'a=1' }, append: { value: true } },
          { header: { key: 'set-cookie', value: 'b=2' }, append: { value: true } },
          { header: { key: 'cache-control', value: 'no-store' }, append: { value: false } },
        ],
      },
    });
    assert.ok(!('denied_response' in res));
  });

  it('denies with a numeric status code, the HTTP status and set-headers', () => {
    const res = toCheckResponse(
      deny(302, 'login', '', [
        ['location', 'https://idp/'],
        ['set-cookie', 's=1'],
      ]),
    );
    assert.deepEqual(res, {
      status: { code: 16 },
      denied_response: {
        status: { code: 302 },
        headers: [
          { header: { key: 'location', value: 'https://idp/' }, append: { value: false } },
          { header: { key: 'set-cookie', value: 's=1' }, append: { value: false } },
        ],
        body: '',
      },
    });
    assert.ok(!('ok_response' in res));
  });

  it('maps HTTP deny statuses to google.rpc codes', () => {
    const table: Array<[number, number]> = [
      [401, 16],
      [302, 16],
      [303, 16],
      [307, 16],
      [403, 7],
      [400, 7],
      [404, 7],
      [429, 7],
      [503, 14],
      [500, 14],
      [504, 14],
    ];
    for (const [http, rpc] of table) {
      assert.equal(rpcCodeFor(http), rpc, String(http));
      assert.equal(toCheckResponse({ ...deny(403, 'forbidden', ''), status: http }).status.code, rpc, String(http));
    }
  });

  it('reuses constant parts instead of allocating them per check', () => {
    const a = toCheckResponse(allow());
    const b = toCheckResponse(allow());
    assert.equal(a.status, b.status);
    assert.ok('ok_response' in a && 'ok_response' in b);
    assert.equal(a.ok_response.headers, b.ok_response.headers);
    const d1 = toCheckResponse(deny(403, 'forbidden', 'no'));
    const d2 = toCheckResponse(deny(403, 'forbidden', 'nope'));
    assert.ok('denied_response' in d1 && 'denied_response' in d2);
    assert.equal(d1.status, d2.status);
    assert.equal(d1.denied_response.status, d2.denied_response.status);
    assert.ok(Object.isFrozen(d1.denied_response.status));
  });

  it('builds the OK response once per shared (frozen) header lists, and encodes it the same', () => {
    const upstream = Object.freeze([
      ['kubeflow-userid', 'alice'],
      ['kubeflow-groups', 'a,b'],
      ['auth-method', 'cookie'],
    ] as const);
    const remove = Object.freeze(['kubeflow_userid', 'kubeflow_groups', 'auth_method']);
    const add = Object.freeze([] as const);
    const a = toCheckResponse(allow({ upstreamHeaders: upstream, removeHeaders: remove, responseHeaders: add }));
    const b = toCheckResponse(allow({ upstreamHeaders: upstream, removeHeaders: remove, responseHeaders: add, reason: 'authenticated' }));
    assert.equal(a, b, 'the same lists give the same response object');
    assert.ok(Object.isFrozen(a) && Object.isFrozen((a as { ok_response: object }).ok_response), 'shared, so frozen through');
    const otherRemove = toCheckResponse(allow({ upstreamHeaders: upstream, removeHeaders: Object.freeze(['x']), responseHeaders: add }));
    assert.notEqual(otherRemove, a);
    assert.deepEqual('ok_response' in otherRemove && otherRemove.ok_response.headers_to_remove, ['x']);
    const cookie = Object.freeze([['set-cookie', 'a=1']] as const);
    const withCookie = toCheckResponse(allow({ upstreamHeaders: upstream, removeHeaders: remove, responseHeaders: cookie }));
    assert.notEqual(withCookie, a);
    assert.equal('ok_response' in withCookie && withCookie.ok_response.response_headers_to_add.length, 1);
    // Lists that are not frozen may change: a fresh, unshared response every time.
    const mutable = allow({ upstreamHeaders: [['kubeflow-userid', 'bob']], removeHeaders: remove, responseHeaders: add });
    const m1 = toCheckResponse(mutable);
    assert.notEqual(toCheckResponse(mutable), m1);
    assert.ok(!Object.isFrozen(m1));
    // The shared object encodes to exactly what a fresh copy of it encodes to.
    const check = serviceOf(loadDefinitions(SERVER_LOAD_OPTIONS), AUTHZ_V3)['Check']!;
    assert.deepEqual(check.responseSerialize(a), check.responseSerialize(structuredClone(a)));
  });

  it('has fixed answers for a judge failure and for a check without HTTP', () => {
    assert.deepEqual(UNAVAILABLE_RESPONSE, { status: { code: 14 }, denied_response: { status: { code: 503 }, headers: [], body: 'Service unavailable' } });
    assert.deepEqual(NO_HTTP_RESPONSE, { status: { code: 7 }, denied_response: { status: { code: 403 }, headers: [], body: '' } });
  });
});

describe('grpcAddresses', () => {
  it('binds every interface when SERVER_HOSTNAME is empty, with an IPv4 fallback, and brackets IPv6 literals', async () => {
    const { grpcAddresses } = await import('../../../src/judge/grpc/server.js');
    assert.deepEqual(grpcAddresses('', 9191), ['[::]:9191', '0.0.0.0:9191']);
    assert.deepEqual(grpcAddresses('127.0.0.1', 9191), ['127.0.0.1:9191']);
    assert.deepEqual(grpcAddresses('fd00::1', 1), ['[fd00::1]:1']);
  });
});
