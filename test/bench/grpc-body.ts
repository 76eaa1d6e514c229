/**
 * A pre-encoded gRPC `envoy.service.auth.v3.Authorization/Check` request body (the 5-byte
 * length prefix, then the `CheckRequest`), as h2load sends it unchanged on every stream.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../../src/paths.js';

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

let checkRequest: protobuf.Type | undefined;

function type(): protobuf.Type {
  if (checkRequest) return checkRequest;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (existsSync(join(protoDir, target)) ? join(protoDir, target) : target);
  root.loadSync('envoy/service/auth/v3/external_auth.proto', { keepCase: true });
  checkRequest = root.lookupType('envoy.service.auth.v3.CheckRequest');
  return checkRequest;
}

export interface CheckFacts {
  readonly method?: string;
  readonly host: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** `CheckRequest` for one HTTP request, framed for the wire. */
export function grpcCheckBody(f: CheckFacts): Uint8Array {
  const t = type();
  const method = f.method ?? 'GET';
  const message = t
    .encode(
      t.fromObject({
        attributes: {
          source: { address: { socket_address: { address: '10.0.0.7', port_value: 51000 } } },
          request: {
            http: {
              id: '1',
              method,
              host: f.host,
              path: f.path,
              scheme: 'https',
              protocol: 'HTTP/1.1',
              headers: { ':method': method, ':path': f.path, ':authority': f.host, ':scheme': 'https', ...f.headers },
            },
          },
        },
      }),
    )
    .finish();
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}
