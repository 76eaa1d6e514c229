/**
 * The `gcp` egress token source: an instance identity token from the GCE/GKE metadata server —
 * `GET <metadataUrl>/computeMetadata/v1/instance/service-accounts/<sa>/identity?audience=<escaped>`
 * (`&format=full` when asked) with `Metadata-Flavor: Google`, no redirects, a deadline of at most
 * 30 s. Any non-200 answer is an error. The body is the JWT; it must carry `iss`, `sub`, `aud`
 * (naming the audience asked for), `exp` (in the future) and `iat`. Tokens are cached per audience
 * and renewed before they expire, one metadata fetch in flight per audience.
 */
import { peekJwt } from '../../../authn/jwt-peek.js';
import type { Clock } from '../../../clock.js';
import { HttpClient, HttpClientError } from '../../../net/http-client.js';
import type { Logger } from '../../../obs/log.js';
import type { GcpTokenOptions } from './options.js';
import { TokenCache, TokenError, type Expiring, type TokenSource } from './source.js';

export interface GcpDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly marginMs?: number;
}

/** The identity URL for one audience. */
export function identityUrl(o: GcpTokenOptions, audience: string): string {
  // `@` is a valid path character; the metadata server documents the e-mail as it is.
  const sa = encodeURIComponent(o.serviceAccount).replace(/%40/g, '@');
  const full = o.format === 'full' ? '&format=full' : '';
  return `${o.metadataUrl}/computeMetadata/v1/instance/service-accounts/${sa}/identity?audience=${encodeURIComponent(audience)}${full}`;
}

/** Checks a fetched identity token's claims (unverified: it comes straight from the metadata server). */
export function checkIdentityToken(token: string, audience: string, nowMs: number): Expiring {
  const claims = peekJwt(token)?.payload;
  if (claims === undefined) throw new TokenError('failed', 'the metadata server did not return a JWT');
  for (const name of ['iss', 'sub'] as const) {
    if (typeof claims[name] !== 'string') throw new TokenError('failed', `the identity token has no ${name} claim`);
  }
  for (const name of ['exp', 'iat'] as const) {
    if (typeof claims[name] !== 'number') throw new TokenError('failed', `the identity token has no ${name} claim`);
  }
  const aud = claims.aud;
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (auds.length === 0) throw new TokenError('failed', 'the identity token has no aud claim');
  if (!auds.includes(audience)) throw new TokenError('failed', 'the identity token is for another audience');
  const expiresAt = claims.exp! * 1000;
  if (expiresAt <= nowMs) throw new TokenError('failed', 'the identity token has already expired');
  return { value: token, expiresAt };
}

export function gcpSource(o: GcpTokenOptions, deps: GcpDeps): TokenSource {
  const http = new HttpClient({ timeoutMs: Math.min(o.timeoutMs, 30_000), maxRedirects: 0, maxBytes: 64 * 1024, userAgent: 'oidc-judge' });
  const fetch = async (audience: string): Promise<Expiring> => {
    let status: number;
    let body: string;
    try {
      const res = await http.request(identityUrl(o, audience), { headers: { 'metadata-flavor': 'Google' } });
      status = res.status;
      body = res.body.toString('utf8').trim();
    } catch (cause) {
      const code = cause instanceof HttpClientError ? cause.code : 'network';
      deps.log.warn({ code, audience }, 'the GCP metadata server could not be reached');
      throw new TokenError('failed', code === 'timeout' ? 'the metadata server did not answer in time' : 'the metadata server could not be reached', { cause });
    }
    if (status !== 200) {
      deps.log.warn({ status, audience }, 'the GCP metadata server refused an identity token');
      throw new TokenError('failed', `the metadata server answered ${status}`);
    }
    return checkIdentityToken(body, audience, deps.clock.now());
  };
  const cache = new TokenCache({ fetch, clock: deps.clock, log: deps.log, ...(deps.marginMs !== undefined ? { marginMs: deps.marginMs } : {}) });
  return {
    token: (audience) => cache.get(o.audience ?? audience),
    ready: () => true,
    close: () => {
      cache.clear();
      http.close();
      return Promise.resolve();
    },
  };
}
