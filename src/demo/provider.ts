/**
 * The development OpenID Provider behind `oidc-judge demo` and the browser end-to-end tests: a
 * real `oidc-provider` (a devDependency) on node:http, with our own sign-in page and the demo
 * users. Authorization code flow with PKCE (S256, required by default), nonce, `iss` in the
 * authorization response (RFC 9207, always on in oidc-provider 9), userinfo, revocation,
 * introspection, RP-initiated logout (confirmed automatically when the relying party sends an
 * `id_token_hint`), back-channel logout, and refresh tokens for every client allowed the
 * refresh_token grant (no `offline_access` needed). Consent is granted automatically.
 *
 * Not for production: everything lives in memory, keys and cookie keys are random per start,
 * the passwords are printed on the sign-in page, and back-channel logout may call loopback.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
// The class from its own module, not the package's entry point: the entry adds a start-up line,
// "oidc-provider WARNING: Unsupported runtime", on every Node before 22 LTS (it reads the LTS code
// name), and the demo's first screen on Node 20.19, which we support, would open with a warning.
// oidc-provider has no setting to silence it and no release that supports Node 20; the whole suite
// runs this class on Node 20 and 24 (.ci/run). test/demo/run-cli.test.ts pins a clean stderr.
import { Provider } from 'oidc-provider/lib/provider.js';
import { interactionHandler, type OpInteractions } from './interactions.js';
import { providerPages } from './provider-pages.js';
import { StatsRecorder, type DevLog, type DevProviderEvents, type DevProviderStats } from './provider-stats.js';
import { memoryAdapter } from './memory-adapter.js';
import { DEMO_USERS, findUserBySub, userClaims, type DemoUser } from './users.js';

export interface DevClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  /** Default `client_secret_basic` (oidc-provider accepts exactly one method per client). */
  readonly token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post';
  /** Shown on the sign-in page ("to continue to …"); default the client id. */
  readonly client_name?: string;
  /** OpenID Back-Channel Logout 1.0: where logout tokens are POSTed (loopback allowed). */
  readonly backchannel_logout_uri?: string;
  readonly backchannel_logout_session_required?: boolean;
}

/** Lifetimes in seconds. */
export interface DevTtl {
  readonly accessToken?: number | (() => number);
  /** A function: asked at each issue (tests make it follow an injected clock). */
  readonly idToken?: number | (() => number);
  readonly refreshToken?: number;
  readonly session?: number;
  readonly authorizationCode?: number;
  readonly interaction?: number;
}

export interface DevProviderOptions {
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** The issuer is `http://${issuerHost}:${port}`; default the listen host. */
  readonly issuerHost?: string;
  readonly clients: readonly DevClient[];
  /** Default `DEMO_USERS`. */
  readonly users?: readonly DemoUser[];
  readonly ttl?: DevTtl;
  /** Require PKCE from every client; default true. */
  readonly pkceRequired?: boolean;
  /** Rotate refresh tokens on every use (reuse of a rotated one then revokes the grant); default false. */
  readonly rotateRefreshTokens?: boolean;
  /** Answer refresh_token grants without an `id_token`, as some providers do; default false. */
  readonly noIdTokenOnRefresh?: boolean;
  /** Sign-in attempts (username and outcome only), back-channel and server errors. */
  readonly log?: DevLog;
  /**
   * More claims per user, over (or instead of) the standard ones, in the ID token and userinfo — to
   * issue tokens shaped like another provider's (Keycloak's nested roles, say). Claims the standard
   * scopes do not name go with `openid`, so every token carries them.
   */
  readonly extraClaims?: (user: DemoUser) => Readonly<Record<string, unknown>>;
}

export interface DevProvider {
  readonly issuer: string;
  readonly port: number;
  readonly users: readonly DemoUser[];
  readonly stats: DevProviderStats;
  readonly events: DevProviderEvents;
  stop(): Promise<void>;
}

/** The little of a Koa context the refresh middleware reads. */
interface KoaContext {
  readonly path: string;
  body: unknown;
  readonly oidc?: { readonly params?: Readonly<Record<string, unknown>> };
}

