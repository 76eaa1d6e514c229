/**
 * Real opaque access tokens for the opaque/introspection tests: the development OpenID Provider
 * (src/demo/provider.ts: userinfo, introspection, revocation on; access tokens opaque) and an
 * authorization-code flow driven over plain HTTP — the provider's own sign-in form posted with a
 * cookie jar, PKCE and nonce, the code redeemed by openid-client. No browser, nothing faked.
 */
import * as client from 'openid-client';
import { startDevProvider, type DevProvider, type DevProviderOptions, type DevTtl } from '../../src/demo/provider.js';
import { DEMO_USERS, type DemoUser } from '../../src/demo/users.js';

export const ALICE: DemoUser = DEMO_USERS[0]!;
export const BOB: DemoUser = DEMO_USERS[1]!;
/** Authenticates with client_secret_basic; the tokens are issued to it. */
export const BASIC = { id: 'opaque-basic', secret: 'opaque-basic-secret' } as const;
/** Authenticates with client_secret_post (oidc-provider allows one method per client). */
export const POST = { id: 'opaque-post', secret: 'opaque-post-secret' } as const;
const REDIRECT = 'http://127.0.0.1:9/callback';

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly idToken: string;
}

export interface OpaqueOp {
  readonly provider: DevProvider;
  readonly issuer: string;
  /** Signs `user` in with these scopes; the tokens issued to `BASIC`. */
  issue(user?: DemoUser, scope?: string): Promise<Tokens>;
  /** RFC 7009 revocation by the client the token was issued to. */
  revoke(token: string): Promise<void>;
  /** Requests the provider received on `path` so far (`/me`, `/token/introspection` …). */
  requests(path: string): number;
  stop(): Promise<void>;
}

export async function startOpaqueOp(opts: { ttl?: DevTtl; extraClaims?: DevProviderOptions['extraClaims'] } = {}): Promise<OpaqueOp> {
  const provider = await startDevProvider({
    clients: [
      { client_id: BASIC.id, client_secret: BASIC.secret, redirect_uris: [REDIRECT] },
      { client_id: POST.id, client_secret: POST.secret, redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' },
    ],
    ...(opts.ttl ? { ttl: opts.ttl } : {}),
    ...(opts.extraClaims ? { extraClaims: opts.extraClaims } : {}),
  });
  const config = await client.discovery(new URL(provider.issuer), BASIC.id, BASIC.secret, client.ClientSecretBasic(BASIC.secret), {
    execute: [client.allowInsecureRequests],
  });

  async function issue(user: DemoUser = ALICE, scope = 'openid email profile groups'): Promise<Tokens> {
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    let url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });
    const jar = new Map<string, string>();
    let form: URLSearchParams | undefined;
    for (let hop = 0; hop < 20; hop++) {
      const res = await fetch(url, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(form ? { body: form.toString() } : {}),
      });
      form = undefined;
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const location = res.headers.get('location');
      await res.arrayBuffer();
      if (location?.startsWith(REDIRECT)) {
        const tokens = await client.authorizationCodeGrant(config, new URL(location), {
          pkceCodeVerifier: verifier,
          expectedNonce: nonce,
          expectedState: state,
          idTokenExpected: true,
        });
        return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, idToken: tokens.id_token! };
      }
      if (location) url = new URL(location, url);
      else if (res.status === 200 && url.pathname.startsWith('/interaction/')) form = new URLSearchParams({ username: user.email, password: user.password });
      else throw new Error(`sign-in stopped at ${url.pathname} with ${res.status}`);
    }
    throw new Error('sign-in did not finish');
  }

  return {
    provider,
    issuer: provider.issuer,
    issue,
    revoke: (token) => client.tokenRevocation(config, token, { token_type_hint: 'access_token' }),
    requests: (path) => provider.stats.requests.get(path) ?? 0,
    stop: () => provider.stop(),
  };
}
