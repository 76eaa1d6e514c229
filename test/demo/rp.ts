/**
 * A relying party for the development provider's tests: openid-client v6 for the protocol, a
 * tiny node:http server on 127.0.0.1 for the browser's redirects (callback, after-logout) and for
 * back-channel logout tokens, and `signIn`, which drives a real Chromium page through our login
 * form and redeems the code.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { Page } from 'playwright-core';
import { startDevProvider, type DevClient, type DevProvider, type DevProviderOptions } from '../../src/demo/provider.js';

export const CLIENT_ID = 'demo-app';
export const CLIENT_SECRET = 'demo-app-secret';

export interface Rp {
  readonly origin: string;
  readonly redirectUri: string;
  readonly postLogoutUri: string;
  readonly backchannelUri: string;
  /** Emits `logout_token` with each back-channel logout token received. */
  readonly events: EventEmitter<{ logout_token: [string] }>;
  stop(): Promise<void>;
}

export async function startRp(): Promise<Rp> {
  const events = new EventEmitter<{ logout_token: [string] }>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/backchannel') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200).end();
        events.emit('logout_token', new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '');
      });
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const text = path === '/callback' ? 'signed in' : path === '/after-logout' ? 'signed out' : 'not found';
    res.writeHead(text === 'not found' ? 404 : 200, { 'content-type': 'text/plain' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    postLogoutUri: `${origin}/after-logout`,
    backchannelUri: `${origin}/backchannel`,
    events,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function rpClient(rp: Rp, extra: Partial<DevClient> = {}): DevClient {
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    client_name: 'Demo App',
    redirect_uris: [rp.redirectUri],
    post_logout_redirect_uris: [rp.postLogoutUri],
    backchannel_logout_uri: rp.backchannelUri,
    backchannel_logout_session_required: true,
    ...extra,
  };
}

export function startOpFor(rp: Rp, opts: Partial<DevProviderOptions> = {}): Promise<DevProvider> {
  return startDevProvider({ clients: [rpClient(rp)], ...opts });
}

/** openid-client configuration for the provider (plain http allowed: loopback tests). */
export function discover(op: DevProvider, auth: client.ClientAuth = client.ClientSecretBasic(CLIENT_SECRET)): Promise<client.Configuration> {
  return client.discovery(new URL(op.issuer), CLIENT_ID, CLIENT_SECRET, auth, { execute: [client.allowInsecureRequests] });
}

export interface Started {
  readonly url: URL;
  readonly verifier: string;
  readonly nonce: string;
  readonly state: string;
}

/** An authorization request with PKCE (S256), nonce and state. */
export async function authorizationUrl(config: client.Configuration, rp: Rp, scope = 'openid email profile groups'): Promise<Started> {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: rp.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  return { url, verifier, nonce, state };
}

/** Submits the sign-in form on `page` (which shows it). */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Email or username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A full sign-in through the browser; resolves with the token response of the code exchange. */
export async function signIn(
  page: Page,
  config: client.Configuration,
  rp: Rp,
  username: string,
  password: string,
): Promise<Awaited<ReturnType<typeof client.authorizationCodeGrant>>> {
  const start = await authorizationUrl(config, rp);
  await page.goto(start.url.href);
  await submitLogin(page, username, password);
  await page.waitForURL((u) => u.href.startsWith(rp.redirectUri));
  return client.authorizationCodeGrant(config, new URL(page.url()), {
    pkceCodeVerifier: start.verifier,
    expectedNonce: start.nonce,
    expectedState: start.state,
    idTokenExpected: true,
  });
}

/** Resolves with the next back-channel logout token the relying party receives. */
export async function nextLogoutToken(rp: Rp): Promise<string> {
  const [token] = await once(rp.events, 'logout_token');
  return token;
}
