/**
 * `oidc-judge login` in a browser (RFC 8252): a listener on 127.0.0.1 (a free port) receives the
 * one-time code the judge's `<prefix>/api/login` sends the browser back with; the code is
 * exchanged with its PKCE verifier for the program credential. The URL to open is printed.
 */
import { hash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endpointsOf, OAuthError, postForm, tokenAnswer, type TokenAnswer } from './oauth.js';

export interface LoopbackOptions {
  readonly url: string;
  readonly prefix: string;
  readonly clientName: string;
  /** Told the URL the user opens. */
  readonly show: (url: string) => void;
  /** Longest wait for the browser (ms). */
  readonly timeoutMs: number;
}

const DONE_PAGE = '<!doctype html><meta charset="utf-8"><title>Signed in</title><p>Signed in. You can close this window and go back to the terminal.</p>';

export async function loopbackLogin(o: LoopbackOptions): Promise<TokenAnswer> {
  const endpoints = endpointsOf(o.url, o.prefix);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let deliver: (q: URLSearchParams) => void = () => undefined;
  const arrived = new Promise<URLSearchParams>((resolve) => (deliver = resolve));
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/callback' || u.searchParams.get('state') !== state) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(DONE_PAGE);
    deliver(u.searchParams);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const login = new URL(endpoints.login);
    login.search = new URLSearchParams({
      redirect_uri: redirectUri,
      code_challenge: hash('sha256', verifier, 'base64url'),
      code_challenge_method: 'S256',
      state,
      client_name: o.clientName,
    }).toString();
    o.show(login.href);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer from the browser in time')), o.timeoutMs);
    });
    const query = await Promise.race([arrived, timeout]);
    const code = query.get('code');
    if (code === null) throw new OAuthError(query.get('error') ?? 'invalid_response', query.get('error_description') ?? undefined, 0);
    return tokenAnswer(await postForm(endpoints.token, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }));
  } finally {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
}
