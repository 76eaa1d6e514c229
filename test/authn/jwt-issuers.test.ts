import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JWTPayload } from 'jose';
import { AccessTokenAuthenticator } from '../../src/authn/access-token.js';
import { ManualClock } from '../../src/clock.js';
import { jwtIssuerEntry } from '../../src/config/jwt-issuers.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { HttpClient } from '../../src/net/http-client.js';
import { IssuerRegistry } from '../../src/oidc/issuers.js';
import { capturingLogger, requestWith, secs } from '../helpers/bearer.js';
import { base, problems } from '../helpers/config.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { ENTRA_OVERAGE_CLAIMS } from '../helpers/shapes-entra.js';

const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const V1 = `https://sts.windows.net/${TID}/`;
const V2 = `https://login.microsoftonline.com/${TID}/v2.0`;
const API = 'api://kubeflow';

describe('jwtIssuers: per-issuer bearer settings', () => {
  let op: TestOp; // main provider
  const load = (yaml: string, env: Record<string, string> = {}): Config =>
    loadConfig({ env: { ...base, OIDC_PROVIDER: op.issuer, ...env }, configFile: 'judge.yaml', readFile: () => yaml }).config;
  let entra: TestOp; // stands in for Entra ID's key set (its own keys, served at /jwks)
  let cluster: TestOp; // stands in for a cluster issuer's key set (never discovered)
  const http = new HttpClient({ timeoutMs: 3000 });
  const registries: IssuerRegistry[] = [];

  before(async () => {
    [op, entra, cluster] = await Promise.all([startOp(), startOp(), startOp()]);
  });
  after(async () => {
    for (const r of registries) r.stop();
    await Promise.all([op.stop(), entra.stop(), cluster.stop()]);
    http.close();
  });

  async function setup(config: Config) {
    const clock = new ManualClock(Date.now());
    const { log } = capturingLogger();
    const registry = new IssuerRegistry(config, { http, clock, log });
    registries.push(registry);
    assert.equal(await registry.discovery(op.issuer)!.attempt(), true);
    const authn = new AccessTokenAuthenticator(config, { clock, issuers: registry, log });
    const now = secs(clock.now());
    const claims = (extra: JWTPayload): JWTPayload => ({ iat: now, exp: now + 300, ...extra });
    const check = (token: string): Promise<AuthnOutcome> => Promise.resolve(authn.authenticate(requestWith({ authorization: `Bearer ${token}` })));
    return { registry, claims, check };
  }

  const entraYaml = (): string => `
jwtIssuers:
  - issuer: [${V2}, ${V1}]
    jwksUri: ${entra.issuer}/jwks
    audiences: [${API}]
    userIdClaim: preferred_username
    groupsClaim: roles
    requiredClaims: { tid: ${TID} }
  - issuer: https://oidc.eks.eu-west-1.amazonaws.com/id/ABC
    jwksUri: ${cluster.issuer}/jwks
    audiences: sts.amazonaws.com
    userIdClaim: sub
    groupsRequired: false
`;

  test('Entra ID v1 and v2 issuers of one tenant share one entry: its audience, claims and required tenant', async () => {
    const discoveries = entra.discoveryRequests;
    const { check, claims } = await setup(load(entraYaml()));
    const good = { aud: API, tid: TID, oid: 'o-1', preferred_username: 'alice@contoso.com', roles: ['Admin'] };
    for (const iss of [V1, V2]) {
      const o = await check(await entra.sign(claims({ ...good, iss })));
      assert.equal(o.kind, 'ok', `${iss}: ${JSON.stringify(o)}`);
      if (o.kind === 'ok') {
        assert.equal(o.identity.user, 'alice@contoso.com');
        assert.deepEqual(o.identity.groups, ['Admin']);
      }
    }
    const other = await check(await entra.sign(claims({ ...good, iss: V2, tid: 'another-tenant' })));
    assert.equal(other.kind, 'invalid');
    if (other.kind === 'invalid') assert.match(other.reason, /required claim "tid"/);
    // The global AUDIENCES do not apply to this entry: a token for them is not its.
    const globalAud = await check(await entra.sign(claims({ ...good, iss: V2, aud: 'istio-ingressgateway.istio-system.svc.cluster.local' })));
    assert.equal(globalAud.kind, 'none');
    // Signed with the main provider's keys while claiming the Entra issuer: refused.
    assert.equal((await check(await op.sign(claims({ ...good, iss: V2 })))).kind, 'invalid');
    assert.equal(entra.discoveryRequests, discoveries, 'a static jwksUri is never discovered');
  });

  test('a cluster issuer: static jwksUri, its own audience, sub as the user, no groups needed', async () => {
    const { check, claims, registry } = await setup(load(entraYaml()));
    assert.equal(registry.status('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC').state, 'ready', 'ready without discovery');
    const sa = { iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC', aud: 'sts.amazonaws.com', sub: 'system:serviceaccount:ml:trainer' };
    const o = await check(await cluster.sign(claims(sa)));
    assert.equal(o.kind, 'ok', JSON.stringify(o));
    if (o.kind === 'ok') {
      assert.equal(o.identity.user, 'system:serviceaccount:ml:trainer');
      assert.deepEqual(o.identity.groups, []);
    }
    assert.equal((await check(await entra.sign(claims(sa)))).kind, 'invalid', 'another key set does not verify');
  });

  test('the main provider keeps the global settings (groups required, AUDIENCES)', async () => {
    const { check, claims } = await setup(load(entraYaml()));
    const aud = 'istio-ingressgateway.istio-system.svc.cluster.local';
    assert.equal((await check(await op.sign(claims({ aud, email: 'a@example.com', groups: ['g'] })))).kind, 'ok');
    const noGroups = await check(await op.sign(claims({ aud, email: 'a@example.com' })));
    assert.equal(noGroups.kind, 'invalid');
  });

  test('JWT_ISSUERS stays the short form: discovery, global audiences and claims', async () => {
    const config = load('', { JWT_ISSUERS: `${entra.issuer}, ` });
    assert.deepEqual(config.jwtIssuers, [entra.issuer]);
    const { check, claims, registry } = await setup(config);
    assert.equal(await registry.discovery(entra.issuer)!.attempt(), true);
    const aud = 'istio-ingressgateway.istio-system.svc.cluster.local';
    assert.equal((await check(await entra.sign(claims({ aud, email: 'b@example.com', groups: ['g'] })))).kind, 'ok');
  });

  test('an entry without jwksUri is discovered at its first issuer', async () => {
    const config = load(`jwtIssuers:\n  - issuer: ${entra.issuer}\n    audiences: [${API}]\n    groupsRequired: false\n`);
    const { check, claims, registry } = await setup(config);
    assert.equal(registry.status(entra.issuer).state, 'pending');
    assert.equal(await registry.discovery(entra.issuer)!.attempt(), true);
    assert.equal((await check(await entra.sign(claims({ aud: API, email: 'c@example.com' })))).kind, 'ok');
  });

  test('a bearer token with Entra’s group overage and no groups is refused (Graph cannot be asked with a token for us)', async () => {
    const config = load(`jwtIssuers:\n  - issuer: ${V2}\n    jwksUri: ${entra.issuer}/jwks\n    audiences: [${API}]\n    groupsRequired: false\n`);
    const { check, claims } = await setup(config);
    const base = { iss: V2, aud: API, email: 'adele@contoso.com' };
    const o = await check(await entra.sign(claims({ ...base, ...ENTRA_OVERAGE_CLAIMS })));
    assert.equal(o.kind, 'invalid');
    if (o.kind === 'invalid') assert.match(o.reason, /^group overage/);
    assert.equal((await check(await entra.sign(claims({ ...base, hasgroups: true })))).kind, 'invalid');
    const none = await check(await entra.sign(claims(base)));
    assert.equal(none.kind, 'ok', 'no overage, no groups claim, groups not required: no groups');
  });

  test('entries built from code (the oauth2-proxy command) equal the file form and JSON in JWT_ISSUERS', () => {
    const config = load(`jwtIssuers:\n  - issuer: https://idp.example.com\n    audiences: [aud-1]\n`);
    assert.deepEqual(config.jwtIssuers, [jwtIssuerEntry({ issuers: ['https://idp.example.com'], audiences: ['aud-1'] })]);
    const fromEnv = load('', { JWT_ISSUERS: JSON.stringify([{ issuer: 'https://idp.example.com', audiences: ['aud-1'] }]) });
    assert.deepEqual(fromEnv.jwtIssuers, config.jwtIssuers, 'JSON in JWT_ISSUERS (what the Helm chart writes for entries)');
  });

  test('bad entries are ConfigErrors naming jwtIssuers[i].field', () => {
    const found = problems(() =>
      load(`
jwtIssuers:
  - https://ok.example.com
  - issuer: not a url
    audiences: []
    jwksUri: ftp://x
    groupsRequired: maybe
    requiredClaims: { tid: { nested: 1 } }
    colour: blue
  - audiences: [a]
  - 42
  - issuer: [https://ok.example.com]
`),
    ).join('\n');
    for (const want of [
      'jwtIssuers[1].issuer: must be an http(s) URL',
      'jwtIssuers[1].audiences: must be a non-empty',
      'jwtIssuers[1].jwksUri: must be an http(s) URL',
      'jwtIssuers[1].groupsRequired: must be true or false',
      'jwtIssuers[1].requiredClaims.tid: must be a string',
      'jwtIssuers[1].colour: unknown option',
      'jwtIssuers[2].issuer: is required',
      'jwtIssuers[3]: must be an issuer URL',
      'jwtIssuers[4].issuer: https://ok.example.com is listed twice (one entry per issuer)',
    ]) {
      assert.ok(found.includes(want), `missing "${want}" in:\n${found}`);
    }
    assert.match(problems(() => load('', { JWT_ISSUERS: 'not-a-url' })).join('\n'), /JWT_ISSUERS: jwtIssuers\[0\]: must be an http\(s\) URL/);
  });
});
