/**
 * Egress test kit: CAs made by the openssl CLI, a real listener wired to a `ModeHandler` the way
 * the forwarder runtime wires it (request, CONNECT, upgrade, health routes), and clients for
 * absolute-URI proxy requests and HTTPS through CONNECT.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import { systemClock } from '../../../src/clock.js';
import { egressMode, type EgressDeps } from '../../../src/forward/egress/mode.js';
import type { ModeHandler } from '../../../src/forward/engine/mode.js';
import { createLogger } from '../../../src/obs/log.js';

const run = promisify(execFile);

export interface CaFiles {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  /** A server certificate for `localhost` and 127.0.0.1 issued by this CA. */
  readonly serverCert: string;
  readonly serverKey: string;
  cleanup(): void;
}

const KEYGEN: Record<'rsa' | 'ec' | 'ed25519', string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
  ed25519: ['-newkey', 'ed25519'],
};

/** A self-signed CA (openssl `req -x509`, CA:TRUE) and a localhost server certificate it issued. */
export async function makeCa(type: 'rsa' | 'ec' | 'ed25519', name = 'egress test CA'): Promise<CaFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-egress-'));
  const f = (n: string): string => join(dir, n);
  await run('openssl', [
    'req',
    '-x509',
    ...KEYGEN[type],
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    `/O=oidc-judge/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['req', ...KEYGEN.ec, '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return {
    dir,
    certFile: f('ca.crt'),
    keyFile: f('ca.key'),
    certPem: readFileSync(f('ca.crt'), 'utf8'),
    serverCert: readFileSync(f('server.crt'), 'utf8'),
    serverKey: readFileSync(f('server.key'), 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `openssl verify -CAfile ca leaf`: resolves with its output, rejects when the chain does not verify. */
export async function opensslVerify(caFile: string, leafPem: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-leaf-'));
  try {
    writeFileSync(join(dir, 'leaf.pem'), leafPem);
    const { stdout } = await run('openssl', ['verify', '-CAfile', caFile, '-purpose', 'sslserver', join(dir, 'leaf.pem')]);
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Listening {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** A node:http listener on 127.0.0.1:0 calling the handler as the forwarder runtime does. */
export async function listenHandler(h: ModeHandler): Promise<Listening> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => h.handle(req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req, socket: Socket, head: Buffer) => {
    if (h.connect === undefined) return void socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
    h.connect(req, socket, head);
  });
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (h.upgrade === undefined) return void socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n');
    h.upgrade(req, socket, head);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The handler's health routes on their own listener (404 elsewhere), as the runtime's health port serves them. */
export async function listenHealth(h: ModeHandler): Promise<Listening> {
  const server = createServer((req, res) => {
    const route = h.healthRoutes?.[new URL(req.url ?? '/', 'http://x').pathname];
    if (route !== undefined) return route(req, res);
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface Started {
  readonly handler: ModeHandler;
  readonly proxy: Listening;
  readonly health: Listening;
  /** JSON log lines written so far. */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Parses `block` with `egressMode` (failing on any error), creates the handler and listens. */
export async function startEgress(block: Record<string, unknown>, deps: Partial<EgressDeps> = {}): Promise<Started> {
  const errs: string[] = [];
  const options = egressMode.parse(block, 'forwarders[0]', errs);
  if (errs.length > 0) throw new Error(errs.join('\n'));
  const logs: Record<string, unknown>[] = [];
  const handler = await egressMode.create(options, {
    log: createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
    clock: systemClock,
    readFile: (path) => readFileSync(path, 'utf8'),
    ...deps,
  } as EgressDeps);
  const proxy = await listenHandler(handler);
  const health = await listenHealth(handler);
  return {
    handler,
    proxy,
    health,
    logs,
    async stop() {
      await proxy.close();
      await health.close();
      await handler.close();
    },
  };
}

/** Fetches the published JWKS from the health listener. */
export async function publishedJwks(started: Started, path = '/.well-known/jwks.json'): Promise<JSONWebKeySet> {
  const a = await send(started.health.port, path);
  if (a.status !== 200) throw new Error(`JWKS answered ${a.status}`);
  return JSON.parse(a.body) as JSONWebKeySet;
}

/** The bearer token of an Authorization value. */
export function bearerOf(values: readonly string[]): string {
  if (values.length !== 1 || !values[0]!.startsWith('Bearer ')) throw new Error(`expected one bearer Authorization, got ${JSON.stringify(values)}`);
  return values[0]!.slice(7);
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request to `port` with `path` as the request target (absolute-URI form for proxy requests). */
export function send(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Sends `CONNECT authority`; resolves with the status and, for 200, the tunnel socket (else the body the proxy sent). */
export function connectVia(port: number, authority: string): Promise<{ status: number; socket: Socket; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'CONNECT', path: authority, agent: false });
    // Node reports every answer to CONNECT as 'connect'; a refusal's body follows on the socket.
    req.on('connect', (res, socket: Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      if (status === 200) return resolve({ status, socket, body: '' });
      const chunks: Buffer[] = [head];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve({ status, socket, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** HTTPS through the proxy: CONNECT, then TLS trusting `ca` (the proxy's interception CA), then one request. */
export async function httpsViaProxy(
  port: number,
  host: string,
  targetPort: number,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<Answer & { peerCert: string }> {
  const { status, socket } = await connectVia(port, `${host}:${targetPort}`);
  if (status !== 200) throw new Error(`CONNECT answered ${status}`);
  const tls = tlsConnect({ socket, host, ...(isIP(host) === 0 ? { servername: host } : {}), ca, ALPNProtocols: ['http/1.1'] });
  await once(tls, 'secureConnect');
  const peerCert = tls.getPeerX509Certificate()?.toString() ?? '';
  // An agent whose only connection is the tunnel: the request goes through the proxy, never straight to the target.
  const agent = new HttpsAgent();
  agent.createConnection = () => tls;
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port: targetPort, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        tls.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), peerCert });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly host: string | undefined;
  readonly authorization: string[];
  /** Every header as received (lower-case names, every value). */
  readonly headers: NodeJS.Dict<string[]>;
}

export interface Target {
  readonly port: number;
  readonly origin: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** A target (HTTP, or HTTPS with `tls`) that records every request's Authorization values and answers 200 `ok <path>`. */
export async function startTarget(tls?: { cert: string; key: string }): Promise<Target> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      host: req.headers.host,
      authorization: req.headersDistinct['authorization'] ?? [],
      headers: req.headersDistinct,
    });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`ok ${req.url ?? ''}`);
    });
  };
  const server = tls === undefined ? createServer(handler) : createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
