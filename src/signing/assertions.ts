/**
 * The identity assertion: a JWT the judge signs for an allowed request — `iss` the judge, `aud` the
 * request's host (or the audience configured for it), `sub`, `email`, `groups`, how the caller
 * authenticated, the selected claims, `iat`, `exp`, `jti`. Signed once per identity, audience and
 * key and reused until shortly before it expires (a bounded LRU, plus a memo on the claims object
 * a cached session or token presents check after check); signatures are computed on libuv's
 * thread pool, a few at a time, so a burst of new identities never blocks the event loop.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.js';
import { claimReader } from '../judge/claims.js';
import type { Identity } from '../judge/decision.js';
import type { Target } from '../judge/ports.js';
import type { AssertionSigner } from '../judge/upstream/assertion.js';
import type { AssertionKeys } from './key-files.js';
import { nonce, type SigningAlg, type SigningKey } from './key.js';
import { Limiter } from './limiter.js';

/** Claim names the judge sets itself: never copied from `ASSERTION_CLAIMS`. */
export const ASSERTION_OWN_CLAIMS: readonly string[] = Object.freeze([
  'iss',
  'aud',
  'sub',
  'exp',
  'nbf',
  'iat',
  'jti',
  'email',
  'groups',
  'user',
  'authn',
  'auth_method',
  'acr',
  'amr',
  'auth_time',
]);

export interface AssertionOptions {
  /** Lower-case header name. */
  readonly header: string;
  readonly issuer: string;
  readonly ttlSeconds: number;
  /** Claim names or dot paths copied from the verified claims (under that name). */
  readonly claims: readonly string[];
  /** `host` or `host/path-prefix` → audience; other requests get their host name. */
  readonly audiences: Readonly<Record<string, string>>;
  readonly keys: AssertionKeys;
  readonly clock: Clock;
  /** Assertions remembered (default 10 000). */
  readonly maxEntries?: number;
  /** Signatures computed at once (default 4, libuv's thread pool). */
  readonly concurrency?: number;
}

interface Entry {
  readonly value: string;
  /** When it is signed anew (epoch ms): a margin before `exp`. */
  readonly renewAt: number;
}

/** What a memo on a claims object was made of (a session's groups or user may change under the same claims object). */
interface Memo {
  readonly kid: string;
  readonly audience: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly method: string;
  readonly authenticator: string;
  readonly entry: Entry;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/** A JWS signature off the event loop (crypto.sign with a callback runs on the thread pool). */
function signature(alg: SigningAlg, key: KeyObject, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, sig: Buffer): void => (err ? reject(err) : resolve(sig));
    if (alg === 'ES256') cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, done);
    else if (alg === 'RS256') cryptoSign('sha256', data, key, done);
    else cryptoSign(null, data, key, done);
  });
}

/**
 * The `aud` of a request: the audience of its host's longest matching path prefix (segment-aware),
 * else of its host, else the host name. A Map, not the object: a host named `constructor` must not
 * find Object.prototype's.
 */
export function audienceRoutes(audiences: Readonly<Record<string, string>>): (target: Target) => string {
  const byHost = new Map<string, { prefix: string; audience: string }[]>();
  for (const [key, audience] of Object.entries(audiences)) {
    const slash = key.indexOf('/');
    const host = slash < 0 ? key : key.slice(0, slash);
    const prefix = slash < 0 ? '' : key.slice(slash).replace(/\/+$/, '');
    let list = byHost.get(host);
    if (list === undefined) byHost.set(host, (list = []));
    list.push({ prefix, audience });
  }
  for (const list of byHost.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
  return (target) => {
    const list = byHost.get(target.hostname);
    if (list !== undefined)
      for (const { prefix, audience } of list)
        if (prefix === '' || target.path === prefix || (target.path.startsWith(prefix) && target.path[prefix.length] === '/')) return audience;
    return target.hostname;
  };
}

export function createAssertionSigner(o: AssertionOptions): AssertionSigner {
  const max = o.maxEntries ?? 10_000;
  const ttlMs = o.ttlSeconds * 1000;
  const marginMs = Math.min(10_000, ttlMs / 5);
  const bearer = o.header === 'authorization';
  const selected = o.claims.filter((c) => !ASSERTION_OWN_CLAIMS.includes(c)).map((c) => [c, claimReader(c)] as const);
  const lru = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();
  const memos = new WeakMap<object, Memo>();
  const audienceOf = audienceRoutes(o.audiences);
  const limiter = new Limiter(o.concurrency ?? 4);

  function payloadOf(id: Identity, audience: string): Record<string, unknown> {
    const c = id.claims;
    const p: Record<string, unknown> = { iss: o.issuer, aud: audience, sub: typeof c['sub'] === 'string' && c['sub'] !== '' ? c['sub'] : id.user };
    if (typeof c['email'] === 'string') p['email'] = c['email'];
    p['user'] = id.user;
    p['groups'] = id.groups;
    p['authn'] = id.authenticator;
    p['auth_method'] = id.method;
    const s = id.strength;
    if (s?.acr !== undefined) p['acr'] = s.acr;
    if (s?.amr !== undefined) p['amr'] = s.amr;
    if (s?.authTime !== undefined) p['auth_time'] = s.authTime;
    for (const [name, read] of selected) {
      const v = read(c);
      if (v !== undefined) p[name] = v;
    }
    return p;
  }

  async function mint(key: SigningKey, payload: Record<string, unknown>): Promise<Entry> {
    return limiter.run(async () => {
      const now = o.clock.now();
      const iat = Math.floor(now / 1000);
      const exp = iat + o.ttlSeconds;
      const body = { ...payload, iat, exp, jti: nonce(22) };
      const input = `${b64(JSON.stringify({ alg: key.alg, typ: 'JWT', kid: key.kid }))}.${b64(JSON.stringify(body))}`;
      const sig = await signature(key.alg, key.privateKey, Buffer.from(input));
      const jwt = `${input}.${sig.toString('base64url')}`;
      return { value: bearer ? `Bearer ${jwt}` : jwt, renewAt: exp * 1000 - marginMs };
    });
  }

  function remember(k: string, e: Entry): void {
    lru.delete(k);
    lru.set(k, e);
    if (lru.size > max) lru.delete(lru.keys().next().value!);
  }

  return {
    header: o.header,
    assert(id: Identity, target: Target) {
      const key = o.keys.signing();
      if (key === undefined) return undefined;
      const audience = audienceOf(target);
      const now = o.clock.now();
      const m = memos.get(id.claims);
      if (
        m !== undefined &&
        m.kid === key.kid &&
        m.audience === audience &&
        m.user === id.user &&
        m.groups === id.groups &&
        m.method === id.method &&
        m.authenticator === id.authenticator &&
        now < m.entry.renewAt
      )
        return m.entry.value;
      const payload = payloadOf(id, audience);
      const k = `${key.kid}\n${JSON.stringify(payload)}`;
      const memo = (entry: Entry): string => {
        memos.set(id.claims, { kid: key.kid, audience, user: id.user, groups: id.groups, method: id.method, authenticator: id.authenticator, entry });
        return entry.value;
      };
      const hit = lru.get(k);
      if (hit !== undefined && now < hit.renewAt) {
        remember(k, hit);
        return memo(hit);
      }
      let pending = inflight.get(k);
      if (pending === undefined) {
        pending = mint(key, payload).finally(() => inflight.delete(k));
        inflight.set(k, pending);
      }
      return pending.then((entry) => {
        remember(k, entry);
        return memo(entry);
      });
    },
  };
}
