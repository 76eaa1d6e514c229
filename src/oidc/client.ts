/**
 * The relying-party side of the provider, on `openid-client`: a `Configuration` built from the
 * metadata our own non-blocking discovery found (start-up never waits for the provider), with the
 * configured client authentication, and every HTTP call made through our `HttpClient` (so
 * `CA_BUNDLE`, timeouts and size limits apply to the token, userinfo and revocation endpoints too).
 */
import * as oidc from 'openid-client';
import type { Config } from '../config/schema.js';
import type { HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { Discovery, ProviderMetadata } from './discovery.js';

export type OidcClientConfig = Pick<Config, 'clientId' | 'clientSecret' | 'tokenEndpointAuthMethod'>;

/**
 * The span name of a call openid-client makes (tracing on): which of the provider's endpoints it
 * goes to — a token request with `grant_type=refresh_token` is a refresh.
 */
export function callName(url: string, body: unknown, md: ProviderMetadata | undefined): string {
  const bare = url.split('?')[0];
  if (md?.token_endpoint === bare) return typeof body === 'string' && /(^|&)grant_type=refresh_token(&|$)/.test(body) ? 'oidc.refresh' : 'oidc.token';
  if (md?.userinfo_endpoint === bare) return 'oidc.userinfo';
  if (md?.['introspection_endpoint'] === bare) return 'oidc.introspection';
  if (md?.['revocation_endpoint'] === bare) return 'oidc.revocation';
  return 'oidc.call';
}

/** Adapts `HttpClient.request` to the `fetch` shape openid-client calls; `md`: the metadata that names its spans. */
export function fetchVia(
  http: HttpClient,
  md: () => ProviderMetadata | undefined = () => undefined,
): (url: string, options: oidc.CustomFetchOptions) => Promise<Response> {
  return async (url, options) => {
    const body = options.body;
    const res = await http.request(url, {
      span: callName(url, body, md()),
      method: options.method,
      headers: options.headers,
      ...(body === undefined || body === null
        ? {}
        : { body: body instanceof Uint8Array ? body : body instanceof ArrayBuffer ? new Uint8Array(body) : String(body) }),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.set(name, String(value));
    }
    const nullBody = res.status === 204 || res.status === 304;
    return new Response(nullBody ? null : new Uint8Array(res.body), { status: res.status, headers });
  };
}

/**
 * The warning a plain-http provider deserves: tokens cross the network unencrypted. None on the
 * loopback interface (a development provider on the same machine, the demo), where they do not.
 */
export function plainHttpWarning(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:') return undefined;
  const host = url.hostname;
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  return 'OIDC_PROVIDER uses http: tokens travel unencrypted to the provider; use https outside development';
}

export class OidcClient {
  readonly #config: OidcClientConfig;
  readonly #discovery: Discovery;
  readonly #fetch: ReturnType<typeof fetchVia>;
  #built: oidc.Configuration | undefined;

  constructor(config: OidcClientConfig, deps: { discovery: Discovery; http: HttpClient; log: Logger }) {
    this.#config = config;
    this.#discovery = deps.discovery;
    this.#fetch = fetchVia(deps.http, () => deps.discovery.metadata);
    const warning = plainHttpWarning(deps.discovery.issuer);
    if (warning !== undefined) deps.log.warn(warning);
  }

  /** The provider's metadata, once discovery succeeded. */
  get metadata(): ProviderMetadata | undefined {
    return this.#discovery.metadata;
  }

  /** The openid-client configuration, or `undefined` until discovery has succeeded. */
  configuration(): oidc.Configuration | undefined {
    if (this.#built) return this.#built;
    const md = this.#discovery.metadata;
    if (!md) return undefined;
    const secret = this.#config.clientSecret;
    const auth = this.#config.tokenEndpointAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
    const c = new oidc.Configuration(md as oidc.ServerMetadata, this.#config.clientId, { client_secret: secret }, auth);
    c[oidc.customFetch] = this.#fetch;
    if (md.issuer.startsWith('http:')) oidc.allowInsecureRequests(c);
    this.#built = c;
    return c;
  }

  /** Whether the provider advertises an endpoint (`revocation_endpoint`, `end_session_endpoint`, …). */
  advertises(member: string): boolean {
    return typeof this.#discovery.metadata?.[member] === 'string';
  }
}
