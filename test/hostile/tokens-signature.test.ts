/**
 * Hostile tokens, part 1: signatures and headers. `alg: none` in every spelling, HMAC keyed with
 * the provider's public key (PEM, JWK JSON, modulus), `kid` abuse (traversal, injection, huge,
 * non-string, another key's kid), header URLs and embedded keys (`jku`, `x5u`, `jwk`, `x5c` —
 * never fetched, never trusted), `crit` (including RFC 7797 `b64: false`), oversized and malformed
 * tokens. Each is judged through the HTTP and gRPC front doors of the assembled service: 401, and
 * nothing of the token in answers or logs.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, SignJWT } from 'jose';
import { ManualClock } from '../../src/clock.js';
import { AUDIENCE, request, startJudge, type Judged } from '../helpers/app.js';
import { capturingLogger } from '../helpers/bearer.js';
import { newKey, startOp, type OpKey, type TestOp } from '../helpers/op.js';
import { API, assertNoLeak, b64, bearer, judgeBoth, rawJws } from './kit.js';

describe('hostile tokens: signatures and headers', () => {
  let op: TestOp;
  let judge: Judged;
  let attacker: Server;
  let attackerUrl: string;
  let attackerHits = 0;
  let rogue: OpKey;
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const { log, lines } = capturingLogger('DEBUG');
  const used = new Set<string>();
  const now = (): number => clock.now() / 1000;
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: op.issuer,
    sub: 'mallory',
    email: 'mallory@example.com',
    groups: ['admins'],
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 300,
    ...extra,
  });

  /** Judges `token` as a bearer over both doors; returns the verdict and remembers the token for the leak check. */
  const judged = async (token: string, http = true) => {
    used.add(token);
    const v = await judgeBoth(judge, bearer(token), '/api/data', http);
    assertNoLeak(v.seen, [token], 'an answer');
    return v;
  };

  before(async () => {
    op = await startOp();
    rogue = await newKey('RS256');
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rogue.publicJwk] }));
    });
    attacker.listen(0, '127.0.0.1');
    await once(attacker, 'listening');
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    judge = await startJudge(op.issuer, { clock, log });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
    attacker.close();
    // Whatever was logged about these tokens, the tokens themselves never were.
    assertNoLeak(lines.join(''), used, 'the log');
  });

  it('a good token passes (the baseline the refusals below are measured against)', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    assert.equal((await judged(rawJws({ alg: 'RS256', kid: rs.kid, typ: 'JWT' }, claims(), rs))).http, 200);
  });

  it('alg none in any spelling, with or without a signature part → 401', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE', 'none ', '']) {
      for (const sig of ['', 'AAAA']) {
        const v = await judged(rawJws({ alg, typ: 'JWT' }, claims(), undefined, sig));
        assert.equal(v.http, 401, `alg ${JSON.stringify(alg)}`);
      }
    }
  });

  it('HS256/384/512 keyed with the public key (PEM, JWK JSON, modulus) → 401', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    const jwk = await exportJWK(rs.publicKey);
    const secrets = [await exportSPKI(rs.publicKey), JSON.stringify(rs.publicJwk), JSON.stringify(jwk), jwk.n!];
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      for (const secret of secrets) {
        const token = await new SignJWT(claims()).setProtectedHeader({ alg, kid: rs.kid }).sign(new TextEncoder().encode(secret));
        assert.equal((await judged(token)).http, 401, alg);
      }
    }
  });

  it('kid abuse: traversal, injection, huge, empty, NUL, non-string, another key’s kid, a published kid over a rogue key → 401', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    const es = op.keys.find((k) => k.alg === 'ES256')!;
    const kids: unknown[] = [
      '../../../../../etc/passwd',
      "' OR '1'='1' --",
      '${jndi:ldap://127.0.0.1/x}',
      'x'.repeat(4000),
      '',
      'rs\u0000',
      0,
      1e308,
      {},
      [rs.kid],
      null,
      true,
    ];
    for (const kid of kids) assert.equal((await judged(rawJws({ alg: 'RS256', kid }, claims(), rogue))).http, 401, `kid ${JSON.stringify(kid).slice(0, 40)}`);
    // The RS256 key's signature under the ES256 key's kid, and each published kid over a rogue signature.
    assert.equal((await judged(rawJws({ alg: 'RS256', kid: es.kid }, claims(), rs))).http, 401);
    assert.equal((await judged(rawJws({ alg: 'ES256', kid: rs.kid }, claims(), es))).http, 401);
    assert.equal((await judged(rawJws({ alg: 'RS256', kid: rs.kid }, claims(), rogue))).http, 401);
    assert.equal((await judged(rawJws({ alg: 'RS256' }, claims(), rogue))).http, 401);
  });

  it('jku, x5u, an embedded jwk or x5c never bring their own key: 401, and the attacker’s server is never asked', async () => {
    const headers = [
      { jku: `${attackerUrl}/jwks` },
      { x5u: `${attackerUrl}/cert.pem` },
      { jwk: rogue.publicJwk },
      { x5c: [Buffer.from('not a certificate').toString('base64')] },
      { jku: `${attackerUrl}/jwks`, x5u: `${attackerUrl}/c`, jwk: rogue.publicJwk },
    ];
    for (const h of headers) assert.equal((await judged(rawJws({ alg: 'RS256', kid: rogue.kid, ...h }, claims(), rogue))).http, 401, Object.keys(h).join(','));
    // A genuine token carrying those members is judged by the issuer's keys only: they are ignored.
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    assert.equal(
      (await judged(rawJws({ alg: 'RS256', kid: rs.kid, jku: `${attackerUrl}/jwks`, x5u: `${attackerUrl}/c` }, claims({ jti: 'genuine' }), rs))).http,
      200,
    );
    assert.equal(attackerHits, 0);
  });

  it('crit in any form, also RFC 7797 b64:false over a genuine key → 401 invalid_token', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    const crits: Record<string, unknown>[] = [
      { crit: ['exp'] },
      { crit: ['b64'], b64: false },
      { crit: [] },
      { crit: ['x-unknown'], 'x-unknown': 1 },
      { crit: 'b64' },
    ];
    for (const c of crits) {
      const v = await judged(rawJws({ alg: 'RS256', kid: rs.kid, ...c }, claims(), rs));
      assert.equal(v.http, 401, JSON.stringify(c));
      assert.match(v.challenge ?? '', /invalid_token/);
    }
  });

  it('malformed tokens → 401 without a crash: wrong part counts, bad base64, non-JSON, arrays, padding, JWE shape', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    const good = rawJws({ alg: 'RS256', kid: rs.kid }, claims(), rs);
    const [h, p, s] = good.split('.') as [string, string, string];
    const bad = [
      'a.b.c',
      'e30.e30.',
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}.x.y`,
      `${h}==.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${Buffer.from('{"alg":"RS256"').toString('base64url')}.${p}.${s}`,
      `${h}.${Buffer.from('[1,2]').toString('base64url')}.${s}`,
      `${h}.${Buffer.from('"str"').toString('base64url')}.${s}`,
      `${h}.${Buffer.from('not json').toString('base64url')}.${s}`,
      `${b64('null')}.${p}.${s}`,
      `${h}.${p}.${s.slice(0, -4)}`,
      `${h}.${p}.${s.toUpperCase()}`,
      `.${p}.${s}`,
      '..',
      '.',
      'Bearer',
      `${h} .${p}.${s}`,
    ];
    for (const t of bad) assert.equal((await judged(t)).http, 401, t.slice(0, 60));
    // Values an HTTP client cannot send travel over gRPC: NUL, non-ASCII, newlines.
    for (const t of [`${h}.${p}.${s}\u0000`, `${h}\u00e9.${p}.${s}`, `${h}.${p}.${s}\r\nx-evil: 1`]) {
      const v = await judgeBoth(judge, bearer(t), '/api/data', false);
      used.add(t);
      assert.equal(v.grpc, 401);
    }
  });

  it('oversized: beyond 16 KiB a token is not read as a JWT (401); beyond the judge 128 KiB head limit (HTTP_MAX_HEADER_BYTES) HTTP says 431, gRPC 401', async () => {
    const rs = op.keys.find((k) => k.alg === 'RS256')!;
    const big = rawJws({ alg: 'RS256', kid: rs.kid }, claims({ pad: 'x'.repeat(17 * 1024) }), rs);
    const v = await judged(big);
    assert.equal(v.http, 401);
    assert.doesNotMatch(v.challenge ?? '', /invalid_token/);
    const huge = rawJws({ alg: 'RS256', kid: rs.kid }, claims({ pad: 'x'.repeat(130 * 1024) }), rs);
    used.add(huge);
    const http = await request(judge.app.ports.http, '/api/data', bearer(huge));
    assert.equal(http.status, 431);
    assert.equal((await judgeBoth(judge, bearer(huge), '/api/data', false)).grpc, 401);
    // Two Authorization headers (a good token and another) are one ambiguous credential: refused.
    const good = rawJws({ alg: 'RS256', kid: rs.kid }, claims({ jti: 'twice' }), rs);
    used.add(good);
    assert.equal((await request(judge.app.ports.http, '/api/data', { authorization: [`Bearer ${good}`, 'Bearer x.y.z'], ...API })).status, 401);
    assert.equal((await request(judge.app.ports.http, '/api/data', { authorization: [`Bearer ${good}`, `Bearer ${good}`], ...API })).status, 401);
  });
});
