import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
/**
 * The assembled service for end-to-end tests: `startApp` on 127.0.0.1 with ports 0 in front of a
 * real OpenID Provider (test/helpers/op.ts), a real grpc-js client speaking our protos, and small
 * helpers to mint tokens and read `/metrics`. Nothing here is a fake: the checks go over the wire.
 */
import * as grpc from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';
import { startApp, type App } from '../../src/app/start.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { AUTHZ_V2, AUTHZ_V3, HEALTH, loadDefinitions, serviceOf } from '../../src/judge/grpc/server.js';
import { compileStrip } from '../../src/judge/strip.js';
import { silentLogger, type Logger } from '../../src/obs/log.js';
import type { Readiness } from '../../src/obs/readiness.js';
import { protoDir } from '../../src/paths.js';
import { send, type SendOptions, type Sent } from './http-send.js';
import type { SignOptions, TestOp } from './op.js';

/** The audience of JWT access tokens the judge accepts in these tests (`AUDIENCES`). */
export const AUDIENCE = 'urn:test:api';
/** Every `-`/`_` spelling of the three identity headers. */
export const ALL_IDENTITY_SPELLINGS = ['kubeflow-userid', 'kubeflow_userid', 'kubeflow-groups', 'kubeflow_groups', 'auth-method', 'auth_method'];
/** The spellings a client could forge besides the names the judge sets on allow. */
export const FORGEABLE_SPELLINGS = ['kubeflow_userid', 'kubeflow_groups', 'auth_method'];
export const SET_NAMES = ['kubeflow-userid', 'kubeflow-groups', 'auth-method'];
/** What every skip removes with the default settings: every identity spelling and the built-in strip list (src/judge/strip.ts). */
export const SKIP_REMOVES: readonly string[] = [...new Set([...ALL_IDENTITY_SPELLINGS, ...compileStrip().spellings])].sort();

export interface StartOptions {
  /** Settings on top of the test defaults (env-style names). */
  readonly env?: Readonly<Record<string, string>>;
  /** Content of a YAML config file passed as `--config`. */
  readonly yaml?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Wait until OIDC discovery has succeeded (default true). */
  readonly ready?: boolean;
}

export interface Judged {
  readonly app: App;
  readonly config: Config;
  readonly grpc: JudgeClient;
  /** Closes the client, then `app.stop()`. The OP is the caller's to stop. */
  stop(): Promise<void>;
}

/** The config the tests use: loopback, ports 0, a short drain, the OP's client. */
export function testConfig(issuer: string, opts: Pick<StartOptions, 'env' | 'yaml'> = {}): Config {
  const env = {
    OIDC_PROVIDER: issuer,
    CLIENT_ID: 'judge-client',
    CLIENT_SECRET: 'judge-client-secret',
    AUDIENCES: AUDIENCE,
    SERVER_HOSTNAME: '127.0.0.1',
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    READINESS_PROBE_PORT: '0',
    WEB_SERVER_PORT: '0',
    SESSION_STORE_PATH: join(mkdtempSync(join(tmpdir(), 'judge-test-')), 'sessions.db'),
    KUBERNETES_AUTHN_ENABLED: 'false',
    DRAIN_TIMEOUT: '1',
    // The 3 s default check deadline is a production bound; on two busy cores a code exchange or
    // 60 checks waiting for one JWKS refetch took longer and answered 503. Tests of the deadline
    // set their own.
    CHECK_TIMEOUT: '30000',
    ...opts.env,
  };
  const file = 'judge-test.yaml';
  const readFile = (path: string): string => {
    if (path === file && opts.yaml !== undefined) return opts.yaml;
    throw Object.assign(new Error(`no such file ${path}`), { code: 'ENOENT' });
  };
  return loadConfig({ env, readFile, ...(opts.yaml !== undefined ? { configFile: file } : {}) }).config;
}

/** Resolves once `readiness` is (or becomes) ready, by its `change` event. */
export function untilReady(readiness: Readiness, want = true): Promise<void> {
  if (readiness.ready === want) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (ready: boolean): void => {
      if (ready !== want) return;
      readiness.off('change', on);
      resolve();
    };
    readiness.on('change', on);
  });
}

/** Starts the app in front of `issuer` (usually `op.issuer`). */
export async function startJudge(issuer: string, opts: StartOptions = {}): Promise<Judged> {
  const config = testConfig(issuer, opts);
  const app = await startApp(config, { log: opts.log ?? silentLogger, ...(opts.clock ? { clock: opts.clock } : {}) });
  const client = new JudgeClient(app.ports.grpc);
  if (opts.ready !== false) await untilReady(app.readiness);
  return {
    app,
    config,
    grpc: client,
    async stop() {
      client.close();
      await app.stop();
    },
  };
}

// ---- tokens ----

export const secs = (ms: number): number => Math.floor(ms / 1000);

