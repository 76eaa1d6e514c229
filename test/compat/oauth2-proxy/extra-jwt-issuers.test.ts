/**
 * `extra_jwt_issuers = [ "A=aud-a", "B=aud-b" ]` as oauth2-proxy means it: each issuer with its own
 * audience. The mapped settings, loaded and run by the real bearer authenticator against three real
 * issuers (the main provider, A, B): a token of A for B's audience, or of B for A's, is refused,
 * as is a token of A for the client id; each issuer's own pair and the main provider's client id pass,
 * an extra issuer's without a groups claim too (oauth2-proxy never requires one).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { AccessTokenAuthenticator } from '../../../src/authn/access-token.js';
import { ManualClock } from '../../../src/clock.js';
import { mapOptions } from '../../../src/compat/oauth2-proxy/map.js';
import type { Options } from '../../../src/compat/oauth2-proxy/options.js';
import { loadConfig } from '../../../src/config/load.js';
import { HttpClient } from '../../../src/net/http-client.js';
import { IssuerRegistry } from '../../../src/oidc/issuers.js';
import { capturingLogger, requestWith, secs } from '../../helpers/bearer.js';
import { startOp, type TestOp } from '../../helpers/op.js';

describe('oauth2-proxy extra_jwt_issuers: each issuer with its own audience', () => {
  let main: TestOp;
  let a: TestOp;
  let b: TestOp;
  const http = new HttpClient({ timeoutMs: 3000 });
  let registry: IssuerRegistry | undefined;

  before(async () => {
    [main, a, b] = await Promise.all([startOp(), startOp(), startOp()]);
  });
  after(async () => {
    registry?.stop();
    await Promise.all([main.stop(), a.stop(), b.stop()]);
    http.close();
  });

  it("refuses a token of issuer A carrying issuer B's audience (and the reverse); accepts each issuer's own", async () => {
    const options: Record<string, { value: unknown; from: string }> = {};
    for (const [k, v] of Object.entries({
      provider: 'oidc',
      oidc_issuer_url: main.issuer,
      client_id: 'kubeflow',
      client_secret: 's3cret-value',
      email_domains: ['*'],
      skip_jwt_bearer_tokens: true,
      extra_jwt_issuers: [`${a.issuer}=aud-a`, `${b.issuer}=aud-b`],
    }))
      options[k] = { value: v, from: `cfg ${k}` };
    const mapped = mapOptions(options as Options);
    assert.deepEqual(mapped.errors, []);
    assert.deepEqual(mapped.warnings, []);
    const { config } = loadConfig({ env: mapped.settings, readFile: () => assert.fail('no file is read') });

    const clock = new ManualClock(Date.now());
    const { log } = capturingLogger();
    registry = new IssuerRegistry(config, { http, clock, log });
    for (const op of [main, a, b]) assert.equal(await registry.discovery(op.issuer)!.attempt(), true, op.issuer);
    const authn = new AccessTokenAuthenticator(config, { clock, issuers: registry, log });
    const now = secs(clock.now());
    const token = (op: TestOp, aud: string): Promise<string> =>
      op.sign({ aud, iat: now, exp: now + 300, email: 'alice@example.com', groups: ['ml'] } satisfies JWTPayload);
    const kind = async (t: Promise<string>): Promise<string> => (await authn.authenticate(requestWith({ authorization: `Bearer ${await t}` }))).kind;

    assert.equal(await kind(token(a, 'aud-a')), 'ok');
    assert.equal(await kind(token(b, 'aud-b')), 'ok');
    assert.equal(await kind(token(main, 'kubeflow')), 'ok');
    // As oauth2-proxy, an extra issuer's token needs no groups claim.
    const noGroups = await a.sign({ aud: 'aud-a', iat: now, exp: now + 300, email: 'ci@example.com' });
    assert.equal(await kind(Promise.resolve(noGroups)), 'ok');
    // As oauth2-proxy, a token without `email` (a Kubernetes service-account token) is its subject.
    const serviceAccount = await a.sign({ aud: 'aud-a', iat: now, exp: now + 300, sub: 'system:serviceaccount:kubeflow-user:ci' });
    const sa = await authn.authenticate(requestWith({ authorization: `Bearer ${serviceAccount}` }));
    assert.equal(sa.kind === 'ok' ? sa.identity.user : sa.kind, 'system:serviceaccount:kubeflow-user:ci');
    // The main issuer keeps USERID_CLAIM (email): its token without one is refused.
    const mainNoEmail = await main.sign({ aud: 'kubeflow', iat: now, exp: now + 300, sub: 'someone', groups: ['ml'] });
    assert.equal(await kind(Promise.resolve(mainNoEmail)), 'invalid');
    // Not this authenticator's, and no other takes a bearer JWT (TokenReview is off): refused.
    assert.equal(await kind(token(a, 'aud-b')), 'none', "A's token for B's audience");
    assert.equal(await kind(token(b, 'aud-a')), 'none', "B's token for A's audience");
    assert.equal(await kind(token(a, 'kubeflow')), 'none', "A's token for the client id");
    assert.equal(await kind(token(main, 'aud-a')), 'none', "the main provider's token for A's audience");
  });
});
