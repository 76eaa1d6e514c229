/**
 * The whole browser login stack for end-to-end tests, on loopback with nothing faked: the
 * development OpenID Provider (src/demo/provider.ts, the demo users), an upstream app (the demo's
 * "who am I" page at `/` and under `/admin` — routed like Express, on the raw path and
 * case-insensitively — a JSON echo of the request everywhere else, every request recorded), and
 * the assembled service (`startApp`) in front of it — through the built-in ingress
 * forwarder, or through a real nginx `auth_request` (examples/nginx/login.conf.template). Browsers
 * use `http://localhost:<port>` (Secure cookies are accepted on localhost); sessions live in a
 * SQLite file in a temp dir removed by `stop()`.
 *
 *   const stack = await startLoginStack({ env: { GROUPS_ALLOWLIST: 'admins' } });
 *   await page.goto(stack.url('/some/page'));            // → the provider's sign-in form
 *   await signIn(page, ALICE, stack.url('/some/page'));  // → back at /some/page, loaded
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { startApp, type App } from '../../src/app/start.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config/schema.js';
import { startDevProvider, type BackchannelRecord, type DevProvider, type DevTtl, type TokenRequestRecord } from '../../src/demo/provider.js';
import { DEMO_USERS, type DemoUser } from '../../src/demo/users.js';
import { whoamiPage } from '../../src/demo/whoami.js';
import { sendPage } from '../../src/demo/html.js';
import { silentLogger, type Logger } from '../../src/obs/log.js';
import { projectRoot } from '../../src/paths.js';
import { testConfig, untilReady } from './app.js';
import { send, type SendOptions, type Sent } from './http-send.js';
import { freePort } from './net.js';
import { routeOf } from './raw-router.js';
import { startNginx, type Nginx } from './nginx.js';

export const ALICE: DemoUser = DEMO_USERS[0]!;
export const BOB: DemoUser = DEMO_USERS[1]!;
export const CLIENT_ID = 'login-e2e';
export const SESSION_COOKIE = 'authservice_session';
export const CALLBACK_PATH = '/authservice/oidc/callback';
export const AFTER_LOGOUT_PATH = '/authservice/site/after_logout';
/** Where the provider sends logout tokens (OpenID Back-Channel Logout), when the stack registers it. */
export const BACKCHANNEL_PATH = '/authservice/oidc/backchannel-logout';
export const LOGIN_TEMPLATE = join(projectRoot, 'examples/nginx/login.conf.template');
/** What Chromium sends for a top-level navigation. */
export const NAVIGATION = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-site': 'none',
} as const;
export const API = { accept: 'application/json' } as const;

export interface LoginStackOptions {
  /** Settings over the stack's own (env-style names). */
  readonly env?: Readonly<Record<string, string>>;
  readonly yaml?: string;
  readonly clock?: Clock;
  /** Provider token lifetimes, in seconds. */
  readonly ttl?: DevTtl;
  /** How browsers reach the service: the built-in forwarder (default) or nginx `auth_request`. */
  readonly front?: 'forwarder' | 'nginx';
  readonly log?: Logger;
  /** Register `<origin>/authservice/oidc/backchannel-logout` with the provider (`sessionRequired`: logout tokens and ID tokens carry `sid`). */
  readonly backchannel?: { readonly sessionRequired: boolean };
  /** More claims per user in the provider's ID tokens and userinfo (provider-shaped tokens, test/helpers/provider-shapes.ts). */
  readonly extraClaims?: (user: DemoUser) => Readonly<Record<string, unknown>>;
  /** The provider answers refresh_token grants without an `id_token`. */
  readonly noIdTokenOnRefresh?: boolean;
}

/** One request as the upstream app received it (lower-case header names, every value). */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string[]>;
}

export interface LoginStack {
  /** `http://localhost:<port>`: where browsers go. */
  readonly origin: string;
  /** The port of that origin (the forwarder's or nginx's). */
  readonly port: number;
  readonly app: App;
  readonly config: Config;
  readonly provider: DevProvider;
  /** Every request the upstream app received, in order. */
  readonly seen: Seen[];
  readonly nginx?: Nginx;
  url(path: string): string;
  /** A raw HTTP/1.1 request to the front (Host: localhost:<port>). */
  send(path: string, opts?: SendOptions): Promise<Sent>;
  stop(): Promise<void>;
}