/** Claims of a good access token for `email` with `groups`, valid for 5 minutes from `nowMs`. */
export function accessClaims(email: string, groups: readonly string[] | undefined, nowMs = Date.now()): JWTPayload {
  const now = secs(nowMs);
  return { sub: email, aud: AUDIENCE, email, ...(groups ? { groups: [...groups] } : {}), iat: now, exp: now + 300 };
}

/** A signed access token (RS256 unless `opts.alg`), with `extra` claims over the good ones. */
export function accessToken(
  op: TestOp,
  email = 'alice@example.com',
  groups: readonly string[] = ['devs'],
  extra: JWTPayload = {},
  opts: SignOptions = {},
  nowMs = Date.now(),
): Promise<string> {
  return op.sign({ ...accessClaims(email, groups, nowMs), ...extra }, opts);
}

/** An unsigned (`alg: none`) token with these claims. */
export function unsignedToken(claims: JWTPayload): string {
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

// ---- gRPC ----

/** CheckResponse as the client decodes it (enums as numbers, defaults filled). */
export interface HeaderOpt {
  readonly header: { readonly key: string; readonly value: string };
  readonly append: { readonly value: boolean } | null;
}
export interface CheckResponse {
  readonly status: { readonly code: number };
  readonly http_response?: string;
  readonly ok_response?: { readonly headers: HeaderOpt[]; readonly headers_to_remove: string[]; readonly response_headers_to_add: HeaderOpt[] } | null;
  readonly denied_response?: { readonly status: { readonly code: number } | null; readonly headers: HeaderOpt[]; readonly body: string } | null;
}

/** Decoded like the server, but enums as numbers so HTTP statuses read as 401, 403 … */
const defs = loadDefinitions({ keepCase: true, longs: String, defaults: true, oneofs: true, includeDirs: [protoDir] });
const methods = {
  v3: serviceOf(defs, AUTHZ_V3)['Check']!,
  v2: serviceOf(defs, AUTHZ_V2)['Check']!,
  health: serviceOf(defs, HEALTH)['Check']!,
};
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export interface CheckOptions {
  readonly method?: string;
  readonly host?: string;
  readonly scheme?: string;
  readonly v2?: boolean;
}

/** An Envoy CheckRequest for `path` with these (lower-case) request headers. */
export function checkRequest(path: string, headers: Readonly<Record<string, string>> = {}, o: CheckOptions = {}): object {
  const method = o.method ?? 'GET';
  const host = o.host ?? 'app.example.com';
  return {
    attributes: {
      source: { address: { socket_address: { address: '10.1.2.3', port_value: 40000 } } },
      request: {
        http: {
          id: '1',
          method,
          path,
          host,
          scheme: o.scheme ?? 'https',
          headers: { ':method': method, ':path': path, ':authority': host, ...headers },
        },
      },
    },
  };
}

export class JudgeClient {
  readonly #client: grpc.Client;

  constructor(port: number) {
    this.#client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  #unary<Res>(method: grpc.MethodDefinition<object, unknown>, req: object): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req, (err, value) =>
        err ? reject(err) : resolve(value as Res),
      );
    });
  }

  /** `Authorization/Check` (v3, or v2 with `o.v2`) for `path` with these headers. */
  check(path: string, headers: Readonly<Record<string, string>> = {}, o: CheckOptions = {}): Promise<CheckResponse> {
    return this.#unary(o.v2 ? methods.v2 : methods.v3, checkRequest(path, headers, o));
  }

  /** `grpc.health.v1.Health/Check`: SERVING, NOT_SERVING … */
  async health(service = ''): Promise<string> {
    const res = await this.#unary<{ status: number | string }>(methods.health, { service });
    return typeof res.status === 'number' ? (SERVING_STATUS[res.status] ?? String(res.status)) : res.status;
  }

  close(): void {
    this.#client.close();
  }
}

/** `[key, value, append]` of header options. */
export const tuples = (opts: readonly HeaderOpt[]): [string, string, boolean | undefined][] => opts.map((o) => [o.header.key, o.header.value, o.append?.value]);

/** The value of the header option named `name`, if any. */
export const optionValue = (opts: readonly HeaderOpt[] | undefined, name: string): string | undefined =>
  opts?.find((o) => o.header.key.toLowerCase() === name)?.header.value;

// ---- HTTP ----

/** One HTTP/1.1 request to 127.0.0.1:`port`, with `Host: app.example.com` (the judged host) unless given. */
export function request(
  port: number,
  path: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
  opts: Omit<SendOptions, 'headers'> = {},
): Promise<Sent> {
  const hasHost = Object.keys(headers).some((k) => k.toLowerCase() === 'host');
  return send(port, path, { ...opts, headers: hasHost ? headers : { host: 'app.example.com', ...headers } });
}

// ---- metrics ----

/** The value of one Prometheus sample from the health port's `/metrics` (0 when absent). */
export async function metric(healthPort: number, name: string, labels: Readonly<Record<string, string>>): Promise<number> {
  const res = await request(healthPort, '/metrics', { host: '127.0.0.1' });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  for (const line of res.body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return 0;
}
