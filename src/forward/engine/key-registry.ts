/**
 * The one client of jwtproxy's key-registry protocol (quay/jwtproxy `keyserver/keyregistry`), for
 * both modes that speak it. One key lives at `<registry>/services/<service>/keys/<kid>` (segments
 * escaped); a GET answers 200 (approved, the public JWK), 409 (pending), 403 (expired) or 404
 * (unknown). The read side (`KeyRegistryReader`, the verify mode) looks keys of many issuers up and
 * keeps them as long as `Cache-Control: max-age` says (capped at a day; `no-store`/`no-cache`/no
 * max-age: not kept), one request in flight per key. The write side (`KeyRegistryWriter`, the
 * egress jwtproxy token source) asks where its own key stands, publishes one (`PUT` with the
 * public JWK and `?expiration=&rotation=`, authorised by a bearer JWT signed by the key itself or
 * by the approved key it rotates: 200 approved, 202 pending) and revokes one (`DELETE`, 204). The
 * bearer token's `aud` is the registry's origin.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { Clock } from '../../clock.js';
import { HttpClient, HttpClientError } from '../../net/http-client.js';
import type { Logger } from '../../obs/log.js';

export type KeyState = 'approved' | 'pending' | 'expired' | 'unknown';

const STATES: Readonly<Record<number, KeyState>> = { 200: 'approved', 409: 'pending', 403: 'expired', 404: 'unknown' };
const MAX_AGE_CAP_S = 86_400;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Connection {
  /** Base URL, e.g. `http://registry:8080` (a path is kept as a prefix). */
  readonly url: string;
  /** Extra CA certificates (PEM) for an https registry. */
  readonly caPem?: string;
  readonly timeoutMs?: number;
}

/** Seconds a response may be kept: its `max-age`, or 0 when it must not be kept. */
export function cacheSeconds(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return 0;
  const parts = cacheControl
    .toLowerCase()
    .split(',')
    .map((p) => p.trim());
  if (parts.includes('no-store') || parts.includes('no-cache')) return 0;
  const m = parts.map((p) => /^max-age=(\d+)$/.exec(p)).find((x) => x !== null);
  return m ? Math.min(Number(m[1]), MAX_AGE_CAP_S) : 0;
}

/** The HTTP side both halves share: one base URL, one key path, one reading of a GET. */
class Registry {
  readonly base: string;
  readonly #http: HttpClient;

  constructor(c: Connection, userAgent: string) {
    this.base = c.url.replace(/\/+$/, '');
    this.#http = new HttpClient({ timeoutMs: c.timeoutMs ?? 10_000, maxRedirects: 0, userAgent, ...(c.caPem !== undefined ? { caPem: c.caPem } : {}) });
  }

  keyUrl(service: string, kid: string): string {
    return `${this.base}/services/${encodeURIComponent(service)}/keys/${encodeURIComponent(kid)}`;
  }

  /** One call; transport problems throw a `RegistryError` naming the method and the failure kind. */
  async send(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: Buffer; cacheControl: string | undefined }> {
    try {
      const res = await this.#http.request(url, { method, ...init });
      return { status: res.status, body: res.body, cacheControl: res.headers['cache-control'] };
    } catch (cause) {
      const code = cause instanceof HttpClientError ? cause.code : 'network';
      throw new RegistryError(`${method} key registry: ${code}`, undefined, { cause });
    }
  }

  /** Where a key stands (the raw answer with it); an unexpected status throws. */
  async get(service: string, kid: string): Promise<{ state: KeyState; body: Buffer; cacheControl: string | undefined }> {
    const res = await this.send('GET', this.keyUrl(service, kid), { headers: { accept: 'application/json' } });
    const state = STATES[res.status];
    if (state === undefined) throw new RegistryError(`GET key ${kid}: the registry answered ${res.status}`, res.status);
    return { state, body: res.body, cacheControl: res.cacheControl };
  }

  close(): void {
    this.#http.close();
  }
}

// ---- read side (the verify mode) ----

export type RegistryAnswer =
  | { readonly kind: 'key'; readonly key: KeyObject; readonly alg?: string }
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface KeyRegistryReaderOptions extends Connection {
  readonly clock: Clock;
  readonly log: Logger;
}

const REFUSED: Readonly<Record<Exclude<KeyState, 'approved'>, string>> = {
  unknown: 'key unknown to the registry',
  expired: 'key expired in the registry',
  pending: 'key not yet approved in the registry',
};

/**
 * Public keys of (`iss`, `kid`). Unknown, expired and pending keys reject the token; anything else
 * (network, 5xx, a key that will not import) is "unavailable" — logged with its status, never
 * shown to the client.
 */
export class KeyRegistryReader {
  readonly #o: KeyRegistryReaderOptions;
  readonly #registry: Registry;
  readonly #cache = new Map<string, { answer: RegistryAnswer; until: number }>();
  readonly #inflight = new Map<string, Promise<RegistryAnswer>>();