const WHOAMI = { logoutAction: '/authservice/logout', headerNames: { user: 'kubeflow-userid', groups: 'kubeflow-groups', authMethod: 'auth-method' } } as const;

function headersOf(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined) out[k] = v;
  return out;
}

async function startUpstreamApp(seen: Seen[]): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const record: Seen = { method: req.method ?? '', url, headers: headersOf(req) };
    seen.push(record);
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    // Routed like Express: on the raw path, case-insensitively (`/admin/../` and `/ADMIN` are the admin page).
    const admin = req.method === 'GET' && routeOf(url) === 'admin';
    if (req.method === 'GET' && (path === '/' || admin)) return sendPage(res, 200, whoamiPage(req, WHOAMI, admin));
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify(record);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startLoginStack(opts: LoginStackOptions = {}): Promise<LoginStack> {
  const front = opts.front ?? 'forwarder';
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-login-'));
  const seen: Seen[] = [];
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const upstream = await startUpstreamApp(seen);
    cleanups.push(() => closeServer(upstream));
    const upstreamPort = (upstream.address() as AddressInfo).port;

    // The provider must know the redirect URI (the front's port) before the app knows the issuer.
    const ports =
      front === 'nginx' ? { SERVER_PORT: String(await freePort()), WEB_SERVER_PORT: String(await freePort()) } : { INGRESS_PORT: String(await freePort()) };
    let nginx: Nginx | undefined;
    let port: number;
    if (front === 'nginx') {
      // startNginx fills the standard placeholders; {{WEB}} (the web server) is ours.
      const template = join(dir, 'login.conf.template');
      writeFileSync(template, readFileSync(LOGIN_TEMPLATE, 'utf8').replaceAll('{{WEB}}', `127.0.0.1:${ports.WEB_SERVER_PORT}`));
      nginx = await startNginx({ judgePort: Number(ports.SERVER_PORT), upstreamPort, templatePath: template });
      cleanups.push(nginx.stop);
      port = nginx.port;
    } else port = Number(ports.INGRESS_PORT);
    const origin = `http://localhost:${port}`;

    const secret = randomBytes(24).toString('base64url');
    const provider = await startDevProvider({
      issuerHost: 'localhost',
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: secret,
          client_name: 'login e2e',
          redirect_uris: [origin + CALLBACK_PATH],
          post_logout_redirect_uris: [origin + AFTER_LOGOUT_PATH],
          ...(opts.backchannel
            ? { backchannel_logout_uri: origin + BACKCHANNEL_PATH, backchannel_logout_session_required: opts.backchannel.sessionRequired }
            : {}),
        },
      ],
      ...(opts.ttl ? { ttl: opts.ttl } : {}),
      ...(opts.extraClaims ? { extraClaims: opts.extraClaims } : {}),
      ...(opts.noIdTokenOnRefresh ? { noIdTokenOnRefresh: true } : {}),
    });
    cleanups.push(() => provider.stop());

    const config = testConfig(provider.issuer, {
      env: {
        CLIENT_ID,
        CLIENT_SECRET: secret,
        OIDC_SCOPES: 'openid,email,profile,groups',
        SESSION_STORE_PATH: join(dir, 'sessions.db'),
        CLIENT_NAME: 'Login E2E',
        ...ports,
        ...(front === 'forwarder' ? { INGRESS_UPSTREAM: `http://127.0.0.1:${upstreamPort}` } : {}),
        ...opts.env,
      },
      ...(opts.yaml !== undefined ? { yaml: opts.yaml } : {}),
    });
    const app = await startApp(config, { log: opts.log ?? silentLogger, ...(opts.clock ? { clock: opts.clock } : {}) });
    cleanups.push(() => app.stop());
    await untilReady(app.readiness);

    return {
      origin,
      port,
      app,
      config,
      provider,
      seen,
      ...(nginx ? { nginx } : {}),
      url: (path) => origin + path,
      send: (path, o = {}) => send(port, path, { ...o, headers: { host: `localhost:${port}`, ...o.headers } }),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---- browser helpers ----

/**
 * Fills the provider's sign-in form shown on `page`, submits it, and resolves once the browser has
 * landed — on the document after the last redirect (the callback's included), loaded — with that
 * document's response (its status: 200, or 403 for a user a rule refuses). Leaving the provider is
 * not enough: the callback is on our origin too, a redirect on success but a page of its own when
 * it fails. With `landing`, a document anywhere else (an error page at the callback, say) fails at
 * once with its status and text.
 */
export async function signIn(page: Page, user: DemoUser, landing?: string): Promise<Response> {
  await page.getByLabel('Email or username').waitFor();
  const provider = new URL(page.url()).origin;
  const document = page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && new URL(r.url()).origin !== provider && !isRedirect(r.status()),
  );
  await page.getByLabel('Email or username').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const res = await document;
  const url = res.url();
  await page.waitForURL((u) => u.href === url);
  if (landing !== undefined && url !== landing) {
    const text = await page
      .locator('body')
      .innerText()
      .catch((e: Error) => `(no text: ${e.message})`);
    throw new Error(`signing in landed on ${res.status()} ${url}, not ${landing}:\n${text.slice(0, 500)}`);
  }
  return res;
}

