/**
 * HTTPS through the egress forward proxy: `CONNECT host:port` is intercepted with a configured CA.
 * The proxy answers 200, terminates the client's TLS with a certificate for `host` minted on the
 * fly (x509.ts; one cached per host, one EC P-256 key for all), reads the HTTP requests inside,
 * gives each a token for `aud` = `https://host[:port]` and sends it to the real host over TLS,
 * verified against the system roots plus the configured bundle (engine pool). The target is the
 * CONNECT authority, never the inner `Host` header. Without a CA, CONNECT is refused with 405; a
 * target not in `allowHosts` with 403, before any tunnel opens.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import { answerTokenFailure, bearerEdits } from './edits.js';
import type { EnginePool } from './engines.js';
import { HOST_NOT_ALLOWED } from './forward-proxy.js';
import type { HostAllowList } from './allow-hosts.js';
import { BAD_REQUEST, writeReply, writeSocketHead, writeSocketReply, type HttpReply } from '../engine/reply.js';
import type { TokenSource } from './tokens/source.js';
import { mintLeafCertificate, type CertificateAuthority } from './x509.js';

const DAY = 86_400_000;

export const CONNECT_REFUSED: HttpReply = {
  status: 405,
  headers: [['content-type', 'text/plain; charset=utf-8']],
  body: 'CONNECT is not available: this proxy has no CA to intercept TLS (connectCa).\n',
};

export interface ConnectDeps {
  readonly source: TokenSource;
  readonly pool: EnginePool;
  readonly log: Logger;
  readonly clock: Clock;
  /** Absent: CONNECT is refused. */
  readonly ca?: CertificateAuthority;
  /** `allowHosts`; absent: every host. */
  readonly allow?: HostAllowList;
  /** Leaf certificate lifetime (default 7 days, never past the CA's expiry). */
  readonly leafDays?: number;
  /** Hosts whose certificates are cached (default 1 000). */
  readonly maxHosts?: number;
  /** Client TLS handshake deadline (default 10 000 ms). */
  readonly handshakeMs?: number;
}

export interface ConnectHandler {
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Certificates minted so far (for tests and metrics). */
  minted(): number;
  close(): void;
}

/** `host:port` of a CONNECT target: lower-case hostname (IPv6 without brackets) and port; undefined when malformed. */
export function connectAuthority(target: string): { hostname: string; port: number; origin: string } | undefined {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s/?#@[\]:]+):\d{1,5}$/.test(target)) return undefined;
  let url: URL;
  try {
    url = new URL(`https://${target}/`);
  } catch {
    return undefined;
  }
  const port = url.port === '' ? 443 : Number(url.port);
  if (port === 0) return undefined;
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port, origin: url.origin };
}

interface Tunnel {
  readonly origin: string;
  readonly peer: string;
}

export function createConnectHandler(d: ConnectDeps): ConnectHandler {
  const { ca, log } = d;
  const leaf: { publicKey: KeyObject; privateKey: KeyObject } | undefined =
    ca === undefined ? undefined : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const leafKeyPem = leaf?.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const contexts = new Map<string, { ctx: SecureContext; renewAt: number }>();
  const tunnels = new WeakMap<object, Tunnel>();
  const open = new Set<Duplex>();
  let minted = 0;

  function contextFor(host: string): SecureContext {
    const now = d.clock.now();
    const hit = contexts.get(host);
    if (hit !== undefined && now < hit.renewAt) return hit.ctx;
    const notAfter = Math.min(now + (d.leafDays ?? 7) * DAY, ca!.notAfter.getTime());
    const cert = mintLeafCertificate(ca!, { host, publicKey: leaf!.publicKey, notBefore: new Date(now - 3_600_000), notAfter: new Date(notAfter) });
    minted++;
    const ctx = createSecureContext({ cert, key: leafKeyPem!, minVersion: 'TLSv1.2' });
    contexts.delete(host);
    contexts.set(host, { ctx, renewAt: notAfter - Math.min(DAY, (notAfter - now) / 2) });
    if (contexts.size > (d.maxHosts ?? 1_000)) contexts.delete(contexts.keys().next().value!);
    return ctx;
  }

  /** One request read from inside a tunnel: signed for the tunnel's origin and sent there over TLS. */
  function inner(req: IncomingMessage, res: ServerResponse): void {
    const tunnel = tunnels.get(req.socket);
    if (tunnel === undefined || !(req.url ?? '').startsWith('/')) return writeReply(res, BAD_REQUEST, req.method);
    d.source.token(tunnel.origin).then(
      (token) => {
        if (!res.destroyed) d.pool.get(tunnel.origin).forward(req, res, bearerEdits(req, token, 'https', tunnel.peer));
      },
      (e: unknown) => answerTokenFailure(res, req.method, e, log, tunnel.origin),
    );
  }

  const server = createServer({ keepAlive: true, requireHostHeader: false, headersTimeout: 60_000, requestTimeout: 300_000 }, inner);
  server.keepAliveTimeout = 75_000;
  server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => writeSocketReply(socket, BAD_REQUEST, 'GET'));
  server.on('clientError', (_e, socket: Duplex) => socket.destroy());

  function connect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (ca === undefined) return writeSocketReply(socket, CONNECT_REFUSED, 'CONNECT');
    const target = connectAuthority(req.url ?? '');
    if (target === undefined) return writeSocketReply(socket, BAD_REQUEST, 'CONNECT');
    if (d.allow !== undefined && !d.allow(target.hostname, target.port)) {
      log.info({ host: target.hostname, port: target.port }, 'egress: CONNECT destination not in allowHosts (403)');
      return writeSocketReply(socket, HOST_NOT_ALLOWED, 'CONNECT');
    }
    let ctx: SecureContext;
    try {
      ctx = contextFor(target.hostname);
    } catch (e) {
      log.error({ host: target.hostname, err: (e as Error).message }, 'could not mint a certificate for CONNECT');
      return writeSocketReply(socket, { ...BAD_REQUEST, status: 502, body: 'Bad gateway' }, 'CONNECT');
    }
    if (!writeSocketHead(socket, 200, [])) return void socket.destroy();
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket, { isServer: true, secureContext: ctx, ALPNProtocols: ['http/1.1'] });
    tunnels.set(tls, { origin: target.origin, peer: req.socket.remoteAddress ?? '' });
    open.add(tls);
    const deadline = setTimeout(() => tls.destroy(), d.handshakeMs ?? 10_000);
    deadline.unref();
    tls.once('secure', () => clearTimeout(deadline));
    tls.once('close', () => {
      clearTimeout(deadline);
      open.delete(tls);
      socket.destroy();
    });
    tls.on('error', (e: NodeJS.ErrnoException) => {
      log.debug({ host: target.hostname, code: e.code }, 'CONNECT tunnel TLS error');
      tls.destroy();
    });
    server.emit('connection', tls);
  }

  return {
    connect,
    minted: () => minted,
    close() {
      for (const s of open) s.destroy();
      open.clear();
      server.close();
    },
  };
}