/** The oidc-provider instance as used here (its package ships no types). */
interface Op extends OpInteractions {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export type { BackchannelRecord, DevLog, DevProviderEvents, DevProviderStats, LoginRecord, TokenRequestRecord } from './provider-stats.js';

interface OidcClient {
  readonly clientId: string;
  readonly clientAuthMethod: string;
  grantTypeAllowed(grant: string): boolean;
}

export async function startDevProvider(opts: DevProviderOptions): Promise<DevProvider> {
  const users = opts.users ?? DEMO_USERS;
  const host = opts.host ?? '127.0.0.1';
  const ttl = { accessToken: 600, idToken: 600, refreshToken: 86_400, session: 86_400, authorizationCode: 60, interaction: 600, ...opts.ttl };
  const recorder = new StatsRecorder(opts.log);

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end();
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    recorder.requested(path);
    handle(req, res);
  });
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${opts.issuerHost ?? host}:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: `dev-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
  const rotate = opts.rotateRefreshTokens ?? false;
  const pkceRequired = opts.pkceRequired ?? true;
  const scopeClaims = { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] };
  const extra = opts.extraClaims;
  const standard = new Set(Object.values(scopeClaims).flat());
  const extraNames = extra === undefined ? [] : [...new Set(users.flatMap((u) => Object.keys(extra(u))))].filter((n) => !standard.has(n));

  const op = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      ...c,
      redirect_uris: [...c.redirect_uris],
      post_logout_redirect_uris: [...(c.post_logout_redirect_uris ?? [])],
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    jwks: { keys: [signingKey] },
    adapter: memoryAdapter(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    findAccount: (_ctx: unknown, sub: string) => {
      const user = findUserBySub(users, sub);
      return user ? { accountId: user.sub, claims: () => ({ ...userClaims(user), ...extra?.(user) }) } : undefined;
    },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: { ...scopeClaims, openid: [...scopeClaims.openid, ...extraNames] },
    // The ID token carries the scoped claims (email, groups …), as gateways reading it expect.
    conformIdTokenClaims: false,
    pkce: { required: () => pkceRequired },
    issueRefreshToken: (_ctx: unknown, client: OidcClient) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => rotate,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: ttl.accessToken,
      IdToken: ttl.idToken,
      RefreshToken: ttl.refreshToken,
      Session: ttl.session,
      Grant: Math.max(ttl.refreshToken, ttl.session),
      Interaction: ttl.interaction,
      AuthorizationCode: ttl.authorizationCode,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true, allowedPolicy: (_ctx: unknown, client: OidcClient, token: { clientId?: string }) => token.clientId === client.clientId },
      introspection: { enabled: true, allowedPolicy: (_ctx: unknown, client: OidcClient) => client.clientAuthMethod !== 'none' },
      rpInitiatedLogout: { enabled: true, logoutSource: providerPages.logoutSource, postLogoutSuccessSource: providerPages.postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
    },
    renderError: providerPages.renderError,
    // oidc-provider guards its outgoing requests against special-use addresses (SSRF); the demo's
    // back-channel logout receivers are on loopback, so this development provider drops the guard.
    fetch: (url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _guard, ...rest } = init;
      return fetch(url, rest);
    },
  }) as unknown as Op;

  recorder.attach(op);
  if (opts.noIdTokenOnRefresh === true) {
    op.use(async (ctx, next) => {
      await next();
      const body = ctx.body as Record<string, unknown> | undefined;
      if (ctx.path === '/token' && ctx.oidc?.params?.['grant_type'] === 'refresh_token' && body && typeof body === 'object') delete body['id_token'];
    });
  }
  const interactions = interactionHandler(op, users, {
    login: (username, ok) => recorder.login(username, ok),
    failure: (err) => opts.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'demo provider: interaction failed'),
  });
  const koa = op.callback();
  handle = (req, res) => {
    interactions(req, res).then(
      (handled) => {
        if (!handled) koa(req, res);
      },
      () => res.writeHead(500).end(),
    );
  };

  return {
    issuer,
    port,
    users,
    events: recorder.events,
    get stats() {
      return recorder.stats;
    },
    stop: () => close(server),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
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
