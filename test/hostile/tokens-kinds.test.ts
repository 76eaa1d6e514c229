/**
 * Hostile tokens, part 3: the right token of the wrong kind, and addresses that say one domain to a
 * lax reader and another to the mail system. A real refresh token from a real code flow presented
 * as a bearer (introspection: oidc-provider says active and leaves `token_type` out; userinfo), and
 * e-mail claims that smuggle a second `@`, quote, pad or leave `email_verified` out, against
 * `domains`/`emails` access rules. Judged through the HTTP and gRPC front doors and the built-in
 * ingress forwarder (whose upstream must see no refused request).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { request, startJudge, type Judged } from '../helpers/app.js';
import { capturingLogger } from '../helpers/bearer.js';
import { freePort } from '../helpers/net.js';
import { startOp, type OpKey, type TestOp } from '../helpers/op.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { ALICE, BASIC, startOpaqueOp, type OpaqueOp, type Tokens } from '../authn/opaque-op.js';
import { assertNoLeak, bearer, judgeBoth, rawJws, type Verdict } from './kit.js';

let upstream: Upstream;
before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

/** A judge that also forwards allowed requests to `upstream` (INGRESS_PORT). */
async function ingressEnv(): Promise<Record<string, string>> {
  return { INGRESS_PORT: String(await freePort()), INGRESS_UPSTREAM: upstream.url };
}

/** HTTP, gRPC and the ingress forwarder agree on one status; a refused request never reaches the upstream. */
async function judgeAll(judge: Judged, headers: Readonly<Record<string, string>>, path = '/api/data'): Promise<Verdict> {
  const v = await judgeBoth(judge, headers, path);
  const before = upstream.heads.length;
  const res = await request(judge.app.ports.ingress, path, headers);
  assert.equal(res.status, v.http, `ingress ${res.status} but judge ${v.http} for ${path}`);
  if (v.http !== 200) assert.equal(upstream.heads.length, before, `a refused ${path} reached the upstream`);
  return v;
}

describe('hostile tokens: a refresh token presented as a bearer', () => {
  let op: OpaqueOp;
  let introspection: Judged;
  let relaxed: Judged;
  let userinfo: Judged;
  let tokens: Tokens;
  const { log, lines } = capturingLogger('DEBUG');

  before(async () => {
    op = await startOpaqueOp();
    const env = { CLIENT_ID: BASIC.id, CLIENT_SECRET: BASIC.secret };
    introspection = await startJudge(op.issuer, { log, env: { ...env, ...(await ingressEnv()), ACCESS_TOKEN_AUTHN: 'introspection' } });
    relaxed = await startJudge(op.issuer, { log, env: { ...env, ACCESS_TOKEN_AUTHN: 'introspection', INTROSPECTION_TOKEN_TYPE_REQUIRED: 'false' } });
    userinfo = await startJudge(op.issuer, { log, env: { ...env, ...(await ingressEnv()), ACCESS_TOKEN_AUTHN: 'opaque' } });
    tokens = await op.issue(ALICE);
    assert.ok(tokens.refreshToken, 'the provider issued a refresh token');
  });
  after(async () => {
    await Promise.all([introspection.stop(), relaxed.stop(), userinfo.stop()]);
    await op.stop();
    const { accessToken, refreshToken, idToken } = tokens;
    assertNoLeak(lines.join(''), [accessToken, refreshToken ?? '', idToken], 'the log');
  });

  it('introspection and userinfo refuse it (401 invalid_token); the access and ID tokens of the same grant pass', async () => {
    for (const judge of [introspection, userinfo]) {
      const v = await judgeAll(judge, bearer(tokens.refreshToken!));
      assert.equal(v.http, 401);
      assert.match(v.challenge ?? '', /invalid_token/);
      assert.ok(!v.seen.includes(tokens.refreshToken!));
      assert.equal((await judgeAll(judge, bearer(tokens.accessToken))).http, 200);
      const id = await judgeAll(judge, bearer(tokens.idToken));
      assert.equal(id.http, 200);
      assert.equal(id.user, ALICE.email);
    }
  });

  it('INTROSPECTION_TOKEN_TYPE_REQUIRED=false trusts an untyped answer: the refresh token then passes (the setting’s documented trade-off)', async () => {
    assert.equal((await judgeBoth(relaxed, bearer(tokens.refreshToken!))).http, 200);
  });
});

