/**
 * The assembled service for hostile-input tests: a real OpenID Provider, a recording upstream
 * (test/helpers/upstream.ts: echoes method, URL, headers and body) behind the built-in ingress
 * forwarder, and the judge's HTTP and gRPC front doors — all on 127.0.0.1. `aliceToken()` mints a
 * valid access token (alice, group devs); `session()` stores a session and returns its cookie.
 */
import { accessToken, startJudge, type Judged, type StartOptions } from '../helpers/app.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { sessionRecord } from '../helpers/seed.js';
import { startUpstream, type Echo, type Upstream } from '../helpers/upstream.js';

export interface Guarded {
  readonly op: TestOp;
  readonly upstream: Upstream;
  readonly judge: Judged;
  /** Ports: the forwarder, the HTTP judge. */
  readonly ingress: number;
  readonly http: number;
  aliceToken(extra?: Record<string, unknown>): Promise<string>;
  /** A stored session for `user`; resolves with `authservice_session=<id>`. */
  session(user?: string, groups?: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startGuarded(env: Readonly<Record<string, string>> = {}, opts: Omit<StartOptions, 'env'> = {}): Promise<Guarded> {
  const op = await startOp();
  const upstream = await startUpstream();
  const judge = await startJudge(op.issuer, { ...opts, env: { INGRESS_PORT: String(await freePort()), INGRESS_UPSTREAM: upstream.url, ...env } });
  return {
    op,
    upstream,
    judge,
    ingress: judge.app.ports.ingress,
    http: judge.app.ports.http,
    aliceToken: (extra = {}) => accessToken(op, 'alice@example.com', ['devs'], extra),
    async session(user = 'alice@example.com', groups = ['devs']) {
      return `authservice_session=${await judge.app.sessions.create(sessionRecord(user, { groups }))}`;
    },
    async stop() {
      await judge.stop();
      await upstream.close();
      await op.stop();
    },
  };
}

export const echoOf = (body: string): Echo => JSON.parse(body) as Echo;
