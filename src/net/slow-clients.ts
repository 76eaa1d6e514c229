/**
 * Slow-client limits for our node:http servers (slowloris: a head or a body dripped a few bytes at
 * a time keeps a connection and its memory forever). Node cuts a request whose head takes longer
 * than `headersTimeout`, or whose whole request takes longer than `requestTimeout`, with a 408 —
 * but only when its connection check runs, every 30 s by default; we check every second (a tenth of
 * the head limit when that is shorter), so a limit of 10 s acts within 11 s, not 40.
 */
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';

export interface SlowClientLimits {
  /** Receiving a request head (ms). */
  readonly headersMs: number;
  /** Receiving a whole request, head and body (ms); never below `headersMs`; 0: no limit. */
  readonly requestMs: number;
}

/** `HTTP_HEADERS_TIMEOUT` / `HTTP_REQUEST_TIMEOUT` defaults: ample for proxies and browsers on loopback or a LAN. */
export const DEFAULT_SLOW_CLIENT_LIMITS: SlowClientLimits = Object.freeze({ headersMs: 10_000, requestMs: 30_000 });

/** Applies `limits` to `server`; call it before `listen` (Node reads the check interval then). */
export function limitSlowClients(server: Server | TlsServer, limits: SlowClientLimits): void {
  server.headersTimeout = limits.headersMs;
  server.requestTimeout = limits.requestMs === 0 ? 0 : Math.max(limits.requestMs, limits.headersMs);
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = checkIntervalFor(limits.headersMs);
}

/** How often Node looks for connections past their limits (its `connectionsCheckingInterval`). */
export function checkIntervalFor(headersMs: number): number {
  return Math.max(10, Math.min(1000, Math.floor(headersMs / 10)));
}
