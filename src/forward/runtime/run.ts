/**
 * The forwarder runtime: runs any number of forwarder blocks (any modes) in one process. Each block
 * gets its mode's handler and its own listener — `host:port`, or `unix:/path` (socket mode, stale
 * file handling, removal on stop), optionally TLS (PEM cert and key, TLS 1.2 or later; never on a
 * unix socket). `Upgrade` requests go to the handler's `upgrade` (else 501), `CONNECT` to its
 * `connect` (else 405). If any handler or listener fails to start, everything started is stopped
 * and the start rejects naming the block. `stop(drainMs)` stops accepting, lets in-flight exchanges
 * finish for up to `drainMs`, then cuts what is left, closes the handlers and removes the sockets.
 * Every mode counts into one metrics registry (the one given, else one made here), which the health
 * listener serves on `/metrics`.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { answerClientErrors } from '../../net/client-errors.js';
import { checkIntervalFor } from '../../net/slow-clients.js';
import { createMetrics } from '../../obs/metrics.js';
import type { ForwarderDeps, ListenSpec, ModeDefinition, ModeHandler } from '../engine/mode.js';
import { UNAVAILABLE, writeReply, writeSocketReply, type HttpReply } from '../engine/reply.js';
import { createHealthServer, notReady } from './health.js';
import { describeAddress, listenAt, parseListenAddress, removeSocket, type ListenAddress } from './listen.js';

/** One parsed `forwarders:` entry (blocks.ts, compat/oidc-proxy.ts). */
export interface ForwarderBlock {
  readonly name: string;
  readonly mode: string;
  readonly listen: ListenSpec;
  /** What the mode's `parse` returned. */
  readonly options: unknown;
}

export interface ServerTimeouts {
  /** Idle client keep-alive connections are closed after this (default 75 000 ms). */
  readonly keepAliveMs?: number;
  /** Receiving a request head (default 60 000 ms). */
  readonly headersMs?: number;
  /** Receiving a whole request, body included (default 300 000 ms; 0 = none). */
  readonly requestMs?: number;
}

export interface RuntimeDeps extends ForwarderDeps {
  /** The health listener (`host:port`, `unix:/path`); none when absent. */
  readonly healthListen?: string;
  readonly serverTimeouts?: ServerTimeouts;
}

export interface RunningListener {
  readonly name: string;
  readonly mode: string;
  /** `host:port` with the bound port, or `unix:/path`. */
  readonly address: string;
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
}

export interface Forwarders {
  readonly listeners: readonly RunningListener[];
  /** The health listener's bound port, when there is one on TCP. */
  readonly healthPort?: number;
  /** Names of the forwarders not ready now (empty: all ready). */
  notReady(): Promise<string[]>;
  /** Stops accepting, drains for up to `drainMs`, closes handlers, removes unix sockets. Idempotent. */
  stop(drainMs: number): Promise<void>;
}

