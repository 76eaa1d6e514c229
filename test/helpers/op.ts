/**
 * A real OpenID Provider (the `oidc-provider` package) on 127.0.0.1, for tests: discovery, JWKS,
 * token endpoint. Tests sign their own tokens with the provider's own private keys (`sign`), can
 * mint a real JWT access token through the client_credentials grant, rotate keys, and stop and
 * restart the provider on the same port ("provider down / back").
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
// The class from its own module, not the package's entry (which prints a runtime warning on Node 20: src/demo/provider.ts).
import { Provider } from 'oidc-provider/lib/provider.js';
import { interactionHandler, type OpInteractions } from '../../src/demo/interactions.js';
import type { DemoUser } from '../../src/demo/users.js';
import { HttpClient } from '../../src/net/http-client.js';

export type OpAlg = 'RS256' | 'ES256';

export interface OpKey {
  readonly alg: OpAlg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export interface SignOptions {
  readonly alg?: OpAlg;
  /** Header `kid`; `null` leaves it out. Default: the signing key's kid. */
  readonly kid?: string | null;
  /** Sign with this key (published or not); default: the first published key of `alg`. */
  readonly key?: OpKey;
  /** Extra protected-header members (`typ`, `crit` …). */
  readonly header?: Readonly<Record<string, unknown>>;
}

