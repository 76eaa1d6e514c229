/**
 * Our trimmed protos (proto/) against upstream Envoy's, as shipped in @grpc/grpc-js-xds (devDependency):
 * every type reachable from CheckRequest/CheckResponse upstream must exist in ours with the same field
 * numbers, resolved types, labels, map keys, oneof membership and enum values, and the same objects must
 * serialize to the same bytes with both.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { AUTHZ_V2, AUTHZ_V3, LOAD_OPTIONS, PROTO_FILES, loadDefinitions, serviceOf } from '../../../src/judge/grpc/server.js';
import { toCheckResponse } from '../../../src/judge/grpc/map.js';
import { deny } from '../../../src/judge/decision.js';
import { projectRoot, protoDir } from '../../../src/paths.js';

const XDS_DEPS = join(projectRoot, 'node_modules/@grpc/grpc-js-xds/deps');
const UPSTREAM_DIRS = ['envoy-api', 'xds', 'protoc-gen-validate', 'googleapis'].map((d) => join(XDS_DEPS, d));
/** google/protobuf/descriptor.proto (needed by the validate/udpa annotations) is only on disk in protobufjs. */
const PBJS_DIR = dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));
const UPSTREAM_FILE = 'envoy/service/auth/v3/external_auth.proto';
const ROOT_TYPES = ['.envoy.service.auth.v3.CheckRequest', '.envoy.service.auth.v3.CheckResponse'];
/** Fields newer than the grpc-js-xds snapshot that ours has on purpose (ref §1.3, §1.4). */
const NEWER_THAN_SNAPSHOT = new Set(['.envoy.service.auth.v3.CheckResponse.error_response', '.envoy.config.core.v3.SocketAddress.network_namespace_filepath']);

function loadRoot(dirs: readonly string[], files: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}
const loadUpstream = (): protobuf.Root => loadRoot([...UPSTREAM_DIRS, PBJS_DIR], [UPSTREAM_FILE]);
const loadOurs = (): protobuf.Root => loadRoot([protoDir], [...PROTO_FILES]);

function fieldSig(f: protobuf.Field): string {
  const type = f.resolvedType ? f.resolvedType.fullName : f.type;
  const label = f instanceof protobuf.MapField ? `map<${f.keyType},` : f.repeated ? 'repeated' : 'single';
  return `#${f.id} ${label} ${type} oneof=${f.partOf?.name ?? '-'}`;
}

interface Report {
  readonly diffs: string[];
  readonly types: number;
  readonly fields: number;
  readonly oursOnly: string[];
}

/** Walks every type reachable from CheckRequest/CheckResponse in `upstream` and checks `ours` has it the same. */
function compare(upstream: protobuf.Root, ours: protobuf.Root): Report {
  const diffs: string[] = [];
  const oursOnly: string[] = [];
  const seen = new Set<string>();
  const queue: protobuf.ReflectionObject[] = ROOT_TYPES.map((n) => upstream.lookup(n)!);
  let fields = 0;
  while (queue.length > 0) {
    const up = queue.shift()!;
    if (seen.has(up.fullName)) continue;
    seen.add(up.fullName);
    const mine = ours.lookup(up.fullName);
    if (up instanceof protobuf.Enum) {
      if (!(mine instanceof protobuf.Enum)) {
        diffs.push(`${up.fullName}: missing enum`);
        continue;
      }
      for (const [name, value] of Object.entries(up.values)) {
        if (mine.values[name] !== value) diffs.push(`${up.fullName}.${name}: ${value} upstream, ${mine.values[name]} ours`);
      }
      continue;
    }
    if (!(up instanceof protobuf.Type)) continue;
    if (!(mine instanceof protobuf.Type)) {
      diffs.push(`${up.fullName}: missing message`);
      continue;
    }
    for (const f of up.fieldsArray) {
      fields++;
      if (f.resolvedType) queue.push(f.resolvedType);
      const m = mine.fields[f.name];
      if (m === undefined) diffs.push(`${up.fullName}.${f.name}: missing field`);
      else if (fieldSig(m) !== fieldSig(f)) diffs.push(`${up.fullName}.${f.name}: ${fieldSig(f)} upstream, ${fieldSig(m)} ours`);
    }
    for (const m of mine.fieldsArray) if (up.fields[m.name] === undefined) oursOnly.push(`${up.fullName}.${m.name}`);
  }
  for (const service of ['.envoy.service.auth.v3.Authorization']) {
    const sig = (root: protobuf.Root): string => {
      const m = root.lookupService(service).methods['Check'];
      if (m === undefined) return 'no Check';
      m.resolve();
      return `${m.resolvedRequestType?.fullName} -> ${m.responseStream ? 'stream ' : ''}${m.resolvedResponseType?.fullName}${m.requestStream ? ' (client stream)' : ''}`;
    };
    if (sig(upstream) !== sig(ours)) diffs.push(`${service}.Check: ${sig(upstream)} upstream, ${sig(ours)} ours`);
  }
  return { diffs, types: seen.size, fields, oursOnly };
}