const reply = (status: number, body: string): HttpReply => ({ status, headers: [['content-type', 'text/plain; charset=utf-8']], body });
const NOT_IMPLEMENTED = reply(501, 'Upgrade not supported here');
const NO_CONNECT: HttpReply = {
  status: 405,
  headers: [
    ['content-type', 'text/plain; charset=utf-8'],
    ['allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
  ],
  body: 'CONNECT not supported here',
};

interface Running {
  readonly name: string;
  readonly server: Server;
  readonly addr: ListenAddress;
  readonly upgraded: Set<Duplex>;
  closing: boolean;
}

function serverFor(block: ForwarderBlock, handler: ModeHandler, deps: RuntimeDeps, addr: ListenAddress): Running {
  const t = deps.serverTimeouts ?? {};
  const options: ServerOptions = {
    maxHeaderSize: 65_536,
    keepAlive: true,
    requireHostHeader: true,
    headersTimeout: t.headersMs ?? 60_000,
    requestTimeout: t.requestMs ?? 300_000,
    connectionsCheckingInterval: checkIntervalFor(t.headersMs ?? 60_000),
  };
  let server: Server;
  if (block.listen.tls !== undefined) {
    const { certFile, keyFile } = block.listen.tls;
    const read = (what: string, p: string): string => {
      try {
        return deps.readFile(p);
      } catch (e) {
        throw new Error(`tls.${what}: cannot read ${p} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    };
    server = createTlsServer({ ...options, cert: read('certFile', certFile), key: read('keyFile', keyFile), minVersion: 'TLSv1.2' });
  } else server = createServer(options);
  server.keepAliveTimeout = t.keepAliveMs ?? 75_000;
  answerClientErrors(server);
  const run: Running = { name: block.name, server, addr, upgraded: new Set(), closing: false };
  const settled = (): void => {
    if (run.closing) server.closeIdleConnections();
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (run.closing) res.shouldKeepAlive = false;
    res.once('finish', settled);
    try {
      handler.handle(req, res);
    } catch (e) {
      deps.log.error({ forwarder: block.name, err: { message: (e as Error).message } }, 'forwarder failed; answered 503');
      writeReply(res, UNAVAILABLE, req.method);
    }
  });
  const raw = (kind: 'upgrade' | 'connect') => (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    run.upgraded.add(socket);
    socket.once('close', () => run.upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    if (run.closing) return writeSocketReply(socket, UNAVAILABLE, req.method);
    const fn = kind === 'upgrade' ? handler.upgrade : handler.connect;
    if (fn === undefined) return writeSocketReply(socket, kind === 'upgrade' ? NOT_IMPLEMENTED : NO_CONNECT, req.method);
    try {
      fn.call(handler, req, socket, head);
    } catch (e) {
      deps.log.error({ forwarder: block.name, err: { message: (e as Error).message } }, `forwarder ${kind} failed; answered 503`);
      writeSocketReply(socket, UNAVAILABLE, req.method);
    }
  };
  server.on('upgrade', raw('upgrade'));
  server.on('connect', raw('connect'));
  return run;
}

function closeServer(r: Running, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    r.closing = true;
    const force = setTimeout(() => {
      r.server.closeAllConnections();
      for (const s of r.upgraded) s.destroy();
    }, drainMs);
    r.server.close(() => {
      clearTimeout(force);
      resolve();
    });
    r.server.closeIdleConnections();
  });
}

export async function startForwarders(
  blocks: readonly ForwarderBlock[],
  modes: ReadonlyMap<string, ModeDefinition<unknown>>,
  deps: RuntimeDeps,
): Promise<Forwarders> {
  const handlers: { name: string; handler: ModeHandler }[] = [];
  const running: Running[] = [];
  const listeners: RunningListener[] = [];
  let health: Server | undefined;
  let healthAddr: ListenAddress | undefined;
  let healthPort: number | undefined;
  let stopped: Promise<void> | undefined;
  const metrics = deps.metrics ?? createMetrics();
  const modeDeps: RuntimeDeps = { ...deps, metrics };

  const stop = (drainMs: number): Promise<void> =>
    (stopped ??= (async () => {
      const closing = running.map((r) => closeServer(r, drainMs));
      if (health !== undefined) {
        const h = health;
        closing.push(new Promise<void>((resolve) => h.close(() => resolve())));
        h.closeAllConnections();
      }
      await Promise.all(closing);
      await Promise.all(
        handlers.map(({ name, handler }) =>
          handler.close().catch((e: unknown) => deps.log.warn({ forwarder: name, err: { message: (e as Error).message } }, 'forwarder did not close cleanly')),
        ),
      );
      const sockets = [...running.map((r) => r.addr), ...(healthAddr ? [healthAddr] : [])];
      await Promise.all(sockets.map((a) => (a.kind === 'unix' ? removeSocket(a.path) : undefined)));
    })());

  try {
    for (const [i, block] of blocks.entries()) {
      const label = `forwarders[${i}] (${block.name})`;
      const def = modes.get(block.mode);
      if (def === undefined) throw new Error(`${label}: unknown mode "${block.mode}"`);
      const addr = parseListenAddress(block.listen.address);
      if (typeof addr === 'string') throw new Error(`${label}: listen ${block.listen.address}: ${addr}`);
      if (addr.kind === 'unix' && block.listen.tls !== undefined) throw new Error(`${label}: TLS cannot be used with a unix-socket listener`);
      let handler: ModeHandler;
      try {
        handler = await def.create(block.options, modeDeps);
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`);
      }
      handlers.push({ name: block.name, handler });
      let r: Running;
      try {
        r = serverFor(block, handler, deps, addr);
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`);
      }
      let port: number;
      try {
        port = await listenAt(r.server, addr, block.listen.socketMode);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(`${label}: cannot listen on ${block.listen.address}: ${code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message}`);
      }
      running.push(r);
      listeners.push({ name: block.name, mode: block.mode, address: describeAddress(addr, port), port });
      deps.log.info(
        { forwarder: block.name, mode: block.mode, listen: describeAddress(addr, port), tls: block.listen.tls !== undefined },
        'forwarder listening',
      );
    }
    if (deps.healthListen !== undefined) {
      const addr = parseListenAddress(deps.healthListen);
      if (typeof addr === 'string') throw new Error(`health listen ${deps.healthListen}: ${addr}`);
      health = createHealthServer(handlers, deps.log, metrics);
      try {
        healthPort = await listenAt(health, addr);
      } catch (e) {
        health = undefined;
        throw new Error(`health listener: cannot listen on ${deps.healthListen}: ${(e as Error).message}`);
      }
      healthAddr = addr;
      deps.log.info({ listen: describeAddress(addr, healthPort) }, 'forwarder health listening (/healthz, /readyz, /metrics)');
    }
  } catch (e) {
    await stop(0);
    throw e;
  }
  return {
    listeners,
    ...(healthPort !== undefined ? { healthPort } : {}),
    notReady: () => notReady(handlers),
    stop,
  };
}