const isRedirect = (status: number): boolean => status >= 300 && status < 400;

/**
 * Submits the sign-in form shown on `page` with the browser context's own cookies (Playwright's
 * request API) and follows the provider's redirects up to — not into — our callback: resolves with
 * the callback URL, its code and state unused. (Route interception does not see redirects.)
 */
export async function callbackUrlFor(page: Page, user: DemoUser): Promise<URL> {
  const form = page.locator('form[method=post]').first();
  await form.waitFor();
  let url = new URL((await form.getAttribute('action')) ?? '', page.url());
  let res = await page.context().request.post(url.href, { form: { username: user.email, password: user.password }, maxRedirects: 0 });
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers()['location'];
    if (location === undefined) throw new Error(`the provider answered ${res.status()} without a redirect at ${url.href}`);
    url = new URL(location, url);
    if (url.pathname === CALLBACK_PATH) return url;
    res = await page.context().request.get(url.href, { maxRedirects: 0 });
  }
  throw new Error('too many redirects before the callback');
}

/** The session cookie of `context` for `origin`, with its attributes. */
export async function sessionCookie(context: BrowserContext, origin: string) {
  return (await context.cookies(origin)).find((c) => c.name === SESSION_COOKIE);
}

/** The value of the session cookie; throws when there is none. */
export async function sessionId(context: BrowserContext, origin: string): Promise<string> {
  const c = await sessionCookie(context, origin);
  if (!c) throw new Error('no session cookie in this browser context');
  return c.value;
}

/** Resolves with the next token-endpoint request of `grantType` the provider handles. */
export function nextTokenRequest(provider: DevProvider, grantType: string): Promise<TokenRequestRecord> {
  return new Promise((resolve) => {
    const on = (r: TokenRequestRecord): void => {
      if (r.grantType !== grantType) return;
      provider.events.off('token', on);
      resolve(r);
    };
    provider.events.on('token', on);
  });
}

/** How many token-endpoint requests of `grantType` the provider has handled. */
export function tokenRequests(provider: DevProvider, grantType: string): number {
  return provider.stats.tokenRequests.filter((r) => r.grantType === grantType).length;
}

/** The upstream's JSON echo shown on `page` (a page under an echo path). */
export async function echoOn(page: Page): Promise<Seen> {
  return JSON.parse(await page.locator('body').innerText()) as Seen;
}

/** Resolves with the next back-channel logout the provider sends (after it got our answer). */
export function nextBackchannel(provider: DevProvider): Promise<BackchannelRecord> {
  return new Promise((resolve) => provider.events.once('backchannel', resolve));
}