/** Replaces field `name` of `type` by `make(old)` and re-resolves. */
function swapField(root: protobuf.Root, type: string, name: string, make: (old: protobuf.Field) => protobuf.Field): protobuf.Root {
  const t = root.lookupType(type);
  const old = t.fields[name]!;
  const oneof = old.partOf;
  t.remove(old);
  const replacement = make(old);
  t.add(replacement);
  if (oneof) oneof.add(replacement);
  root.resolveAll();
  return root;
}

describe('proto/ is wire-compatible with upstream Envoy (grpc-js-xds snapshot)', () => {
  const upstream = loadUpstream();

  it('has every upstream field reachable from CheckRequest/CheckResponse, identically', () => {
    const report = compare(upstream, loadOurs());
    assert.deepEqual(report.diffs, []);
    assert.ok(report.types >= 30, `walked only ${report.types} types`);
    assert.ok(report.fields >= 60, `compared only ${report.fields} fields`);
    for (const extra of report.oursOnly) assert.ok(NEWER_THAN_SNAPSHOT.has(extra), `ours-only field ${extra}`);
  });

  it('serves the v2 service name with the v3 messages', () => {
    const ours = loadOurs();
    const m = ours.lookupService(`.${AUTHZ_V2}`).methods['Check']!;
    m.resolve();
    assert.equal(m.resolvedRequestType?.fullName, '.envoy.service.auth.v3.CheckRequest');
    assert.equal(m.resolvedResponseType?.fullName, '.envoy.service.auth.v3.CheckResponse');
    assert.equal(Boolean(m.requestStream) || Boolean(m.responseStream), false);
  });

  it('catches a renumbered field, a changed type, a lost oneof, a map made a list and a moved enum value', () => {
    const cases: Array<[string, (r: protobuf.Root) => protobuf.Root]> = [
      [
        'OkHttpResponse.headers_to_remove',
        (r) => swapField(r, 'envoy.service.auth.v3.OkHttpResponse', 'headers_to_remove', (o) => new protobuf.Field(o.name, 9, 'string', 'repeated')),
      ],
      ['HttpStatus.code', (r) => swapField(r, 'envoy.type.v3.HttpStatus', 'code', (o) => new protobuf.Field(o.name, o.id, 'int32'))],
      [
        'AttributeContext.context_extensions',
        (r) => swapField(r, 'envoy.service.auth.v3.AttributeContext', 'context_extensions', (o) => new protobuf.Field(o.name, o.id, 'string', 'repeated')),
      ],
      [
        'CheckResponse.ok_response',
        (r) => {
          const t = r.lookupType('envoy.service.auth.v3.CheckResponse');
          t.oneofs['http_response']!.remove(t.fields['ok_response']!);
          return r;
        },
      ],
      [
        'StatusCode.Found',
        (r) => {
          const e = r.lookupEnum('envoy.type.v3.StatusCode');
          e.remove('Found');
          e.add('Found', 399);
          return r;
        },
      ],
    ];
    for (const [what, mutate] of cases) {
      const { diffs } = compare(upstream, mutate(loadOurs()));
      assert.equal(diffs.length, 1, `${what}: ${JSON.stringify(diffs)}`);
      assert.match(diffs[0]!, new RegExp(what.replace('.', '\\.')), what);
    }
  });

  it('serializes the same requests and responses to identical bytes', () => {
    const upstreamDefs = protoLoader.loadSync(UPSTREAM_FILE, { ...LOAD_OPTIONS, includeDirs: UPSTREAM_DIRS });
    const ourDefs = loadDefinitions();
    const up = serviceOf(upstreamDefs, AUTHZ_V3)['Check']!;
    const mine = serviceOf(ourDefs, AUTHZ_V3)['Check']!;
    // Round trips decode without defaults: decoded defaults ('' , 0) would be re-encoded explicitly.
    const upBare = serviceOf(protoLoader.loadSync(UPSTREAM_FILE, { ...LOAD_OPTIONS, defaults: false, includeDirs: UPSTREAM_DIRS }), AUTHZ_V3)['Check']!;
    const mineBare = serviceOf(loadDefinitions({ ...LOAD_OPTIONS, defaults: false }), AUTHZ_V3)['Check']!;
    const v2 = serviceOf(ourDefs, AUTHZ_V2)['Check']!;
    const peer = (address: string, port: number) => ({
      address: { socket_address: { protocol: 'TCP', address, port_value: port } },
      service: 'svc',
      labels: { app: 'a' },
      principal: 'spiffe://td/ns/n/sa/s',
      certificate: 'pem',
    });
    const requests = [
      {
        attributes: {
          source: peer('10.0.0.1', 40000),
          destination: { address: { pipe: { path: '/run/envoy.sock', mode: 420 } } },
          request: {
            time: { seconds: '1767225600', nanos: 5 },
            http: {
              id: '123',
              method: 'POST',
              headers: { ':authority': 'a.example', ':path': '/x?y=1', cookie: 'a=1; b=2' },
              header_map: {
                headers: [
                  { key: 'cookie', raw_value: Buffer.from('a=1') },
                  { key: 'x', value: 'v' },
                ],
              },
              path: '/x?y=1',
              host: 'a.example',
              scheme: 'https',
              query: '',
              fragment: '',
              size: '42',
              protocol: 'HTTP/2',
              body: 'b',
              raw_body: Buffer.from([0, 255]),
            },
          },
          context_extensions: { route: 'r1' },
          metadata_context: {
            filter_metadata: {
              'envoy.filters.http.jwt_authn': {
                fields: { sub: { stringValue: 'alice' }, n: { numberValue: 2 }, l: { listValue: { values: [{ boolValue: true }] } } },
              },
            },
            typed_filter_metadata: { t: { type_url: 'type.googleapis.com/google.protobuf.Struct', value: Buffer.from([10, 0]) } },
          },
          route_metadata_context: { filter_metadata: { r: { fields: { k: { stringValue: 'v' } } } } },
          tls_session: { sni: 'a.example' },
        },
      },
      { attributes: { source: { address: { envoy_internal_address: { server_listener_name: 'l', endpoint_id: 'e' } } } } },
      { attributes: { source: { address: { socket_address: { address: 'h', named_port: 'http', resolver_name: 'r', ipv4_compat: true, protocol: 'UDP' } } } } },
    ];
    const withUser = {
      kind: 'allow',
      upstreamHeaders: [['kubeflow-userid', 'alice']],
      removeHeaders: ['authorization'],
      responseHeaders: [
        ['set-cookie', 'a=1'],
        ['set-cookie', 'b=2'],
      ],
      reason: 'authenticated',
    } as const;
    const responses: unknown[] = [
      toCheckResponse(withUser),
      toCheckResponse(
        deny(302, 'login', '', [
          ['location', 'https://idp/auth?x=1'],
          ['set-cookie', 's=1'],
        ]),
      ),
      toCheckResponse({ ...deny(403, 'forbidden', 'short and stout'), status: 418 }),
      {
        status: { code: 0, message: 'ok', details: [{ type_url: 'type.googleapis.com/x', value: Buffer.from('y') }] },
        ok_response: {
          headers: [{ header: { key: 'k', value: 'v' }, append: { value: true }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', keep_empty_value: true }],
          headers_to_remove: ['a'],
          dynamic_metadata: { fields: { a: { nullValue: 'NULL_VALUE' } } },
          response_headers_to_add: [{ header: { key: 'r', raw_value: Buffer.from('rv') }, append_action: 2 }],
          query_parameters_to_set: [{ key: 'q', value: '1' }],
          query_parameters_to_remove: ['z'],
        },
        dynamic_metadata: { fields: { user: { structValue: { fields: { id: { stringValue: 'alice' } } } } } },
      },
    ];
    for (const req of requests) {
      const bytes = up.requestSerialize(req);
      assert.ok(bytes.length > 0);
      assert.deepEqual(mine.requestSerialize(req), bytes);
      assert.deepEqual(v2.requestSerialize(req), bytes);
      assert.deepEqual(mine.requestSerialize(upBare.requestDeserialize(bytes)), bytes, 'round trip through upstream decoding');
    }
    for (const res of responses) {
      const bytes = up.responseSerialize(res);
      assert.ok(bytes.length > 0);
      assert.deepEqual(mine.responseSerialize(res), bytes);
      assert.deepEqual(up.responseSerialize(mineBare.responseDeserialize(bytes)), bytes, 'round trip through our decoding');
    }
  });
});
