/**
 * Two replicas of the assembled service sharing one real Redis, signing identity assertions with
 * keys they generate and share through it. On an injected clock the keys rotate four times while
 * both replicas judge a steady stream of new callers through their gRPC doors and read the ring at
 * different moments: no upstream ever receives an assertion whose `kid` is not in the JWKS both
 * replicas' web servers publish, from the check that answers it until it expires; each verifies
 * with jose against either replica's JWKS; a JWKS revalidation (ETag) sees each change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { accessToken, optionValue, startJudge, type Judged } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const ISSUER = 'https://apps.example.com/authservice';
const HOST = 'app.example.com';
const HEADER = 'x-identity-assertion';
const MINUTE = 60_000;
// The timers never fire during the test (10 min of real time): the test reads the ring itself.
const REFRESH = 10 * MINUTE;
const ROTATE = 60 * MINUTE;

describe('identity assertions from two replicas sharing Redis while their keys rotate', () => {
  const clock = new ManualClock(Date.now());
  let op: TestOp;
  let redis: RedisServer;
  const replicas: Judged[] = [];

  before(async () => {
    op = await startOp();
    redis = await startRedis();
    const env = {
      SESSION_STORE_TYPE: 'redis',
      SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}`,
      ASSERTION_HEADER: 'X-Identity-Assertion',
      ASSERTION_ISSUER: ISSUER,
      ASSERTION_TTL: '300',
      ASSERTION_KEY_ROTATION: String(ROTATE / 1000),
      ASSERTION_KEY_REFRESH: String(REFRESH / 1000),
    };
    // Started together: one creates the first key, the other adopts it.
    replicas.push(...(await Promise.all([startJudge(op.issuer, { clock, env }), startJudge(op.issuer, { clock, env })])));
  });
  after(async () => {
    for (const r of replicas) await r.stop();
    await op?.stop();
    await redis?.stop();
  });

  /** A replica's JWKS as a verifier fetches it, revalidated with the last ETag it saw. */
  const etags = new Map<Judged, { etag: string; jwks: JSONWebKeySet }>();
  async function jwksOf(r: Judged): Promise<JSONWebKeySet> {
    const last = etags.get(r);
    const res = await send(r.app.ports.web, '/authservice/.well-known/jwks.json', { headers: last ? { 'if-none-match': last.etag } : {} });
    if (res.status === 304) return last!.jwks;
    assert.equal(res.status, 200);
    const jwks = JSON.parse(res.body) as JSONWebKeySet;
    assert.notDeepEqual(jwks, last?.jwks, 'a new ETag means new keys');
    etags.set(r, { etag: String(res.headers['etag']), jwks });
    return jwks;
  }

  it('no assertion carries a kid that both replicas do not publish while it is valid', async () => {
    const [a, b] = replicas as [Judged, Judged];
    const live: { token: string; kid: string; exp: number }[] = [];
    const kids = new Set<string>();
    /** When each key was first published by both replicas, and first signed with. */
    const publishedAt = new Map<string, number>();
    const signedAt = new Map<string, number>();
    const start = clock.now();
    let n = 0;
    for (let t = 0; t <= 4 * ROTATE; t += MINUTE) {
      clock.set(start + t);
      // A reads the ring at every 10-minute mark, B five minutes later.
      if (t % REFRESH === 0) await a.app.assertion!.refresh();
      if (t % REFRESH === REFRESH / 2) await b.app.assertion!.refresh();
      for (const r of [a, b]) {
        const token = await accessToken(op, `caller-${n++}@example.com`, ['devs'], {}, {}, clock.now());
        const res = await r.grpc.check('/api/things', { accept: 'application/json', authorization: `Bearer ${token}` }, { host: HOST });
        assert.equal(res.status.code, 0, JSON.stringify(res.denied_response));
        const assertion = optionValue(res.ok_response?.headers, HEADER)!;
        const kid = decodeProtectedHeader(assertion).kid!;
        kids.add(kid);
        if (!signedAt.has(kid)) signedAt.set(kid, clock.now());
        live.push({ token: assertion, kid, exp: decodeJwt(assertion).exp! });
      }
      const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)]);
      const published = [new Set(ja.keys.map((k) => k.kid)), new Set(jb.keys.map((k) => k.kid))];
      for (const k of published[0]!) if (published[1]!.has(k) && !publishedAt.has(k!)) publishedAt.set(k!, clock.now());
      for (let i = live.length - 1; i >= 0; i--) {
        const l = live[i]!;
        if (l.exp * 1000 <= clock.now()) live.splice(i, 1);
        else for (const [side, set] of published.entries()) assert.ok(set.has(l.kid), `+${t / MINUTE} min: replica ${'AB'[side]} does not publish ${l.kid}`);
      }
      if (t % (15 * MINUTE) === 0)
        for (const jwks of [ja, jb])
          for (const l of [live[0]!, live.at(-1)!])
            await jwtVerify(l.token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: HOST, currentDate: new Date(clock.now()) });
    }
    assert.ok(kids.size >= 4, `${kids.size} keys signed over four rotations`);
    // Every key after the first was on both JWKS ASSERTION_KEY_LEAD (30 min by default) before it signed.
    for (const kid of [...kids].slice(1)) {
      const lead = signedAt.get(kid)! - publishedAt.get(kid)!;
      assert.ok(lead >= 30 * MINUTE, `${kid} published by both ${lead / MINUTE} min before it signed`);
    }
  });
});
