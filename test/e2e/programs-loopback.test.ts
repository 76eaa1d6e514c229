/**
 * Program logins end to end (issue 19): the real `oidc-judge login` process against the running
 * judge (ingress forwarder), a real Chromium signing in at the development provider, the program
 * credential presented as `Authorization: Bearer` and judged as auth method `program`; `logout`
 * revoking it; back-channel logout of its user ending it; and what `<prefix>/api/login` and
 * `<prefix>/api/token` refuse: redirect URIs that are not loopback, a missing or wrong PKCE
 * verifier, a code replayed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, watchProblems } from '../helpers/browser.js';
import { ALICE, API, nextBackchannel, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { metric } from '../helpers/app.js';
import { attemptFromSetCookie } from '../helpers/attempt.js';
import { send } from '../helpers/http-send.js';
import { cli, runCli } from '../helpers/program-cli.js';

const LOGIN = '/authservice/api/login';
const TOKEN = '/authservice/api/token';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...API };

/** A loopback listener that records the query of the first request to it (the program's side). */
async function loopback(): Promise<{ server: Server; uri: string; query: Promise<URLSearchParams> }> {
  let got: (q: URLSearchParams) => void = () => undefined;
  const query = new Promise<URLSearchParams>((r) => (got = r));
  const server = createServer((req, res) => {
    got(new URL(req.url ?? '/', 'http://127.0.0.1').searchParams);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`, query };
}

const challengeOf = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

function loginPath(q: Record<string, string>): string {
  return `${LOGIN}?${new URLSearchParams(q).toString()}`;
}

async function statusWithBearer(stack: LoginStack, credential: string): Promise<number> {
  return (await stack.send('/api/who', { headers: { ...API, authorization: `Bearer ${credential}` } })).status;
}

/** A program code obtained by hand through a signed-in `page` (the test is the program). */
async function codeFor(stack: LoginStack, page: Page, verifier: string, approve = true): Promise<{ code: string; uri: string; error: string | null }> {
  const lb = await loopback();
  try {
    await page.goto(stack.url(loginPath({ redirect_uri: lb.uri, code_challenge: challengeOf(verifier), code_challenge_method: 'S256', state: 'st' })));
    await page.getByRole('button', { name: approve ? 'Approve' : 'Refuse' }).click();
    const q = await lb.query;
    assert.equal(q.get('state'), 'st');
    return { code: q.get('code') ?? '', uri: lb.uri, error: q.get('error') };
  } finally {
    lb.server.close();
    lb.server.closeAllConnections();
  }
}

/** A signed-in browser page, and a program credential of its user. */
async function programCredential(stack: LoginStack, browser: Browser): Promise<{ page: Page; credential: string }> {
  const page = await (await newContext(browser)).newPage();
  await page.goto(stack.url('/'));
  await signIn(page, ALICE, stack.url('/'));
  const verifier = randomBytes(32).toString('base64url');
  const { code, uri } = await codeFor(stack, page, verifier);
  const ok = await stack.send(TOKEN, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: uri, code_verifier: verifier }).toString(),
  });
  assert.equal(ok.status, 200, ok.body);
  return { page, credential: (JSON.parse(ok.body) as { access_token: string }).access_token };
}

describe('program login (loopback)', () => {
  let stack: LoginStack;
  let browser: Browser;
  let home: string;
  before(async () => {
    stack = await startLoginStack({ backchannel: { sessionRequired: false }, env: { SESSION_CACHE_TTL: '300' } });
    browser = await launchBrowser();
    home = mkdtempSync(join(tmpdir(), 'oidc-judge-cli-'));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('the CLI signs in through Chromium, its credential is judged as a program, and logout revokes it', async () => {
    const run = runCli(['login', '--url', stack.origin, '--client-name', 'e2e script'], home);
    const [, url] = await run.waitFor(/Open this URL in your browser to sign in:\n\s+(\S+)\n/);
    assert.ok(url?.startsWith(`${stack.origin}${LOGIN}?`), url);
    const page = await (await newContext(browser)).newPage();
    await page.goto(url ?? '');
    await signIn(page, ALICE);
    // Signed in, the user is asked to approve the program (RFC 8252 §8.6), and named what asks.
    await page.locator('#program', { hasText: 'e2e script' }).waitFor();
    // Watched from a fresh load: the first document's own loads are done (a reload would abort them).
    await page.waitForLoadState('load');
    const problems = watchProblems(page);
    await page.reload();
    await page.locator('#program', { hasText: 'e2e script' }).waitFor();
    assert.ok(
      await page.evaluate<boolean>(
        `(() => { const l = document.querySelector('img.logo'); return document.styleSheets.length > 0 && l !== null && l.complete && l.naturalWidth > 0; })()`,
      ),
      'the theme is applied',
    );
    assert.deepEqual(problems.consoleErrors, []);
    assert.deepEqual(
      problems.failedRequests.filter((r) => !r.endsWith('net::ERR_ABORTED')),
      [],
      'a load the browser cancelled itself by navigating on is not a failure',
    );
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    await page.getByText('Signed in. You can close this window').waitFor();
    const login = await run.done;
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /Signed in as /);
    const files = readdirSync(join(home, 'oidc-judge'));
    assert.equal(files.length, 1);
    assert.equal(statSync(join(home, 'oidc-judge', files[0]!)).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'oidc-judge')).mode & 0o777, 0o700);

    const token = await cli(['token', '--url', stack.origin], home);
    assert.equal(token.code, 0, token.stderr);
    const credential = token.stdout.trim();
    const res = await stack.send('/api/who', { headers: { ...API, authorization: `Bearer ${credential}` } });
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body) as { headers: Record<string, string[]> };
    assert.deepEqual(seen.headers['auth-method'], ['program']);
    assert.deepEqual(seen.headers['kubeflow-userid'], [ALICE.email]);
    assert.equal(seen.headers['authorization'], undefined, 'the credential does not reach the upstream');
    const stored = await stack.app.sessions.load(credential, { fresh: true });
    assert.equal(stored?.program?.client, 'e2e script');
    // Metrics (and the decision log) name the authenticator `program`.
    assert.ok((await metric(stack.app.ports.health, 'oidc_judge_decisions_total', { authenticator: 'program', outcome: 'allow' })) >= 1);
    assert.equal(stored?.accessToken, undefined, 'no provider token in a program credential');

    const logout = await cli(['logout', '--url', stack.origin], home);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(await statusWithBearer(stack, credential), 401);
    assert.deepEqual(readdirSync(join(home, 'oidc-judge')), []);
    const after = await cli(['token', '--url', stack.origin], home);
    assert.equal(after.code, 1);
  });

  it('a code is redeemed once, only with its verifier and its redirect_uri', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url('/'));
    await signIn(page, ALICE, stack.url('/'));
    const verifier = randomBytes(32).toString('base64url');
    const exchange = (form: Record<string, string>) => stack.send(TOKEN, { method: 'POST', headers: FORM, body: new URLSearchParams(form).toString() });

    const first = await codeFor(stack, page, verifier);
    const noVerifier = await exchange({ grant_type: 'authorization_code', code: first.code, redirect_uri: first.uri });
    assert.equal(noVerifier.status, 400);
    assert.equal(JSON.parse(noVerifier.body).error, 'invalid_request');
    const wrong = await exchange({ grant_type: 'authorization_code', code: first.code, redirect_uri: first.uri, code_verifier: 'x'.repeat(43) });
    assert.equal(wrong.status, 400);
    assert.equal(JSON.parse(wrong.body).error, 'invalid_grant');
    // The failed attempt spent it: the right verifier now finds no code.
    const late = await exchange({ grant_type: 'authorization_code', code: first.code, redirect_uri: first.uri, code_verifier: verifier });
    assert.equal(JSON.parse(late.body).error, 'invalid_grant');

    const second = await codeFor(stack, page, verifier);
    const otherUri = await exchange({ grant_type: 'authorization_code', code: second.code, redirect_uri: 'http://127.0.0.1:1/cb', code_verifier: verifier });
    assert.equal(JSON.parse(otherUri.body).error, 'invalid_grant');

    const third = await codeFor(stack, page, verifier);
    const ok = await exchange({ grant_type: 'authorization_code', code: third.code, redirect_uri: third.uri, code_verifier: verifier });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['cache-control'], 'no-store');
    const body = JSON.parse(ok.body) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 604800);
    assert.equal(await statusWithBearer(stack, body.access_token), 200);
    const replay = await exchange({ grant_type: 'authorization_code', code: third.code, redirect_uri: third.uri, code_verifier: verifier });
    assert.equal(replay.status, 400);
    assert.equal(JSON.parse(replay.body).error, 'invalid_grant');
  });

  it('the user can refuse the program, and an approval without its form token is refused', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url('/'));
    await signIn(page, ALICE, stack.url('/'));
    const refused = await codeFor(stack, page, randomBytes(32).toString('base64url'), false);
    assert.equal(refused.error, 'access_denied');
    assert.equal(refused.code, '');

    const query = new URLSearchParams({ redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: challengeOf('v'.repeat(43)), code_challenge_method: 'S256' });
    const cookie = (await page.context().cookies(stack.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const forged = await stack.send(LOGIN, {
      method: 'POST',
      headers: { ...FORM, cookie, accept: 'text/html' },
      body: new URLSearchParams({ request: query.toString(), csrf: 'A'.repeat(43), action: 'approve' }).toString(),
    });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers['location'], undefined);
  });

  it('an approval for [::1] (which CSP form-action cannot name) answers with a link to the program', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url('/'));
    await signIn(page, ALICE, stack.url('/'));
    const verifier = randomBytes(32).toString('base64url');
    await page.goto(
      stack.url(loginPath({ redirect_uri: 'http://[::1]:9/cb', code_challenge: challengeOf(verifier), code_challenge_method: 'S256', state: 's6' })),
    );
    await page.getByRole('button', { name: 'Approve' }).click();
    const link = page.getByRole('link', { name: 'Continue' });
    const href = new URL((await link.getAttribute('href')) ?? '');
    assert.equal(href.origin, 'http://[::1]:9');
    assert.equal(href.searchParams.get('state'), 's6');
    const ok = await stack.send(TOKEN, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: href.searchParams.get('code') ?? '',
        redirect_uri: 'http://[::1]:9/cb',
        code_verifier: verifier,
      }).toString(),
    });
    assert.equal(ok.status, 200, ok.body);
  });

  it('behind a rewrite of <prefix>/ to / (Istio), the sign-in returns and the approval posts under the prefix', async () => {
    const query = loginPath({ redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: challengeOf('v'.repeat(43)), code_challenge_method: 'S256' }).slice(
      LOGIN.length,
    );
    const host = `localhost:${stack.port}`;
    const web = (headers: Record<string, string>) => send(stack.app.ports.web, `/api/login${query}`, { headers: { host, accept: 'text/html', ...headers } });
    const start = await web({});
    assert.equal(start.status, 302);
    const attempt = await attemptFromSetCookie(stack.app.browser, start.headers['set-cookie']);
    assert.equal(attempt.returnTo, stack.url(`${LOGIN}${query}`));

    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url('/'));
    await signIn(page, ALICE, stack.url('/'));
    const cookie = (await page.context().cookies(stack.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const consent = await web({ cookie });
    assert.equal(consent.status, 200);
    assert.match(consent.body, new RegExp(`<form[^>]*action="${LOGIN}"`));
  });

  it('redirect URIs that are not loopback, and logins without PKCE S256, are refused with a page', async () => {
    const challenge = challengeOf(randomBytes(32).toString('base64url'));
    for (const uri of [
      'https://127.0.0.1:8000/cb',
      'http://evil.example/cb',
      'http://127.0.0.1.evil.example/cb',
      'http://user@127.0.0.1:1/cb',
      'http://10.0.0.1:80/cb',
    ]) {
      const res = await stack.send(loginPath({ redirect_uri: uri, code_challenge: challenge, code_challenge_method: 'S256' }), {
        headers: { accept: 'text/html' },
      });
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers['location'], undefined);
      assert.match(res.body, /redirect_uri/);
    }
    for (const q of [{ code_challenge: challenge, code_challenge_method: 'plain' }, {}, { code_challenge: 'short', code_challenge_method: 'S256' }]) {
      const res = await stack.send(loginPath({ redirect_uri: 'http://[::1]:5000/cb', ...q }), { headers: { accept: 'text/html' } });
      assert.equal(res.status, 400);
      assert.match(res.body, /code_challenge/);
    }
    const fine = await stack.send(loginPath({ redirect_uri: 'http://localhost:5000/cb', code_challenge: challenge, code_challenge_method: 'S256' }), {
      headers: { accept: 'text/html' },
    });
    assert.equal(fine.status, 302, 'a loopback login without a session signs in first');
    assert.equal(new URL(String(fine.headers['location'])).origin, new URL(stack.provider.issuer).origin);
  });

  it('revoking the user’s sessions (`oidc-judge sessions revoke --sub`, the admin revoke) ends program credentials too', async () => {
    const { credential } = await programCredential(stack, browser);
    const stored = await stack.app.sessions.load(credential, { fresh: true });
    assert.ok(stored);
    assert.ok((await stack.app.sessions.revoke({ iss: stored.iss, sub: stored.sub })) >= 2, 'the browser session and the credential');
    assert.equal(await statusWithBearer(stack, credential), 401);
  });

  it('a back-channel logout of the user ends the program credential', async () => {
    const { page, credential } = await programCredential(stack, browser);
    assert.equal(await statusWithBearer(stack, credential), 200);
    const cookie = (await page.context().cookies(stack.origin)).find((c) => c.name === 'authservice_session');
    const session = await stack.app.sessions.load(cookie?.value ?? '', { fresh: true });
    assert.ok(session?.idToken);
    const delivered = nextBackchannel(stack.provider);
    const end = new URL(`${stack.provider.issuer}/session/end`);
    end.searchParams.set('id_token_hint', session.idToken);
    await page.goto(end.href);
    assert.equal((await delivered).ok, true);
    assert.equal(await statusWithBearer(stack, credential), 401);
  });
});

describe('program credentials and access rules', () => {
  let stack: LoginStack;
  let browser: Browser;
  before(async () => {
    const rules = [
      { match: { path: { prefix: '/admin' } }, allow: { authenticated: true, programs: false } },
      { match: { path: { prefix: '/' } }, allow: { authenticated: true } },
    ];
    stack = await startLoginStack({ env: { AUTHZ_RULES: JSON.stringify(rules) } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a rule with `programs: false` refuses program credentials on its routes; the browser session of the same user passes', async () => {
    const { page, credential } = await programCredential(stack, browser);
    const bearer = { ...API, authorization: `Bearer ${credential}` };
    assert.equal((await stack.send('/admin/echo', { headers: bearer })).status, 403);
    assert.equal((await stack.send('/api/who', { headers: bearer })).status, 200);
    const cookie = (await page.context().cookies(stack.origin)).find((c) => c.name === 'authservice_session');
    assert.equal((await stack.send('/admin/echo', { headers: { ...API, cookie: `authservice_session=${cookie?.value}` } })).status, 200);
  });
});
