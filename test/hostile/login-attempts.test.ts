/**
 * Login attempts live in sealed browser cookies, not in the store (issue 14, item 5), and the
 * callback refuses an RFC 9207 mix-up with a 400 (item 6). Against the real development provider
 * and the assembled service:
 * - a flood of 2 000 navigations without a session, over the HTTP judge and over gRPC, leaves the
 *   store exactly as it was (SQLite: every table's rows; Redis: every key);
 * - a callback replayed with its attempt cookie still there (as through Envoy, where the callback's
 *   one Set-Cookie is the session's and the attempt cookie cannot be cleared) → 400 "already used",
 *   and the provider's token endpoint saw one exchange, not two;
 * - an attempt older than LOGIN_STATE_TTL (injected clock) → 400; a tampered cookie, or a valid one
 *   moved under another attempt's name → 400;
 * - a callback whose `iss` names another issuer → 400 (was 500) over the forwarder, the HTTP judge
 *   and gRPC, and it does not spend the attempt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ManualClock } from '../../src/clock.js';
import { JudgeClient, optionValue } from '../helpers/app.js';
import { HttpBrowser, NAVIGATION, type Response } from '../helpers/http-browser.js';
import { send } from '../helpers/http-send.js';
import { ALICE, CALLBACK_PATH, SESSION_COOKIE, startLoginStack, tokenRequests, type LoginStack } from '../helpers/login-stack.js';
import { redisCli, startRedis, type RedisServer } from '../helpers/redis.js';

const FLOOD = 2000;
const ATTEMPT = /^(oidc_state_csrf_[A-Za-z0-9_-]{8})$/;

/** Every table's rows, as one comparable text (the store "unchanged" means this is equal). */
function sqliteSnapshot(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    return tables.map((t) => `${t}: ${JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all())}`).join('\n');
  } finally {
    db.close();
  }
}

/** `n` requests, `width` at a time. */
async function flood(n: number, width: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await one(next++);
    }),
  );
}

/** 2 000 navigations over the HTTP judge, then 2 000 over gRPC: each a 302 to the provider with one Set-Cookie. */
async function floodNavigations(stack: LoginStack): Promise<void> {
  const host = `localhost:${stack.port}`;
  await flood(FLOOD, 8, async (i) => {
    const r = await send(stack.app.ports.http, `/flood/${i}?q=${i}`, { headers: { host, ...NAVIGATION } });
    assert.equal(r.status, 302);
    assert.equal(r.headers['set-cookie']?.length, 1);
  });
  const grpc = new JudgeClient(stack.app.ports.grpc);
  try {
    await flood(FLOOD, 8, async (i) => {
      const r = await grpc.check(`/flood/${i}`, { ...NAVIGATION }, { host, scheme: 'http' });
      assert.equal(r.denied_response?.status?.code, 302);
      assert.equal((r.denied_response?.headers ?? []).filter((h) => h.header.key.toLowerCase() === 'set-cookie').length, 1);
    });
  } finally {
    grpc.close();
  }
}

