/**
 * Client of jwtproxy's key-registry protocol (quay/jwtproxy `keyserver/keyregistry`): look a key
 * up (`GET /services/<service>/keys/<kid>`: 200 approved, 409 pending, 403 expired, 404 unknown),
 * publish one (`PUT` with the public JWK and `?expiration=&rotation=`, authorised by a bearer JWT
 * signed by the key itself or by the approved key it rotates: 200 replaced/approved, 202 awaiting
 * approval) and revoke one (`DELETE`, self-signed, 204). Path segments are escaped; the bearer
 * token's `aud` is the registry's `scheme://host[:port]`.
 */
import type { JWK } from 'jose';
import { HttpClient, HttpClientError } from '../../../net/http-client.js';
import { audienceOf, type SigningKey } from './jwtproxy-claims.js';

export type KeyState = 'approved' | 'pending' | 'expired' | 'unknown';

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

export interface KeyRegistryClientOptions {
  /** The registry's base URL. */
  readonly registry: string;
  /** `<service>` in the paths: the signer's issuer. */
  readonly service: string;
  /** Signs the bearer token authorising a request (the jwtproxy claim set with `aud` = the registry origin). */
  readonly sign: (key: SigningKey, audience: string) => Promise<string>;
  readonly timeoutMs?: number;
  /** Extra trusted CAs (PEM) for an https registry. */
  readonly caPem?: string;
}

const STATES: Record<number, KeyState> = { 200: 'approved', 409: 'pending', 403: 'expired', 404: 'unknown' };

export class KeyRegistryClient {
  readonly #o: KeyRegistryClientOptions;
  readonly #http: HttpClient;
  readonly #base: string;
  readonly #audience: string;

  constructor(o: KeyRegistryClientOptions) {
    this.#o = o;
    this.#base = o.registry.replace(/\/+$/, '');
    this.#audience = audienceOf(o.registry);
    this.#http = new HttpClient({
      timeoutMs: o.timeoutMs ?? 10_000,
      maxRedirects: 0,
      userAgent: 'KeyRegistryClient/0.1.0',
      ...(o.caPem !== undefined ? { caPem: o.caPem } : {}),
    });
  }

  keyUrl(kid: string): string {
    return `${this.#base}/services/${encodeURIComponent(this.#o.service)}/keys/${encodeURIComponent(kid)}`;
  }

  async #send(method: string, url: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: Buffer }> {
    try {
      const res = await this.#http.request(url, { method, ...init });
      return { status: res.status, body: res.body };
    } catch (cause) {
      const code = cause instanceof HttpClientError ? cause.code : 'network';
      throw new RegistryError(`${method} key registry: ${code}`, undefined, { cause });
    }
  }

  /** Where a key stands; the JWK when approved. */
  async state(kid: string): Promise<{ state: KeyState; jwk?: JWK }> {
    const res = await this.#send('GET', this.keyUrl(kid), { headers: { accept: 'application/json' } });
    const state = STATES[res.status];
    if (state === undefined) throw new RegistryError(`GET key ${kid}: the registry answered ${res.status}`, res.status);
    if (state !== 'approved') return { state };
    try {
      return { state, jwk: JSON.parse(res.body.toString('utf8')) as JWK };
    } catch (cause) {
      throw new RegistryError(`GET key ${kid}: the registry answered 200 without a JWK`, 200, { cause });
    }
  }

  /** Publishes `key`'s public JWK, authorised by `signer` (the key itself, or the active key it rotates). */
  async publish(key: SigningKey, signer: SigningKey, policy?: { readonly expiration: number; readonly rotation: number }): Promise<'approved' | 'pending'> {
    const query = policy === undefined ? '' : `?expiration=${Math.floor(policy.expiration)}&rotation=${Math.floor(policy.rotation)}`;
    const { kid, kty, alg, use, e, n } = key.publicJwk;
    const res = await this.#send('PUT', this.keyUrl(key.kid) + query, {
      headers: { authorization: `Bearer ${await this.#o.sign(signer, this.#audience)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kid, kty, alg, use, e, n }),
    });
    if (res.status === 200) return 'approved';
    if (res.status === 202) return 'pending';
    throw new RegistryError(`PUT key ${key.kid}: the registry answered ${res.status}${res.status === 403 ? ' (wrong signer)' : ''}`, res.status);
  }

  /** Revokes `key`, self-signed; anything but 204 is an error. */
  async revoke(key: SigningKey): Promise<void> {
    const res = await this.#send('DELETE', this.keyUrl(key.kid), { headers: { authorization: `Bearer ${await this.#o.sign(key, this.#audience)}` } });
    if (res.status !== 204) throw new RegistryError(`DELETE key ${key.kid}: the registry answered ${res.status}`, res.status);
  }

  close(): void {
    this.#http.close();
  }
}
