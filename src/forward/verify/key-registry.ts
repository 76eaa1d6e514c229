/**
 * jwtproxy key-registry client for the verifier: the public key of (`iss`, `kid`) from
 * `GET <registry>/services/<iss>/keys/<kid>` (both segments escaped), kept as long as the
 * registry's `Cache-Control: max-age` says (capped at a day; `no-store`/`no-cache`/no max-age: not
 * kept). Concurrent lookups of one key share one request. 404 (unknown), 403 (expired) and 409
 * (awaiting approval) reject the token; anything else (network, 5xx, a key that will not import)
 * is "unavailable" — logged with its status, never shown to the client.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { HttpClient } from '../../net/http-client.js';
import type { Logger } from '../../obs/log.js';

export type RegistryAnswer =
  | { readonly kind: 'key'; readonly key: KeyObject; readonly alg?: string }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface KeyRegistryOptions {
  /** Base URL, e.g. `http://registry:8080` (a path is kept as a prefix). */
  readonly url: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Extra CA certificates (PEM) for an https registry. */
  readonly caPem?: string;
  readonly timeoutMs?: number;
}

const MAX_AGE_CAP_S = 86_400;

/** Seconds a response may be kept: its `max-age`, or 0 when it must not be kept. */
export function cacheSeconds(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return 0;
  const parts = cacheControl.toLowerCase().split(',').map((p) => p.trim());
  if (parts.includes('no-store') || parts.includes('no-cache')) return 0;
  const m = parts.map((p) => /^max-age=(\d+)$/.exec(p)).find((x) => x !== null);
  return m ? Math.min(Number(m[1]), MAX_AGE_CAP_S) : 0;
}

export class KeyRegistryClient {
  readonly #o: KeyRegistryOptions;
  readonly #http: HttpClient;
  readonly #base: string;
  readonly #cache = new Map<string, { answer: RegistryAnswer; until: number }>();
  readonly #inflight = new Map<string, Promise<RegistryAnswer>>();

  constructor(o: KeyRegistryOptions) {
    this.#o = o;
    this.#http = new HttpClient({ timeoutMs: o.timeoutMs ?? 10_000, maxRedirects: 0, userAgent: 'oidc-judge KeyRegistryClient', ...(o.caPem !== undefined ? { caPem: o.caPem } : {}) });
    this.#base = o.url.replace(/\/+$/, '');
  }

  lookup(iss: string, kid: string): Promise<RegistryAnswer> {
    const id = `${iss}\0${kid}`;
    const hit = this.#cache.get(id);
    if (hit !== undefined) {
      if (hit.until > this.#o.clock.now()) return Promise.resolve(hit.answer);
      this.#cache.delete(id);
    }
    let p = this.#inflight.get(id);
    if (p === undefined) {
      p = this.#fetch(id, iss, kid).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, p);
    }
    return p;
  }

  async #fetch(id: string, iss: string, kid: string): Promise<RegistryAnswer> {
    const path = `/services/${encodeURIComponent(iss)}/keys/${encodeURIComponent(kid)}`;
    const { log, clock } = this.#o;
    let status: number;
    let body: Buffer;
    let cc: string | undefined;
    try {
      const res = await this.#http.request(this.#base + path, { headers: { accept: 'application/json' } });
      status = res.status;
      body = res.body;
      cc = res.headers['cache-control'];
    } catch (e) {
      log.warn({ registry: this.#base, err: { message: (e as Error).message } }, 'key registry unreachable');
      return { kind: 'unavailable', reason: 'key registry unreachable' };
    }
    if (status === 404) return { kind: 'none', reason: 'key unknown to the registry' };
    if (status === 403) return { kind: 'none', reason: 'key expired in the registry' };
    if (status === 409) return { kind: 'none', reason: 'key not yet approved in the registry' };
    if (status !== 200) {
      log.warn({ registry: this.#base, status }, 'key registry answered an unexpected status');
      return { kind: 'unavailable', reason: 'unexpected key registry answer' };
    }
    let answer: RegistryAnswer;
    try {
      const jwk = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (jwk === null || typeof jwk !== 'object' || typeof jwk['kty'] !== 'string') throw new Error('not a JWK');
      const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
      answer = { kind: 'key', key, ...(typeof jwk['alg'] === 'string' ? { alg: jwk['alg'] } : {}) };
    } catch (e) {
      log.warn({ registry: this.#base, err: { message: (e as Error).message } }, 'key registry returned an unusable key');
      return { kind: 'unavailable', reason: 'unusable key from the registry' };
    }
    const keep = cacheSeconds(cc);
    if (keep > 0) this.#cache.set(id, { answer, until: clock.now() + keep * 1000 });
    return answer;
  }

  close(): void {
    this.#http.close();
    this.#cache.clear();
  }
}