  constructor(o: KeyRegistryReaderOptions) {
    this.#o = o;
    this.#registry = new Registry(o, 'oidc-judge KeyRegistryClient');
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
    const { log, clock } = this.#o;
    const registry = this.#registry.base;
    let got;
    try {
      got = await this.#registry.get(iss, kid);
    } catch (e) {
      const status = (e as RegistryError).status;
      if (status !== undefined) {
        log.warn({ registry, status }, 'key registry answered an unexpected status');
        return { kind: 'unavailable', reason: 'unexpected key registry answer' };
      }
      log.warn({ registry, err: { message: ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message } }, 'key registry unreachable');
      return { kind: 'unavailable', reason: 'key registry unreachable' };
    }
    if (got.state !== 'approved') return { kind: 'none', reason: REFUSED[got.state] };
    let answer: RegistryAnswer;
    try {
      const jwk = JSON.parse(got.body.toString('utf8')) as Record<string, unknown>;
      if (jwk === null || typeof jwk !== 'object' || typeof jwk['kty'] !== 'string') throw new Error('not a JWK');
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      answer = { kind: 'key', key, ...(typeof jwk['alg'] === 'string' ? { alg: jwk['alg'] } : {}) };
    } catch (e) {
      log.warn({ registry, err: { message: (e as Error).message } }, 'key registry returned an unusable key');
      return { kind: 'unavailable', reason: 'unusable key from the registry' };
    }
    const keep = cacheSeconds(got.cacheControl);
    if (keep > 0) this.#cache.set(id, { answer, until: clock.now() + keep * 1000 });
    return answer;
  }

  close(): void {
    this.#registry.close();
    this.#cache.clear();
  }
}

// ---- write side (the egress jwtproxy token source) ----

/** A key the writer publishes: its id and public JWK (jwtproxy's serialisation). */
export interface PublishedKey {
  readonly kid: string;
  readonly publicJwk: JWK;
}

export interface KeyRegistryWriterOptions<K extends PublishedKey> {
  /** The registry's base URL. */
  readonly registry: string;
  /** `<service>` in the paths: the signer's issuer. */
  readonly service: string;
  /** Signs the bearer token authorising a request (the jwtproxy claim set with `aud` = the registry origin). */
  readonly sign: (key: K, audience: string) => Promise<string>;
  readonly timeoutMs?: number;
  /** Extra trusted CAs (PEM) for an https registry. */
  readonly caPem?: string;
}

export class KeyRegistryWriter<K extends PublishedKey> {
  readonly #o: KeyRegistryWriterOptions<K>;
  readonly #registry: Registry;
  readonly #audience: string;

  constructor(o: KeyRegistryWriterOptions<K>) {
    this.#o = o;
    this.#registry = new Registry(
      { url: o.registry, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}), ...(o.caPem !== undefined ? { caPem: o.caPem } : {}) },
      'KeyRegistryClient/0.1.0',
    );
    this.#audience = new URL(o.registry).origin;
  }

  keyUrl(kid: string): string {
    return this.#registry.keyUrl(this.#o.service, kid);
  }

  /** Where a key stands; the JWK when approved. */
  async state(kid: string): Promise<{ state: KeyState; jwk?: JWK }> {
    const { state, body } = await this.#registry.get(this.#o.service, kid);
    if (state !== 'approved') return { state };
    try {
      return { state, jwk: JSON.parse(body.toString('utf8')) as JWK };
    } catch (cause) {
      throw new RegistryError(`GET key ${kid}: the registry answered 200 without a JWK`, 200, { cause });
    }
  }

  /** Publishes `key`'s public JWK, authorised by `signer` (the key itself, or the active key it rotates). */
  async publish(key: K, signer: K, policy?: { readonly expiration: number; readonly rotation: number }): Promise<'approved' | 'pending'> {
    const query = policy === undefined ? '' : `?expiration=${Math.floor(policy.expiration)}&rotation=${Math.floor(policy.rotation)}`;
    const { kid, kty, alg, use, e, n } = key.publicJwk;
    const res = await this.#registry.send('PUT', this.keyUrl(key.kid) + query, {
      headers: { authorization: `Bearer ${await this.#o.sign(signer, this.#audience)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kid, kty, alg, use, e, n }),
    });
    if (res.status === 200) return 'approved';
    if (res.status === 202) return 'pending';
    throw new RegistryError(`PUT key ${key.kid}: the registry answered ${res.status}${res.status === 403 ? ' (wrong signer)' : ''}`, res.status);
  }

  /** Revokes `key`, self-signed; anything but 204 is an error. */
  async revoke(key: K): Promise<void> {
    const res = await this.#registry.send('DELETE', this.keyUrl(key.kid), { headers: { authorization: `Bearer ${await this.#o.sign(key, this.#audience)}` } });
    if (res.status !== 204) throw new RegistryError(`DELETE key ${key.kid}: the registry answered ${res.status}`, res.status);
  }

  close(): void {
    this.#registry.close();
  }
}
