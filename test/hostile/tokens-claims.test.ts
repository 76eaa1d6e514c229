/**
 * Hostile tokens, part 2: claims. Every time claim just inside and just outside JWT_LEEWAY (30 s)
 * on an injected clock, wrong types for them; `aud` and `iss` variants (near misses are "not
 * mine", never accepted); token-type confusion (an ID token where only access tokens are accepted
 * and the reverse, a logout token, a refresh-token-like string); ID tokens issued to another client
 * (several audiences without `azp`, a foreign `azp`); user and group claims of the wrong type or
 * carrying header injection. Judged through the HTTP and gRPC front doors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { AUDIENCE, startJudge, type Judged } from '../helpers/app.js';
import { capturingLogger } from '../helpers/bearer.js';
import { startOp, type OpKey, type TestOp } from '../helpers/op.js';
import { assertNoLeak, bearer, judgeBoth, rawJws } from './kit.js';

describe('hostile tokens: claims', () => {
  let op: TestOp;
  let judge: Judged;
  let idOnly: Judged;
  let accessOnly: Judged;
  let rs: OpKey;
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const { log, lines } = capturingLogger('DEBUG');
  const used = new Set<string>();
  const now = (): number => clock.now() / 1000;
  let seq = 0;
  const token = (extra: Record<string, unknown>, header: Record<string, unknown> = {}): string => {
    const t = rawJws(
      { alg: 'RS256', kid: rs.kid, ...header },
      { iss: op.issuer, sub: 's', email: 'eve@example.com', groups: ['devs'], aud: AUDIENCE, iat: now(), exp: now() + 300, jti: `j${seq++}`, ...extra },
      rs,
    );
    used.add(t);
    return t;
  };
  const status = async (t: string, j: Judged = judge): Promise<number> => (await judgeBoth(j, bearer(t))).http;

  before(async () => {
    op = await startOp();
    rs = op.keys.find((k) => k.alg === 'RS256')!;
    judge = await startJudge(op.issuer, { clock, log });
    idOnly = await startJudge(op.issuer, { clock, log, env: { ACCESS_TOKEN_AUTHN_ENABLED: 'false' } });
    accessOnly = await startJudge(op.issuer, { clock, log, env: { IDTOKEN_AUTHN_ENABLED: 'false' } });
  });
  after(async () => {
    await Promise.all([judge.stop(), idOnly.stop(), accessOnly.stop()]);
    await op.stop();
    assertNoLeak(lines.join(''), used, 'the log');
  });

  it('exp, nbf and iat just inside the 30 s leeway pass; just outside they are refused (invalid_token)', async () => {
    const t = now();
    const inside = [{ exp: t - 29 }, { exp: t }, { nbf: t + 30 }, { iat: t + 30 }, { nbf: t + 30, iat: t + 30, exp: t + 31 }];
    const outside = [{ exp: t - 30 }, { exp: t - 31 }, { nbf: t + 31 }, { iat: t + 31 }, { exp: t - 3600 }];
    for (const c of inside) assert.equal(await status(token(c)), 200, JSON.stringify(c));
    for (const c of outside) {
      const v = await judgeBoth(judge, bearer(token(c)));
      assert.equal(v.http, 401, JSON.stringify(c));
      assert.match(v.challenge ?? '', /invalid_token/);
    }
  });

  it('time claims of the wrong type or missing exp → 401', async () => {
    const t = now();
    for (const c of [
      { exp: undefined },
      { exp: String(t + 300) },
      { exp: null },
      { exp: [t + 300] },
      { nbf: String(t) },
      { iat: 'yesterday' },
      { iat: {} },
      { exp: true },
    ]) {
      assert.equal(await status(token(c)), 401, JSON.stringify(c));
    }
  });

  it('aud and iss near misses are not ours (401 without invalid_token); a list containing our audience is', async () => {
    assert.equal(await status(token({ aud: [AUDIENCE, 'urn:other'] })), 200);
    assert.equal(await status(token({ aud: ['urn:other', AUDIENCE] })), 200);
    const iss = op.issuer;
    const misses: Record<string, unknown>[] = [
      { aud: 'urn:other' },
      { aud: `${AUDIENCE} ` },
      { aud: AUDIENCE.toUpperCase() },
      { aud: [] },
      { aud: 7 },
      { aud: { [AUDIENCE]: true } },
      { aud: `${AUDIENCE},urn:other` },
      { iss: `${iss}/` },
      { iss: iss.toUpperCase() },
      { iss: iss.replace('http:', 'https:') },
      { iss: [iss] },
      { iss: undefined },
      { iss: null },
      { iss: `${iss}#` },
      { iss: ` ${iss}` },
    ];
    for (const c of misses) {
      const v = await judgeBoth(judge, bearer(token(c)));
      assert.equal(v.http, 401, JSON.stringify(c));
      assert.doesNotMatch(v.challenge ?? '', /invalid_token/, JSON.stringify(c));
    }
  });

  it('token-type confusion: an ID token is no access token, an access token no ID token, a logout token nothing', async () => {
    const idToken = token({ aud: 'judge-client', groups: undefined, nonce: 'n' });
    const accessTok = token({ typ: undefined }, { typ: 'at+jwt' });
    assert.equal(await status(idToken), 200, 'ID tokens are accepted as bearer tokens by default (IDTOKEN_AUTHN_ENABLED)');
    assert.equal(await status(idToken, accessOnly), 401);
    assert.equal(await status(accessTok, accessOnly), 200);
    assert.equal(await status(accessTok, idOnly), 401);
    assert.equal(await status(idToken, idOnly), 200);
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    for (const j of [judge, idOnly, accessOnly]) {
      assert.equal(await status(token({ aud: 'judge-client', events, sid: 's1' }, { typ: 'logout+jwt' }), j), 401);
      assert.equal(await status(token({ aud: 'judge-client', events }), j), 401);
      assert.equal(await status(token({ events }, { typ: 'logout+jwt' }), j), 401);
    }
    // Opaque strings (refresh tokens, session ids of other services) are no JWT of ours.
    assert.equal(await status('def50200a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6'), 401);
  });

  it('an ID token issued to another client that lists us among its audiences → 401 invalid_token (OIDC Core 3.1.3.7 azp)', async () => {
    const id = (c: Record<string, unknown>): string => token({ groups: undefined, ...c });
    for (const j of [judge, idOnly]) {
      for (const c of [
        { aud: ['judge-client', 'other-client'] },
        { aud: ['other-client', 'judge-client'] },
        { aud: ['judge-client', 'other-client'], azp: 'other-client' },
        { aud: 'judge-client', azp: 'other-client' },
      ]) {
        const v = await judgeBoth(j, bearer(id(c)));
        assert.equal(v.http, 401, JSON.stringify(c));
        assert.match(v.challenge ?? '', /invalid_token/, JSON.stringify(c));
      }
      for (const c of [
        { aud: ['judge-client', 'other-client'], azp: 'judge-client' },
        { aud: 'judge-client', azp: 'judge-client' },
        { aud: ['judge-client'] },
      ]) {
        assert.equal(await status(id(c), j), 200, JSON.stringify(c));
      }
    }
    // Our API's audience next to another: an access token for us (AUDIENCES), not an ID token.
    assert.equal(await status(token({ aud: [AUDIENCE, 'other-client'] }), accessOnly), 200);
  });

  it('user id and groups of the wrong type → 401 for access tokens; never a crash', async () => {
    for (const email of [42, { a: 1 }, ['eve@example.com'], null, true, '']) assert.equal(await status(token({ email })), 401, JSON.stringify(email));
    for (const groups of [{ a: 1 }, [1, 2], [['devs']], 3, null, [null]]) assert.equal(await status(token({ groups })), 401, JSON.stringify(groups));
    // One group as a string is one group.
    const v = await judgeBoth(judge, bearer(token({ groups: 'devs' })));
    assert.equal(v.http, 200);
    assert.equal(v.groups, 'devs');
    // ID tokens: malformed groups are treated as none.
    const id = await judgeBoth(judge, bearer(token({ aud: 'judge-client', groups: { admins: true } })));
    assert.equal(id.http, 200);
    assert.equal(id.groups, '');
  });

  it('claims carrying header injection or list structure never reach the upstream as another user or group', async () => {
    // A user id a header parser would cut or trim into another one: refused, never cleaned into "eve@example.comkubeflow-groups: admins".
    for (const email of ['eve@example.com\r\nkubeflow-groups: admins', 'admin@example.com\t', ' admin@example.com', 'ad\u0000min@example.com']) {
      const v = await judgeBoth(judge, bearer(token({ email })));
      assert.equal(v.http, 403, JSON.stringify(email));
      assert.equal(v.user, undefined);
    }
    // A group holding the separator, a control character or edge spaces is dropped, never split into groups the provider did not issue.
    const v = await judgeBoth(judge, bearer(token({ email: 'eve@example.com', groups: ['devs\r\nauth-method: cookie', 'ops', 'guests,admins', ' admins'] })));
    assert.equal(v.http, 200);
    assert.equal(v.user, 'eve@example.com');
    assert.equal(v.groups, 'ops');
    const long = await judgeBoth(judge, bearer(token({ email: `${'e'.repeat(8000)}@example.com` })));
    assert.equal(long.http, 200);
  });
});
