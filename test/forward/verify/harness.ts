/**
 * Harness for the verify-then-proxy forwarder tests: key pairs and token signing (jose), a real
 * JWKS served by node:http (keys swappable, fetches counted, failures on demand), and a verify
 * forwarder started through the real runtime on 127.0.0.1:0 in front of a real upstream.
 */
import { once } from 'node:events';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after } from 'node:test';
import { exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { ManualClock } from '../../../src/clock.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { startForwarders, type Forwarders } from '../../../src/forward/runtime/run.js';
import { verifyMode } from '../../../src/forward/verify/mode.js';
import type { Metrics } from '../../../src/obs/metrics.js';
import { capturingLogger } from '../../helpers/bearer.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';

export const MODES: ReadonlyMap<string, ModeDefinition<unknown>> = new Map([[verifyMode.mode, verifyMode as ModeDefinition<unknown>]]);

export interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicPem: string;
  jwk(extra?: JWK): Promise<JWK>;
}

export function rsaPair(): Pair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair(privateKey, publicKey);
}

export function ecPair(): Pair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair(privateKey, publicKey);
}

function pair(privateKey: KeyObject, publicKey: KeyObject): Pair {
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk: async (extra = {}) => ({ ...(await exportJWK(publicKey)), ...extra }),
  };
}

export const ISS = 'https://issuer.example';
export const AUD = 'https://api.example';

/** Standard claims valid at `nowMs` (one hour), overridable. */
export function claimsAt(nowMs: number, over: JWTPayload = {}): JWTPayload {
  const now = Math.floor(nowMs / 1000);
  return { iss: ISS, sub: 'alice', aud: AUD, iat: now, exp: now + 3600, ...over };
}

export function sign(payload: JWTPayload, key: KeyObject | Uint8Array, header: { alg: string; kid?: string; [k: string]: unknown }): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** An unsigned (`alg: none`) token. */
export function unsigned(payload: JWTPayload): string {
  const b = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'none', typ: 'JWT' })}.${b(payload)}.`;
}

export interface JwksServer {
  readonly url: string;
  keys: JWK[];
  /** Status to answer instead of the keys (e.g. 500); undefined: serve the keys. */
  failWith: number | undefined;
  fetches(): number;
  close(): Promise<void>;
}

export async function startJwks(keys: JWK[]): Promise<JwksServer> {
  let fetches = 0;
  const sockets = new Set<Socket>();
  const state = { keys, failWith: undefined as number | undefined };
  const server: Server = createServer((_req, res) => {
    fetches++;
    if (state.failWith !== undefined) return void res.writeHead(state.failWith).end('down');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/jwks`,
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  });
}

export interface StartedVerify {
  readonly port: number;
  readonly upstream: Upstream;
  readonly forwarders: Forwarders;
  readonly clock: ManualClock;
  readonly logs: string[];
}

const open: { forwarders: Forwarders; upstream: Upstream }[] = [];
after(async () => {
  await Promise.all(open.map(({ forwarders, upstream }) => Promise.all([forwarders.stop(0), upstream.close()])));
});

/** A verify forwarder (options as in a `forwarders:` block; `upstream` defaults to a fresh echo upstream). */
export async function startVerify(
  raw: Record<string, unknown>,
  o: { clock?: ManualClock; upstream?: Upstream; env?: Record<string, string>; metrics?: Metrics; logDecisions?: boolean } = {},
): Promise<StartedVerify> {
  const upstream = o.upstream ?? (await startUpstream());
  const clock = o.clock ?? new ManualClock(Date.now());
  const errs: string[] = [];
  const options = verifyMode.parse({ upstream: upstream.url, ...raw }, 'forwarders[0]', errs);
  if (errs.length > 0) {
    if (o.upstream === undefined) await upstream.close();
    throw new Error(errs.join('; '));
  }
  const { log, lines } = capturingLogger();
  let forwarders: Forwarders;
  try {
    forwarders = await startForwarders([{ name: 'v', mode: 'verify', listen: { address: '127.0.0.1:0' }, options }], MODES, {
      log,
      clock,
      readFile: (p) => readFileSync(p, 'utf8'),
      ...(o.env !== undefined ? { env: o.env } : {}),
      ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
      ...(o.logDecisions !== undefined ? { logDecisions: o.logDecisions } : {}),
    });
  } catch (e) {
    if (o.upstream === undefined) await upstream.close();
    throw e;
  }
  open.push({ forwarders, upstream });
  return { port: forwarders.listeners[0]!.port, upstream, forwarders, clock, logs: lines };
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
