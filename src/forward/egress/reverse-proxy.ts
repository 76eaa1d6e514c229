/**
 * Reverse-proxy operation of the egress forwarder (oidc-proxy's egress mode): every request is
 * given a bearer token — for the configured audience, or the upstream's origin — and proxied to
 * the one upstream by the shared engine (path prefix, query merge, hop-by-hop hygiene, streaming,
 * 502 on upstream failure). Websocket upgrades get the token too. Absolute-URI requests are not
 * ours (that is forward-proxy operation): 400.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../obs/log.js';
import { answerTokenFailure, bearerEdits } from './edits.js';
import type { ProxyEngine } from '../engine/proxy.js';
import { BAD_PATH, BAD_REQUEST, writeReply, writeSocketReply } from '../engine/reply.js';
import { forwardTarget } from '../engine/target.js';
import type { TokenSource } from './tokens/source.js';

export interface ReverseEgressDeps {
  readonly source: TokenSource;
  readonly engine: ProxyEngine;
  readonly log: Logger;
}

export interface ReverseEgress {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

const protoOf = (req: IncomingMessage): 'http' | 'https' => ((req.socket as TLSSocket).encrypted === true ? 'https' : 'http');

/** Origin-form only, one Host header. */
function acceptable(req: IncomingMessage): boolean {
  return (req.url ?? '').startsWith('/') && (req.headersDistinct['host']?.length ?? 0) <= 1;
}

/** Puts the target the upstream will receive in `req.url` (engine/target.ts); false for a path to refuse (400). */
function canonical(req: IncomingMessage): boolean {
  const target = forwardTarget(req.url ?? '');
  if (target === undefined) return false;
  req.url = target;
  return true;
}

export function reverseEgress(d: ReverseEgressDeps): ReverseEgress {
  const { source, engine, log } = d;
  const audience = engine.upstream.origin;
  return {
    handle(req, res) {
      if (!acceptable(req)) return writeReply(res, BAD_REQUEST, req.method);
      if (!canonical(req)) {
        res.shouldKeepAlive = false;
        return writeReply(res, BAD_PATH, req.method);
      }
      source.token(audience).then(
        (token) => {
          if (!res.destroyed) engine.forward(req, res, bearerEdits(req, token, protoOf(req)));
        },
        (e: unknown) => answerTokenFailure(res, req.method, e, log, audience),
      );
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      if (!acceptable(req) || !engine.upgradable(req)) return writeSocketReply(socket, BAD_REQUEST, req.method);
      if (!canonical(req)) return writeSocketReply(socket, BAD_PATH, req.method);
      source.token(audience).then(
        (token) => {
          if (!socket.destroyed) engine.tunnel(req, socket, head, bearerEdits(req, token, protoOf(req)));
        },
        (e: unknown) => answerTokenFailure(socket, req.method, e, log, audience),
      );
    },
  };
}
