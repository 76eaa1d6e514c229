/**
 * The gRPC front door: Envoy ext_authz (`envoy.service.auth.v3.Authorization/Check` and the v2 name)
 * and `grpc.health.v1.Health`, loaded from `proto/`. A thin adapter: it converts with `map.ts`,
 * asks the judge, and answers. No policy lives here.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { codeOf } from '../../errors.js';
import type { Logger } from '../../obs/log.js';
import type { Readiness } from '../../obs/readiness.js';
import { protoDir } from '../../paths.js';
import type { Decision } from '../decision.js';
import {
  MALFORMED_RESPONSE,
  NO_HTTP_RESPONSE,
  UNAVAILABLE_RESPONSE,
  toCheckResponse,
  toJudgeRequest,
  type CheckRequestMsg,
  type CheckResponseMsg,
  type GrpcVia,
} from './map.js';
import type { JudgeRequest } from '../request.js';

export const AUTHZ_V3 = 'envoy.service.auth.v3.Authorization';
export const AUTHZ_V2 = 'envoy.service.auth.v2.Authorization';
export const HEALTH = 'grpc.health.v1.Health';

/** The files the server loads, relative to `protoDir`. */
export const PROTO_FILES = ['envoy/service/auth/v3/external_auth.proto', 'envoy/service/auth/v2/external_auth.proto', 'grpc/health/v1/health.proto'];

/** proto-loader options for the server (and for clients that want to see what it sees). */
export const LOAD_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
});

/**
 * What the server itself loads with: requests decoded without filling in defaults (every absent
 * field of the large `AttributeContext` would become an empty string, list or map on every check;
 * `map.ts` reads every field as optional anyway). Encoding does not depend on it.
 */
export const SERVER_LOAD_OPTIONS: protoLoader.Options = Object.freeze({ ...LOAD_OPTIONS, defaults: false });

/** Health service names that answer SERVING/NOT_SERVING; any other is unknown. */
const KNOWN_HEALTH_SERVICES = new Set(['', AUTHZ_V3, AUTHZ_V2]);

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
interface HealthRequest {
  readonly service?: string | null;
}
interface HealthResponse {
  readonly status: ServingStatus;
}
const SERVING: HealthResponse = Object.freeze({ status: 'SERVING' });
const NOT_SERVING: HealthResponse = Object.freeze({ status: 'NOT_SERVING' });
const SERVICE_UNKNOWN: HealthResponse = Object.freeze({ status: 'SERVICE_UNKNOWN' });

/** 16 MiB (grpc-js's own default, 4 MiB, is below a `with_request_body` of a few MiB). */
export const DEFAULT_MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

export interface GrpcJudgeOptions {
  readonly judge: (req: JudgeRequest) => Promise<Decision>;
  readonly readiness: Readiness;
  readonly log: Logger;
  /**
   * Largest CheckRequest accepted (`GRPC_MAX_RECEIVE_BYTES`). grpc-js refuses a bigger one with
   * RESOURCE_EXHAUSTED before we see it — an error, not a decision — so this must exceed what Envoy
   * can build: its header limit plus `with_request_body.max_request_bytes`. Default 16 MiB.
   */
  readonly maxReceiveBytes?: number;
}

export interface GrpcJudge {
  /** Binds `host:port` (port 0 picks one) and serves; resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Ends health watches, lets in-flight checks finish, and forces the rest closed after `drainMs`. */
  shutdown(drainMs: number): Promise<void>;
}

/** The service definitions of `proto/`, loaded once per call (no import-time work). */
export function loadDefinitions(options: protoLoader.Options = LOAD_OPTIONS): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILES, options);
}

export function serviceOf(pkg: protoLoader.PackageDefinition, name: string): grpc.ServiceDefinition {
  const def = pkg[name];
  if (def === undefined || 'format' in def) throw new Error(`oidc-judge: ${name} is not a service in proto/`);
  return def as grpc.ServiceDefinition;
}

/** What `requestDeserialize` hands the handler for bytes that are no CheckRequest. */
const MALFORMED_REQUEST: object = Object.freeze({});

/**
 * A copy of the Authorization service whose (de)serializers can never fail the call: bytes that do
 * not decode reach the handler as MALFORMED_REQUEST (answered with a 403 deny), and should a
 * response not encode, the 503 deny goes out — never a gRPC INTERNAL error, which Envoy's
 * `failure_mode_allow` would turn into an allow.
 */
function failClosed(def: grpc.ServiceDefinition, log: Logger): grpc.ServiceDefinition {
  const check = def['Check'];
  if (check === undefined) throw new Error('oidc-judge: Authorization has no Check method');
  const serialize = check.responseSerialize;
  // Frozen responses are shared between checks (see `toCheckResponse`): encoded once. grpc-js
  // copies the bytes into its own frame, so the Buffer is never changed.
  const encoded = new WeakMap<object, Buffer>();
  const responseSerialize = (value: unknown): Buffer => {
    try {
      if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return serialize(value);
      let bytes = encoded.get(value);
      if (bytes === undefined) encoded.set(value, (bytes = serialize(value)));
      return bytes;
    } catch (err) {
      log.error({ err: errorFacts(err) }, 'ext_authz: CheckResponse did not encode; answering 503');
      return serialize(UNAVAILABLE_RESPONSE);
    }
  };
  const deserialize = check.requestDeserialize;
  const requestDeserialize = (bytes: Buffer): unknown => {
    try {
      return deserialize(bytes);
    } catch (err) {
      log.warn({ err: errorFacts(err), bytes: bytes.length }, 'ext_authz: CheckRequest did not decode; denying (403)');
      return MALFORMED_REQUEST;
    }
  };
  return { Check: { ...check, requestDeserialize, responseSerialize } };
}