describe('strangers write nothing', () => {
  it(`SQLite: ${FLOOD} navigations over HTTP and ${FLOOD} over gRPC leave every table as it was`, async () => {
    const stack = await startLoginStack();
    try {
      await stack.app.browser.attemptKey.get(); // the one start-up write (the key), done before we look
      const before = sqliteSnapshot(stack.config.sessionStorePath);
      await floodNavigations(stack);
      assert.equal(sqliteSnapshot(stack.config.sessionStorePath), before);
    } finally {
      await stack.stop();
    }
  });

  it(`Redis: ${FLOOD} navigations over HTTP and ${FLOOD} over gRPC add no key`, async () => {
    const redis: RedisServer = await startRedis();
    const stack = await startLoginStack({ env: { SESSION_STORE_TYPE: 'redis', SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}` } });
    try {
      await stack.app.browser.attemptKey.get();
      const keys = async (): Promise<string> => (await redisCli(redis.port, '--scan')).split('\n').sort().join('\n');
      const before = await keys();
      assert.match(before, /^oidc-judge:k:login-attempt-key$/m, 'the shared key, written once with SET NX');
      const size = await redisCli(redis.port, 'dbsize');
      await floodNavigations(stack);
      assert.equal(await redisCli(redis.port, 'dbsize'), size);
      assert.equal(await keys(), before);
    } finally {
      await stack.stop();
      await redis.stop();
    }
  });
});

describe('login attempt cookies under attack', () => {
  let stack: LoginStack;
  let grpc: JudgeClient;
  const clock = new ManualClock(Date.now());

  before(async () => {
    stack = await startLoginStack({ clock });
    grpc = new JudgeClient(stack.app.ports.grpc);
  });
  after(async () => {
    grpc?.close();
    await stack?.stop();
  });

  const host = (): string => new URL(stack.origin).hostname;
  async function start(b: HttpBrowser, path = '/app'): Promise<URL> {
    const r = await b.request(stack.url(path));
    assert.equal(r.status, 302);
    return r.location!;
  }
  const attemptCookie = (b: HttpBrowser, auth: URL): { name: string; value: string } => {
    const name = `oidc_state_csrf_${auth.searchParams.get('state')!.split('.')[1]!}`;
    assert.match(name, ATTEMPT);
    return { name, value: b.cookie(host(), name)! };
  };
  function refused(r: Response | { status: number; body: string }, text: RegExp): void {
    assert.equal(r.status, 400, r.body.slice(0, 300));
    assert.match(r.body, text);
  }
  const exchanges = (): number => tokenRequests(stack.provider, 'authorization_code');

  it('a callback replayed with its attempt cookie (as through Envoy) → 400 "already used", without a second exchange at the provider', async () => {
    const b = new HttpBrowser();
    const auth = await start(b, '/replayed?x=1');
    const cookie = attemptCookie(b, auth);
    const cb = await b.signInAt(auth, ALICE, CALLBACK_PATH);
    const target = { host: `localhost:${stack.port}`, scheme: 'http' };
    const headers = { ...NAVIGATION, cookie: `${cookie.name}=${cookie.value}` };
    const before = exchanges();
    const first = await grpc.check(cb.pathname + cb.search, headers, target);
    assert.equal(first.denied_response?.status?.code, 302);
    assert.equal(optionValue(first.denied_response?.headers, 'location'), stack.url('/replayed?x=1'));
    const again = await grpc.check(cb.pathname + cb.search, headers, target);
    assert.equal(again.denied_response?.status?.code, 400);
    assert.match(again.denied_response?.body ?? '', /already used/);
    assert.equal(optionValue(again.denied_response?.headers, 'set-cookie'), undefined);
    // Over the forwarder too (the browser still holding the cookie).
    const planted = new HttpBrowser();
    planted.plant(host(), cookie.name, cookie.value);
    refused(await planted.request(cb), /already used/);
    assert.equal(exchanges(), before + 1, 'the replays never reached the token endpoint');
  });

  it('an attempt older than LOGIN_STATE_TTL → 400 (the clock moved, not the cookie)', async () => {
    const b = new HttpBrowser();
    const [fresh, stale] = [await start(b, '/fresh'), await start(b, '/stale')];
    const [freshCb, staleCb] = [await b.signInAt(fresh, ALICE, CALLBACK_PATH), await b.signInAt(stale, ALICE, CALLBACK_PATH)];
    clock.advance(599_000);
    const ok = await b.request(freshCb);
    assert.equal(ok.status, 302);
    assert.equal(ok.location?.pathname, '/fresh');
    clock.advance(1_000);
    refused(await b.request(staleCb), /expired/);
    assert.equal(b.cookie(host(), SESSION_COOKIE) !== undefined, true);
  });

  it("a tampered attempt cookie, or a genuine one moved under another attempt's name → 400", async () => {
    const b = new HttpBrowser();
    const auth = await start(b, '/tampered');
    const cookie = attemptCookie(b, auth);
    const cb = await b.signInAt(auth, ALICE, CALLBACK_PATH);
    const flipped = cookie.value.slice(0, 40) + (cookie.value[40] === 'A' ? 'B' : 'A') + cookie.value.slice(41);
    b.plant(host(), cookie.name, flipped);
    refused(await b.request(cb), /expired, was already used, or was started in another browser/);
    // Another attempt of this browser, its genuine value planted under the first one's name.
    const other = await start(b, '/other');
    b.plant(host(), cookie.name, attemptCookie(b, other).value);
    refused(await b.request(cb), /started in another browser/);
    // Restored, the untouched attempt still completes: the refusals spent nothing.
    b.plant(host(), cookie.name, cookie.value);
    const ok = await b.request(cb);
    assert.equal(ok.status, 302);
    assert.equal(ok.location?.pathname, '/tampered');
  });

  it('a callback URL carried to another browser, which holds attempt cookies of its own → 400 there', async () => {
    const victim = new HttpBrowser();
    const auth = await start(victim, '/victim');
    const cb = await victim.signInAt(auth, ALICE, CALLBACK_PATH);
    const attacker = new HttpBrowser();
    const own = await start(attacker, '/attacker');
    // Even under the victim's cookie name, the attacker's own genuine attempt is not this state's.
    attacker.plant(host(), attemptCookie(victim, auth).name, attemptCookie(attacker, own).value);
    refused(await attacker.request(cb), /started in another browser/);
    assert.equal(attacker.cookie(host(), SESSION_COOKIE), undefined);
  });

  it('RFC 9207 mix-up: a callback whose iss names another issuer → 400 over the forwarder, the HTTP judge and gRPC, and the attempt stays usable', async () => {
    const b = new HttpBrowser();
    const auth = await start(b, '/mixup');
    const cookie = attemptCookie(b, auth);
    const cb = await b.signInAt(auth, ALICE, CALLBACK_PATH);
    assert.equal(cb.searchParams.get('iss'), stack.provider.issuer);
    const before = exchanges();
    const text = /did not come from the expected identity provider/;
    for (const iss of ['https://evil.example', null]) {
      const bad = new URL(cb);
      if (iss === null)
        bad.searchParams.delete('iss'); // the provider always sends it: missing is refused too
      else bad.searchParams.set('iss', iss);
      refused(await b.request(bad), text);
      const path = bad.pathname + bad.search;
      const headers = { ...NAVIGATION, cookie: `${cookie.name}=${cookie.value}` };
      refused(await send(stack.app.ports.http, path, { headers: { host: `localhost:${stack.port}`, ...headers } }), text);
      const g = await grpc.check(path, headers, { host: `localhost:${stack.port}`, scheme: 'http' });
      assert.equal(g.denied_response?.status?.code, 400);
      assert.match(g.denied_response?.body ?? '', text);
    }
    const twice = new URL(cb);
    twice.searchParams.append('iss', stack.provider.issuer);
    refused(await b.request(twice), text);
    assert.equal(exchanges(), before, 'no mix-up answer reached the token endpoint');
    const ok = await b.request(cb);
    assert.equal(ok.status, 302);
    assert.equal(ok.location?.pathname, '/mixup');
  });
});