describe('hostile claims: e-mail addresses against domains/emails rules', () => {
  let op: TestOp;
  let strict: Judged;
  let lax: Judged;
  let byName: Judged;
  let rs: OpKey;
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const now = (): number => clock.now() / 1000;
  const yaml = [
    'authzRules:',
    '  - match: { path: /team }',
    '    allow: { domains: [example.com] }',
    '  - match: { path: /alice }',
    '    allow: { emails: [alice@example.com] }',
    '',
  ].join('\n');
  let seq = 0;
  const token = (claims: Record<string, unknown>): string =>
    rawJws(
      { alg: 'RS256', kid: rs.kid },
      { iss: op.issuer, sub: 's', aud: 'urn:test:api', groups: ['devs'], iat: now(), exp: now() + 300, jti: `e${seq++}`, ...claims },
      rs,
    );
  const status = async (judge: Judged, claims: Record<string, unknown>, path: string): Promise<number> =>
    (judge === strict ? await judgeAll(judge, bearer(token(claims)), path) : await judgeBoth(judge, bearer(token(claims)), path)).http;

  before(async () => {
    op = await startOp();
    rs = op.keys.find((k) => k.alg === 'RS256')!;
    strict = await startJudge(op.issuer, { clock, yaml, env: await ingressEnv() });
    lax = await startJudge(op.issuer, { clock, yaml, env: { EMAIL_VERIFIED_REQUIRED: 'false' } });
    byName = await startJudge(op.issuer, { clock, yaml, env: { USERID_CLAIM: 'preferred_username' } });
  });
  after(async () => {
    await Promise.all([strict.stop(), lax.stop(), byName.stop()]);
    await op.stop();
  });

  it('a second @, quotes, padding, a trailing dot or an address literal is no address at example.com (403)', async () => {
    const smuggled = [
      'mallory@evil.com@example.com',
      '"mallory@evil.com"@example.com',
      'mallory@example.com@evil.com',
      '"alice"@example.com',
      'alice@example.com.',
      ' alice@example.com',
      'alice@example.com\t',
      'alice@example.com\r\nx: y',
      'alice@[192.0.2.1]',
      'Alice <alice@example.com>',
      'alice@example.com,mallory@evil.com',
      'alice@exämple.com',
    ];
    for (const email of smuggled) {
      for (const path of ['/team', '/alice'])
        assert.equal(await status(strict, { email, email_verified: true }, path), 403, `${JSON.stringify(email)} ${path}`);
    }
    assert.equal(await status(strict, { email: 'Alice@Example.com', email_verified: true }, '/team'), 200);
    assert.equal(await status(strict, { email: 'alice@example.com', email_verified: true }, '/alice'), 200);
  });

  it('email_verified must be true or "true"; missing passes only with EMAIL_VERIFIED_REQUIRED=false; false never', async () => {
    const email = 'alice@example.com';
    for (const ev of [undefined, false, 'false', 0, 1, 'yes', 'True', null, [true], { v: true }]) {
      const claims = ev === undefined ? { email } : { email, email_verified: ev };
      for (const path of ['/team', '/alice']) assert.equal(await status(strict, claims, path), 403, `${JSON.stringify(ev)} ${path}`);
    }
    for (const ev of [true, 'true']) assert.equal(await status(strict, { email, email_verified: ev }, '/team'), 200, String(ev));
    assert.equal(await status(lax, { email }, '/team'), 200);
    for (const ev of [false, 'false']) assert.equal(await status(lax, { email, email_verified: ev }, '/team'), 403, String(ev));
  });

  it('a user id that looks like an address is no address: only the email claim counts', async () => {
    assert.equal(await status(byName, { preferred_username: 'alice@example.com' }, '/alice'), 403);
    assert.equal(await status(byName, { preferred_username: 'alice@example.com', email: 'mallory@evil.com', email_verified: true }, '/team'), 403);
    assert.equal(await status(byName, { preferred_username: 'mallory', email: 'alice@example.com', email_verified: true }, '/alice'), 200);
  });
});