/** What we log about an error: never the whole object (it might carry a request or a token). */
function errorFacts(err: unknown): { name: string; code: string | undefined; message: string } {
  return err instanceof Error ? { name: err.name, code: codeOf(err), message: err.message } : { name: typeof err, code: undefined, message: String(err) };
}

/**
 * Where to bind: an empty host (SERVER_HOSTNAME unset) means every interface — `[::]`, falling back
 * to `0.0.0.0` where IPv6 is off; an IPv6 literal gets its brackets.
 */
export function grpcAddresses(host: string, port: number): [string, string?] {
  if (host === '' || host === '::' || host === '[::]') return [`[::]:${port}`, `0.0.0.0:${port}`];
  return [host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`];
}

export function createGrpcJudge(opts: GrpcJudgeOptions): GrpcJudge {
  const { judge, readiness, log } = opts;
  const pkg = loadDefinitions(SERVER_LOAD_OPTIONS);
  const serverOptions: grpc.ServerOptions = {
    // channelz (grpc-js's introspection service, which we do not serve) tracks every call: off.
    'grpc.enable_channelz': 0,
    'grpc.max_receive_message_length': opts.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
  };
  const server = new grpc.Server(serverOptions);

  const check =
    (via: GrpcVia) =>
    (call: grpc.ServerUnaryCall<CheckRequestMsg, CheckResponseMsg>, callback: grpc.sendUnaryData<CheckResponseMsg>): void => {
      let req: JudgeRequest | undefined;
      let pending: Promise<Decision>;
      if ((call.request as unknown) === MALFORMED_REQUEST) {
        callback(null, MALFORMED_RESPONSE);
        return;
      }
      try {
        req = toJudgeRequest(call.request, via, call.getPeer());
        if (req === undefined) {
          callback(null, NO_HTTP_RESPONSE);
          return;
        }
        pending = judge(req);
      } catch (err) {
        pending = Promise.reject(err);
      }
      const requestId = req?.requestId;
      pending.then(toCheckResponse).then(
        (response) => callback(null, response),
        (err: unknown) => {
          log.error({ err: errorFacts(err), requestId, via }, 'ext_authz: judge failed; answering 503');
          callback(null, UNAVAILABLE_RESPONSE);
        },
      );
    };

  server.addService(failClosed(serviceOf(pkg, AUTHZ_V3), log), { Check: check('grpc') });
  server.addService(failClosed(serviceOf(pkg, AUTHZ_V2), log), { Check: check('grpc-v2') });

  // ---- grpc.health.v1.Health ----
  const current = (): HealthResponse => (readiness.ready ? SERVING : NOT_SERVING);
  const watches = new Set<grpc.ServerWritableStream<HealthRequest, HealthResponse>>();

  const healthCheck = (call: grpc.ServerUnaryCall<HealthRequest, HealthResponse>, callback: grpc.sendUnaryData<HealthResponse>): void => {
    if (KNOWN_HEALTH_SERVICES.has(call.request.service ?? '')) callback(null, current());
    else callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' }, null);
  };

  const healthWatch = (call: grpc.ServerWritableStream<HealthRequest, HealthResponse>): void => {
    watches.add(call);
    if (!KNOWN_HEALTH_SERVICES.has(call.request.service ?? '')) {
      // The health protocol: an unknown service is reported, and the stream stays open.
      call.write(SERVICE_UNKNOWN);
      call.once('close', () => watches.delete(call));
      return;
    }
    const onChange = (): void => {
      if (!call.cancelled && !call.writableEnded) call.write(current());
    };
    readiness.on('change', onChange);
    call.once('close', () => {
      readiness.off('change', onChange);
      watches.delete(call);
    });
    call.write(current());
  };

  server.addService(serviceOf(pkg, HEALTH), { Check: healthCheck, Watch: healthWatch });

  return {
    async listen(host, port) {
      const bind = (address: string): Promise<number> =>
        new Promise((resolve, reject) => {
          server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
        });
      const [first, fallback] = grpcAddresses(host, port);
      try {
        return await bind(first);
      } catch (e) {
        if (fallback === undefined) throw e;
        return bind(fallback); // no IPv6 on this machine: all IPv4 interfaces
      }
    },
    shutdown(drainMs) {
      for (const call of watches) if (!call.writableEnded) call.end();
      return new Promise((resolve) => {
        // tryShutdown's callback never comes while a connection that never finished its HTTP/2
        // handshake (a port probe, a stalled client) is open, even after forceShutdown closed it.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, drainMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