export interface TestOp {
  readonly issuer: string;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Audience (resource indicator) of the access tokens the provider mints. */
  readonly resource: string;
  /** The keys the provider publishes now. */
  readonly keys: readonly OpKey[];
  readonly privateJwks: { readonly keys: readonly JWK[] };
  /** Requests the provider has received for its JWKS / discovery document. */
  readonly jwksRequests: number;
  readonly discoveryRequests: number;
  /** Signs a JWT; `iss` defaults to the issuer, nothing else is added. */
  sign(claims: JWTPayload, opts?: SignOptions): Promise<string>;
  /** Publishes exactly these keys from now on. */
  rotate(keys: readonly OpKey[]): void;
  /** A JWT access token minted by the provider itself (client_credentials grant). */
  clientCredentialsToken(): Promise<string>;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export interface OpOptions {
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly resource?: string;
  /** Claims added to every access token the provider mints. */
  readonly accessTokenClaims?: Readonly<Record<string, unknown>>;
  /** Issuer path after the origin (Entra ID: `/<tenant>/v2.0`); the provider is served under it. */
  readonly issuerPath?: string;
  /** Scope of the access tokens for `resource` (default `api`). */
  readonly resourceScope?: string;
  /** Account claims by `sub` (default just `sub`) and scope → claim names; ID tokens then carry the scoped claims. */
  readonly accounts?: {
    claims(sub: string): Readonly<Record<string, unknown>> | undefined;
    readonly scopes: Readonly<Record<string, readonly string[]>>;
  };
  /** Browser sign-in (the development provider's sign-in page) for these users, back to these redirect URIs. */
  readonly interactive?: { readonly users: readonly DemoUser[]; readonly redirectUris: readonly string[] };
  /** Changes the provider's configuration before it is built (op-login.ts: browser logins; shapes-*.ts: a provider's token shapes). */
  readonly configure?: (config: Record<string, unknown>) => Record<string, unknown>;
  /** Answers a request before the provider does (the interaction pages); true when it did. */
  readonly intercept?: (provider: Provider, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>;
}

let kidSeq = 0;

/** A new key pair (not published until passed to `rotate`). */
export async function newKey(alg: OpAlg): Promise<OpKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${++kidSeq}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  return { alg, kid, privateKey, publicKey, privateJwk, publicJwk };
}

export async function startOp(opts: OpOptions = {}): Promise<TestOp> {
  const clientId = opts.clientId ?? 'judge-client';
  const clientSecret = opts.clientSecret ?? 'judge-client-secret';
  const resource = opts.resource ?? 'urn:test:api';
  const extraClaims = { ...opts.accessTokenClaims };
  let keys: readonly OpKey[] = [await newKey('RS256'), await newKey('ES256')];
  const counts = { jwks: 0, discovery: 0 };
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined;

  const server: Server = createServer((req, res) => {
    // Under an issuer path, the provider sees the rest (and its mount path through originalUrl, as Express sets it).
    if (opts.issuerPath && req.url?.startsWith(opts.issuerPath)) {
      Object.assign(req, { originalUrl: req.url });
      req.url = req.url.slice(opts.issuerPath.length) || '/';
    }
    const path = (req.url ?? '').split('?')[0];
    if (path === '/jwks') counts.jwks++;
    if (path === '/.well-known/openid-configuration') counts.discovery++;
    handler!(req, res);
  });
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}${opts.issuerPath ?? ''}`;

  const build = (): void => {
    const base = {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: ['http://127.0.0.1/oidc/callback', ...(opts.interactive?.redirectUris ?? [])],
          grant_types: ['client_credentials', 'authorization_code', ...(opts.interactive ? ['refresh_token'] : [])],
          response_types: ['code'],
        },
      ],
      jwks: { keys: keys.map((k) => k.privateJwk) },
      cookies: { keys: ['test-op-cookie-key'] },
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => opts.accounts?.claims(sub) ?? { sub } }),
      ...(opts.accounts ? { claims: opts.accounts.scopes, scopes: [...Object.keys(opts.accounts.scopes), 'offline_access'], conformIdTokenClaims: false } : {}),
      // Browser logins get refresh tokens without `offline_access` (as the development provider does).
      ...(opts.interactive ? { issueRefreshToken: () => true } : {}),
      ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 300, Grant: 300, Session: 300, Interaction: 300, AuthorizationCode: 60 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: opts.resourceScope ?? 'api',
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 300,
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      extraTokenClaims: () => extraClaims,
    };
    const provider = new Provider(issuer, opts.configure ? opts.configure(base) : base);
    const koa = provider.callback();
    const intercept = opts.intercept;
    const afterInteractions: typeof koa = intercept
      ? (req, res) => {
          intercept(provider, req, res).then(
            (done) => {
              if (!done) koa(req, res);
            },
            () => res.writeHead(500).end(),
          );
        }
      : koa;
    const interactions = opts.interactive
      ? interactionHandler(provider as unknown as OpInteractions, opts.interactive.users, { login: () => {}, failure: () => {} })
      : undefined;
    handler = interactions ? (req, res) => void interactions(req, res).then((done) => done || afterInteractions(req, res)) : afterInteractions;
  };
  build();

  return {
    issuer,
    port,
    clientId,
    clientSecret,
    resource,
    get keys() {
      return keys;
    },
    get privateJwks() {
      return { keys: keys.map((k) => k.privateJwk) };
    },
    get jwksRequests() {
      return counts.jwks;
    },
    get discoveryRequests() {
      return counts.discovery;
    },
    async sign(claims, o = {}) {
      const alg = o.key?.alg ?? o.alg ?? 'RS256';
      const key = o.key ?? keys.find((k) => k.alg === alg);
      if (!key) throw new Error(`no ${alg} key published`);
      const kid = o.kid === undefined ? key.kid : o.kid;
      const header = { ...o.header, alg: key.alg, ...(kid === null ? {} : { kid }) };
      const critNames = o.header?.['crit'];
      const crit = Array.isArray(critNames) ? Object.fromEntries(critNames.map((c) => [String(c), true])) : undefined;
      return new SignJWT({ iss: issuer, ...claims }).setProtectedHeader(header).sign(key.privateKey, crit ? { crit } : undefined);
    },
    rotate(next) {
      keys = [...next];
      build();
    },
    async clientCredentialsToken() {
      const http = new HttpClient();
      try {
        const res = await http.request(`${issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource }).toString(),
        });
        const body = JSON.parse(res.body.toString('utf8')) as { access_token?: string; error?: string; error_description?: string };
        if (res.status !== 200 || !body.access_token)
          throw new Error(`token endpoint answered ${res.status}: ${body.error ?? ''} ${body.error_description ?? ''}`);
        return body.access_token;
      } finally {
        http.close();
      }
    },
    stop: () => close(server),
    restart: () => listen(server, port),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
