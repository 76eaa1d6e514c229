/**
 * Attacks on the browser login, against the real development provider and the assembled service
 * (forwarder), with plain HTTP browsers (cookie jars, no rendering): missing, unknown, replayed and
 * cross-browser `state`; a code from another attempt (code injection — PKCE and the nonce bind a
 * code to its attempt); a used code again; a PKCE downgrade of the authorization URL; session
 * fixation (a planted session cookie is never adopted, and an attacker's planted session ends);
 * parallel logins in one browser. Every refusal is a page without a session cookie, and no code,
 * state, session id or token appears in answers or logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newSecretId } from '../../src/sessions/ticket.js';
import { capturingLogger } from '../helpers/bearer.js';
import { HttpBrowser, type Response } from '../helpers/http-browser.js';
import { ALICE, CALLBACK_PATH, SESSION_COOKIE, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { sessionRecord } from '../helpers/seed.js';
import { API } from './kit.js';

describe('attacks on the browser login', () => {
  let stack: LoginStack;
  const { log, lines } = capturingLogger('DEBUG');
  const secrets = new Set<string>();
  const answers: string[] = [];

  before(async () => {
    stack = await startLoginStack({ log });
    secrets.add(stack.config.clientSecret);
  });
  after(async () => {
    await stack.stop();
    const text = lines.join('') + answers.join('');
    for (const s of secrets) assert.ok(!text.includes(s), `a secret (${s.slice(0, 6)}…) leaked into an answer or the log`);
    assert.doesNotMatch(lines.join(''), /eyJ[A-Za-z0-9_-]{20,}/, 'a JWT in the log');
  });

  const host = (): string => new URL(stack.origin).hostname;
  const session = (b: HttpBrowser): string | undefined => b.cookie(host(), SESSION_COOKIE);
  /**
   * Starts a login by navigating to `path` (no session yet) or, with `explicit`, at
   * `<prefix>/login?rd=<path>` (a browser that has a session); resolves with the provider's URL.
   */
  async function start(b: HttpBrowser, path = '/app', explicit = false): Promise<URL> {
    const r = await b.request(stack.url(explicit ? `/authservice/login?rd=${encodeURIComponent(path)}` : path));
    assert.equal(r.status, 302);
    const auth = r.location!;
    secrets.add(auth.searchParams.get('state')!);
    return auth;
  }
  /** Signs in at the provider; resolves with our callback URL (code and state unused). */
  async function atCallback(b: HttpBrowser, auth: URL): Promise<URL> {
    const cb = await b.signInAt(auth, ALICE, CALLBACK_PATH);
    secrets.add(cb.searchParams.get('code')!);
    return cb;
  }
  async function callback(b: HttpBrowser, url: URL | string): Promise<Response> {
    const r = await b.request(url);
    const { 'set-cookie': _issued, ...rest } = r.headers;
    answers.push(r.body, JSON.stringify(rest));
    const id = session(b);
    if (id) secrets.add(id);
    return r;
  }
  /** A refused callback: a themed 400 page and no session cookie set. */
  function refused(r: Response, status = 400): void {
    assert.equal(r.status, status, r.body.slice(0, 200));
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.ok(!(r.headers['set-cookie'] ?? []).some((c) => c.startsWith(`${SESSION_COOKIE}=`)), 'a session cookie on a refused callback');
  }
  const api = async (cookie: string | undefined): Promise<number> =>
    (await stack.send('/api/me', { headers: { ...API, ...(cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}) } })).status;

  it('every authorization request carries PKCE S256, a fresh state and nonce; the browser binding is HttpOnly', async () => {
    const b = new HttpBrowser();
    const [one, two] = [await start(b, '/a'), await start(b, '/b')];
    for (const u of [one, two]) {
      assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
      assert.match(u.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((u.searchParams.get('nonce') ?? '').length >= 32);
      assert.equal(u.searchParams.get('code_verifier'), null);
    }
    assert.notEqual(one.searchParams.get('state'), two.searchParams.get('state'));
    assert.notEqual(one.searchParams.get('nonce'), two.searchParams.get('nonce'));
    const first = await new HttpBrowser().request(stack.url('/x'));
    assert.match((first.headers['set-cookie'] ?? []).join('\n'), /oidc_state_csrf[^=;]*=[^;]+;.*HttpOnly/);
  });

  it('missing, unknown, malformed or foreign state → 400, no session', async () => {
    const b = new HttpBrowser();
    const cb = await atCallback(b, await start(b));
    const code = cb.searchParams.get('code')!;
    const at = (q: string): string => `${stack.origin}${CALLBACK_PATH}?${q}`;
    refused(await callback(b, at(`code=${code}`)));
    refused(await callback(b, at(`code=${code}&state=${newSecretId()}`)));
    refused(await callback(b, at(`code=${code}&state=${'A'.repeat(5000)}`)));
    refused(await callback(b, at(`code=${code}&state=..%2F..%2F&state=x`)));
    // Another browser's own attempt: its state is not this browser's.
    const other = new HttpBrowser();
    const foreign = (await start(other)).searchParams.get('state')!;
    refused(await callback(b, at(`code=${code}&state=${foreign}`)));
    assert.equal(session(b), undefined);
  });

  it('a callback replayed → 400; the session made by the first one is unaffected', async () => {
    const b = new HttpBrowser();
    const cb = await atCallback(b, await start(b, '/replayed'));
    const first = await callback(b, cb);
    assert.equal(first.status, 302);
    const id = session(b)!;
    assert.equal(await api(id), 200);
    const again = new HttpBrowser();
    for (const c of b.cookies(host())) again.plant(host(), c.name, c.value, c.path);
    refused(await callback(again, cb));
    assert.equal(session(again), id, 'the replay set no new session');
    assert.equal(await api(id), 200);
  });

  it('a callback carried to another browser → 400 there, no session; the victim can start again', async () => {
    const victim = new HttpBrowser();
    const cb = await atCallback(victim, await start(victim));
    const attacker = new HttpBrowser();
    await start(attacker); // the attacker has a binding cookie of its own
    refused(await callback(attacker, cb));
    assert.equal(session(attacker), undefined);
    const retry = await callback(victim, await atCallback(victim, await start(victim, '/retry')));
    assert.equal(retry.status, 302);
    assert.equal(retry.location?.pathname, '/retry');
  });

  it('code injection / nonce replay: a code from one attempt with another attempt’s state → 400, no session', async () => {
    const b = new HttpBrowser();
    const x = await atCallback(b, await start(b, '/x'));
    const y = await atCallback(b, await start(b, '/y'));
    const mixed = new URL(y);
    mixed.searchParams.set('code', x.searchParams.get('code')!);
    refused(await callback(b, mixed));
    assert.equal(session(b), undefined);
  });

  it('a code already redeemed, presented again with a fresh state → 400, no second session', async () => {
    const b = new HttpBrowser();
    const cb = await atCallback(b, await start(b));
    const first = await callback(b, cb);
    assert.equal(first.status, 302, `${first.url.href} ${first.body.slice(0, 300)}`);
    const firstId = session(b);
    const fresh = await atCallback(b, await start(b, '/again', true));
    const reused = new URL(fresh);
    reused.searchParams.set('code', cb.searchParams.get('code')!);
    refused(await callback(b, reused));
    assert.equal(session(b), firstId);
  });

  it('PKCE downgrade: an authorization URL without the challenge, or with method plain → refused by the provider, 400 here', async () => {
    for (const tamper of [
      (u: URL) => (u.searchParams.delete('code_challenge'), u.searchParams.delete('code_challenge_method')),
      (u: URL) => u.searchParams.set('code_challenge_method', 'plain'),
    ]) {
      const b = new HttpBrowser();
      const auth = await start(b);
      tamper(auth);
      const { stoppedAt } = await b.follow(auth, (u) => u.pathname === CALLBACK_PATH);
      assert.ok(stoppedAt, 'the provider sends the browser back with an error');
      assert.ok(stoppedAt.searchParams.get('error'), stoppedAt.href);
      assert.equal(stoppedAt.searchParams.get('code'), null);
      refused(await callback(b, stoppedAt));
    }
  });

  it('session fixation: a planted session cookie is never adopted, and an attacker’s planted session ends at the victim’s login', async () => {
    const attackers = await stack.app.sessions.create(sessionRecord('mallory@example.com'));
    secrets.add(attackers);
    assert.equal(await api(attackers), 200);
    for (const planted of [newSecretId(), attackers]) {
      const b = new HttpBrowser();
      b.plant(host(), SESSION_COOKIE, planted);
      const r = await callback(b, await atCallback(b, await start(b, '/fixed', true)));
      assert.equal(r.status, 302);
      const issued = session(b)!;
      assert.notEqual(issued, planted);
      assert.equal(await api(issued), 200);
      assert.equal(await api(planted), 401);
    }
  });

  it('parallel logins in one browser: five attempts, callbacks in reverse order and at once, each lands where it began', async () => {
    const b = new HttpBrowser();
    const paths = ['/p0', '/p1?q=1', '/p2/deep', '/p3', '/p4#ignored'];
    const auths = [];
    for (const p of paths) auths.push(await start(b, p));
    const cbs = [];
    for (const a of auths) cbs.push(await atCallback(b, a));
    const results = await Promise.all(cbs.reverse().map((cb) => b.request(cb)));
    const landed = results.map((r) => `${r.status} ${r.location?.pathname}${r.location?.search}`).reverse();
    assert.deepEqual(landed, ['302 /p0', '302 /p1?q=1', '302 /p2/deep', '302 /p3', '302 /p4']);
    const ids = results.map((r) => /authservice_session=([^;]+)/.exec((r.headers['set-cookie'] ?? []).join(';'))?.[1]);
    for (const id of ids) secrets.add(id!);
    assert.equal(new Set(ids).size, 5);
    for (const id of ids) assert.equal(await api(id), 200);
  });
});
