/**
 * Access rules with `when:` (CEL) and `sources:` (CIDR) in the assembled service, through the gRPC
 * and the HTTP door, with bearer tokens of a real OpenID Provider: the condition reads the method,
 * path, headers, source address, groups and claims; a claim of another type or a huge header is a
 * 403, never a 500 or 503; a hostile condition stops the start naming the rule and the column.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.js';
import { accessToken, request, startJudge, testConfig, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';

const RULES = `
authzRules:
  - match: { path: /admin }
    allow: { authenticated: true }
    when: '"admins" in identity.groups && request.method == "GET"'
  - match: { path: /tenants }
    allow: { authenticated: true }
    when: >-
      request.headers["x-tenant"] == identity.claims.tenant
      && identity.claims.level >= 2
  - match: { path: /internal }
    allow: { groups: [devs] }
    sources: [10.0.0.0/8, "fd00::/8"]
  - match: { path: /office }
    allow: { authenticated: true }
    when: 'inCidr(request.source, "192.0.2.0/24") && request.path.startsWith("/office/")'
`;

describe('when and sources in access rules', () => {
  let op: TestOp;
  let judge: Judged;
  let admin: string;
  let dev: string;
  let wrongTypes: string;

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { yaml: RULES, env: { TRUSTED_PROXIES: '127.0.0.1/32' } });
    admin = await accessToken(op, 'alice@example.com', ['admins'], { tenant: 'acme', level: 3 });
    dev = await accessToken(op, 'bob@example.com', ['devs'], { tenant: 'acme', level: 1 });
    wrongTypes = await accessToken(op, 'eve@example.com', ['devs'], { tenant: ['acme'], level: 'high' });
  });
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  const grpcStatus = async (path: string, token: string, headers: Record<string, string> = {}, method = 'GET'): Promise<number> => {
    const r = await judge.grpc.check(path, { authorization: `Bearer ${token}`, ...headers }, { method });
    return r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? -1);
  };
  const httpStatus = async (path: string, token: string, headers: Record<string, string> = {}, method = 'GET'): Promise<number> =>
    (await request(judge.app.ports.http, path, { accept: 'application/json', authorization: `Bearer ${token}`, ...headers }, { method })).status;

  for (const [door, status] of [
    ['gRPC', (...a: Parameters<typeof grpcStatus>) => grpcStatus(...a)],
    ['HTTP', (...a: Parameters<typeof httpStatus>) => httpStatus(...a)],
  ] as const) {
    it(`${door}: a condition over groups and method decides the rule`, async () => {
      assert.equal(await status('/admin', admin), 200);
      assert.equal(await status('/admin', admin, {}, 'POST'), 403);
      assert.equal(await status('/admin', dev), 403);
    });

    it(`${door}: a condition over a header and claims; claims of another type are a 403`, async () => {
      assert.equal(await status('/tenants', admin, { 'x-tenant': 'acme' }), 200);
      assert.equal(await status('/tenants', admin, { 'x-tenant': 'other' }), 403);
      assert.equal(await status('/tenants', admin), 403);
      assert.equal(await status('/tenants', dev, { 'x-tenant': 'acme' }), 403);
      assert.equal(await status('/tenants', wrongTypes, { 'x-tenant': 'acme' }), 403);
      assert.equal(await status('/tenants', admin, { 'x-tenant': 'a'.repeat(60_000) }), 403);
    });
  }

  it('sources: the gRPC door reads the source address Envoy reports (10.1.2.3)', async () => {
    assert.equal(await grpcStatus('/internal', dev), 200);
    assert.equal(await grpcStatus('/internal', admin), 403);
  });

  it('sources and request.source: the HTTP door reads X-Forwarded-For from a trusted proxy, right to left', async () => {
    assert.equal(await httpStatus('/internal', dev), 403, 'the proxy itself (127.0.0.1) is not in 10.0.0.0/8');
    assert.equal(await httpStatus('/internal', dev, { 'x-forwarded-for': '10.9.9.9' }), 200);
    // A client cannot choose: what its proxy appended (the right-most untrusted hop) counts.
    assert.equal(await httpStatus('/internal', dev, { 'x-forwarded-for': '10.9.9.9, 203.0.113.7' }), 403);
    assert.equal(await httpStatus('/office/a', dev, { 'x-forwarded-for': '192.0.2.10' }), 200);
    assert.equal(await httpStatus('/office/a', dev, { 'x-forwarded-for': '198.51.100.1' }), 403);
    assert.equal(await grpcStatus('/office/a', dev), 403);
  });

  it('refuses a hostile or wrong condition at start-up, naming the rule and the column', () => {
    const refused = (when: string): string => {
      const yaml = `authzRules:\n  - match: { path: /a }\n    allow: { authenticated: true }\n  - match: { path: /b }\n    allow: { authenticated: true }\n    when: ${JSON.stringify(when)}\n`;
      try {
        testConfig(op.issuer, { yaml });
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.message;
      }
      assert.fail('accepted');
    };
    assert.match(refused('request.method == "GET" && identity.claim.x == 1'), /authzRules: \[1\]\.when: column 37: No such key: claim/);
    assert.match(refused('request.path + 1 == 2'), /authzRules: \[1\]\.when: column \d+: no such overload/);
    assert.match(refused(`${'('.repeat(100)}true${')'.repeat(100)}`), /authzRules: \[1\]\.when: /);
    assert.match(refused(`request.path == "${'x'.repeat(10_000)}"`), /authzRules: \[1\]\.when: longer than 4096 characters/);
    assert.match(refused('identity.groups.exists(a, identity.groups.exists(b, a == b))'), /authzRules: \[1\]\.when: column \d+: a comprehension/);
    assert.match(refused('request.path.matches("(a+)+$")'), /authzRules: \[1\]\.when: column \d+: matches\(\) is not offered/);
    assert.throws(
      () => testConfig(op.issuer, { yaml: 'authzRules:\n  - { match: {}, allow: { authenticated: true }, sources: [10.0.0.0/33] }\n' }),
      /authzRules: \[0\]\.sources: "10\.0\.0\.0\/33" is not an IP address or CIDR range/,
    );
  });
});
