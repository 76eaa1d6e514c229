/**
 * Proxy engines per target origin for the egress forward proxy: absolute-URI requests and the
 * requests decrypted from CONNECT tunnels go to many origins, each with its own keep-alive pool.
 * An origin's engine is made on first use and kept in a bounded most-recently-used map (an evicted
 * engine is only dropped: its idle sockets time out on their own, exchanges in flight finish).
 */
import { rootCertificates } from 'node:tls';
import type { Logger } from '../../obs/log.js';
import { createProxyEngine, type ProxyEngine, type UpstreamTls } from '../engine/proxy.js';

export interface EnginePoolOptions {
  readonly log: Logger;
  /** Extra trusted CAs (PEM) for https targets, added to the system roots. */
  readonly extraCaPem?: string;
  readonly insecureSkipVerify?: boolean;
  /** Origins kept (default 256). */
  readonly maxOrigins?: number;
}

export class EnginePool {
  readonly #o: EnginePoolOptions;
  readonly #engines = new Map<string, ProxyEngine>();
  readonly #tls: UpstreamTls;

  constructor(o: EnginePoolOptions) {
    this.#o = o;
    this.#tls = {
      ...(o.extraCaPem !== undefined ? { ca: [...rootCertificates, o.extraCaPem].join('\n') } : {}),
      rejectUnauthorized: o.insecureSkipVerify !== true,
    };
  }

  /** The engine for `origin` (`scheme://host[:port]`). */
  get(origin: string): ProxyEngine {
    let e = this.#engines.get(origin);
    if (e !== undefined) {
      this.#engines.delete(origin);
      this.#engines.set(origin, e);
      return e;
    }
    e = createProxyEngine({ upstream: origin, log: this.#o.log, host: 'upstream', tls: this.#tls, paths: 'raw' });
    this.#engines.set(origin, e);
    if (this.#engines.size > (this.#o.maxOrigins ?? 256)) this.#engines.delete(this.#engines.keys().next().value!);
    return e;
  }

  close(): void {
    for (const e of this.#engines.values()) e.close();
    this.#engines.clear();
  }
}
