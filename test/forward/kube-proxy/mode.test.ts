import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../../src/clock.js';
import { kubeMode } from '../../../src/forward/kube-proxy/mode.js';
import { silentLogger } from '../../../src/obs/log.js';
import { startKubeApi } from '../../helpers/kube-api.js';
import { MSG_IMPERSONATION_DISABLED, MSG_NO_USERNAME } from '../../../src/forward/kube-proxy/pipeline.js';
import { send } from '../../helpers/http-send.js';
import { rawNames, startKubeStack, CLIENT_ID, type KubeStack, type StackOptions } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';
import { assertClean, FOREIGN } from '../strip-kit.js';

let op: TestOp;
const stacks: KubeStack[] = [];
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
});
after(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await op.stop();
});

async function stack(o: StackOptions = {}): Promise<KubeStack> {
  const s = await startKubeStack({ op, ...o });
  stacks.push(s);
  return s;
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

describe('kube proxy: impersonation forwarding', () => {
  it("forwards with the proxy's own token plus Impersonate-User and one Impersonate-Group per group (and system:authenticated); the user's token is removed", async () => {
    const s = await stack();
    const token = await s.token();
    const r = await send(s.port, '/api/v1/namespaces/default/pods?limit=1', {
      headers: { ...bearer(token), 'X-Remote-User': 'system:admin', 'X-Remote-Group': 'system:masters', 'X-Remote-Extra-Scopes': 'all' },
    });
    assert.equal(r.status, 200);
    assert.match(r.body, /PodList/);
    const up = s.seen[0]!;
    assert.equal(up.path, '/api/v1/namespaces/default/pods?limit=1');
    assert.equal(up.bearer, s.api.token);
    assert.deepEqual(up.distinct['authorization'], [`Bearer ${s.api.token}`]);
    assert.deepEqual(up.distinct['impersonate-user'], ['alice@example.com']);
    assert.deepEqual(up.distinct['impersonate-group'], ['dev', 'ops', 'system:authenticated']);
    assert.deepEqual(rawNames(up.raw, 'impersonate-'), ['Impersonate-User', 'Impersonate-Group', 'Impersonate-Group', 'Impersonate-Group']);
    assert.equal(up.distinct['impersonate-uid'], undefined);
    // Request-header identities never ride along with the proxy's credentials.
    assert.deepEqual(rawNames(up.raw, 'x-remote-'), []);
    assert.ok(!JSON.stringify(up.raw).includes(token));
    // The Host is the API server's, not the client's.
    assert.deepEqual(up.distinct['host'], [`127.0.0.1:${s.api.port}`]);
  });

  it('never sends foreign identity, rewrite headers or the judge’s cookies to the API server, impersonating or not', async () => {
    for (const o of [{}, { options: { disableImpersonation: true } }]) {
      const s = await stack(o);
      const token = await s.token();
      s.api.acceptToken(token);
      const r = await send(s.port, '/api/v1/pods', { headers: { ...bearer(token), ...FOREIGN } });
      assert.equal(r.status, 200, `${JSON.stringify(o)}: ${r.body}`);
      assertClean(s.seen[0]!.distinct, JSON.stringify(o));
    }
  });

  it('re-reads the service-account token after it rotates on disk', async () => {
    const s = await stack();
    const token = await s.token();
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(token) })).status, 200);
    const first = s.api.token;
    const rotated = await s.api.issueToken({ namespace: 'oidc-judge', name: 'oidc-judge' });
    s.api.setToken(rotated);
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(token) })).status, 200);
    assert.equal(s.seen[0]!.bearer, first);
    assert.equal(s.seen[1]!.bearer, rotated);
    assert.notEqual(first, rotated);
  });

  it('sends Impersonate-Uid when a uid claim is configured', async () => {
    const s = await stack({ options: { oidcUidClaim: 'oid' } });
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(await s.token({ oid: 'a1b2' })) })).status, 200);
    assert.deepEqual(s.seen[0]!.distinct['impersonate-uid'], ['a1b2']);
  });

  it('answers 401 "Unauthorized" without a bearer token, for a bad token, the wrong audience or an expired token, and never calls the API', async () => {
    const s = await stack();
    const now = Math.floor(Date.now() / 1000);
    for (const headers of [
      {},
      { authorization: 'Basic YTpi' },
      bearer('garbage'),
      bearer(await s.token({ aud: 'other' })),
      bearer(await s.token({ exp: now - 60 })),
      { authorization: 'Bearer' },
    ]) {
      const r = await send(s.port, '/api/v1/pods', { headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.equal(r.body, 'Unauthorized');
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
    assert.equal(s.api.requests.length, 0);
  });

  it('accepts the bearer scheme in any case and tolerates extra whitespace and words', async () => {
    const s = await stack();
    const token = await s.token();
    assert.equal((await send(s.port, '/api/v1/pods', { headers: { authorization: `  BeAReR   ${token}  extra` } })).status, 200);
  });

  it('answers 403 for an empty username', async () => {
    const s = await stack();
    const r = await send(s.port, '/api/v1/pods', { headers: bearer(await s.token({ email: '' })) });
    assert.equal(r.status, 403);
    assert.equal(r.body, MSG_NO_USERNAME);
    assert.equal(s.seen.length, 0);
  });
});

describe('kube proxy: inbound Impersonate-* headers (default: refused)', () => {
  it('refuses every impersonate-* header (user, group, uid, extra, unknown) with 403 after authentication', async () => {
    const s = await stack();
    const token = await s.token();
    for (const h of [
      { 'Impersonate-User': 'bob' },
      { 'impersonate-group': 'admins' },
      { 'IMPERSONATE-UID': '1' },
      { 'Impersonate-Extra-Scopes': 'x' },
      { 'Impersonate-Not-Real': 'x' },
    ]) {
      const r = await send(s.port, '/api/v1/pods', { headers: { ...bearer(token), ...h } });
      assert.equal(r.status, 403, JSON.stringify(h));
      assert.equal(r.body, MSG_IMPERSONATION_DISABLED);
    }
    // Names that only look alike are fine.
    assert.equal((await send(s.port, '/api/v1/pods', { headers: { ...bearer(token), Impersonation: 'x', 'X-Impersonate-User': 'y' } })).status, 200);
    assert.equal(s.seen.length, 1);
  });

  it('answers 401, not 403, when the request is not authenticated', async () => {
    const s = await stack();
    const r = await send(s.port, '/api/v1/pods', { headers: { 'Impersonate-User': 'bob' } });
    assert.equal(r.status, 401);
  });
});

describe('kube proxy: disabled impersonation', () => {
  it("forwards the request unchanged, the user's own token included, and no service credentials", async () => {
    const s = await stack({ options: { disableImpersonation: true } });
    const token = await s.token();
    s.api.acceptToken(token);
    const r = await send(s.port, '/api/v1/pods', { headers: { ...bearer(token), 'Impersonate-User': 'bob' } });
    assert.equal(r.status, 200);
    const up = s.seen[0]!;
    assert.deepEqual(up.distinct['authorization'], [`Bearer ${token}`]);
    assert.deepEqual(up.distinct['impersonate-user'], ['bob']);
    assert.equal(up.distinct['impersonate-group'], undefined);
    assert.equal(up.clientCertCN, undefined);
  });

  it('refuses the extra-header options in this mode', async () => {
    await assert.rejects(
      stack({ options: { disableImpersonation: true, extraUserHeaders: 'a=b', extraUserHeaderClientIp: true } }),
      /extraUserHeaders: cannot be used with disableImpersonation; .*extraUserHeaderClientIp: cannot be used/,
    );
  });
});

describe('kube proxy: token passthrough', () => {
  it('forwards a token that failed OIDC but passes a TokenReview unchanged, without service credentials, and logs it', async () => {
    const s = await stack({ options: { tokenPassthrough: true } });
    const sa = await s.api.issueToken({ namespace: 'ci', name: 'deployer' });
    const r = await send(s.port, '/api/v1/pods', { headers: { ...bearer(sa), 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(r.status, 200);
    const review = s.api.requests.find((q) => q.path === '/apis/authentication.k8s.io/v1/tokenreviews')!;
    assert.deepEqual(review.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: sa } });
    assert.equal(review.bearer, s.api.token);
    const up = s.seen[0]!;
    assert.deepEqual(up.distinct['authorization'], [`Bearer ${sa}`]);
    assert.deepEqual(rawNames(up.raw, 'impersonate-'), []);
    const line = s.accessLines().find((l) => l.includes('AuSuccess'))!;
    assert.match(
      line,
      /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] AuSuccess src:\[127\.0\.0\.1 \/ 198\.51\.100\.7\] URI:\/api\/v1\/pods inbound:\[system:serviceaccount:ci:deployer \/ system:serviceaccounts\|system:serviceaccounts:ci\|system:authenticated \/ authentication\.kubernetes\.io\/credential-id=JTI=/,
    );
    assert.ok(!s.logs.join('\n').includes(sa));
  });

  it('asks for the configured audiences; a token for other audiences, a garbage token or an expired one gets 401', async () => {
    // The API server must accept the audience too: the token is forwarded to it as is.
    const s = await stack({
      options: { tokenPassthrough: true, tokenPassthroughAudiences: 'vault,other' },
      api: { apiAudiences: ['https://kubernetes.default.svc.cluster.local', 'vault'] },
    });
    const good = await s.api.issueToken({ namespace: 'ci', name: 'a', audiences: ['vault'] });
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(good) })).status, 200);
    assert.deepEqual((s.api.requests.find((q) => q.path.endsWith('/tokenreviews'))!.body as { spec: unknown }).spec, {
      token: good,
      audiences: ['vault', 'other'],
    });
    const wrongAud = await s.api.issueToken({ namespace: 'ci', name: 'b', audiences: ['elsewhere'] });
    const expired = await s.api.issueToken({ namespace: 'ci', name: 'c', audiences: ['vault'], expiresInSeconds: -60 });
    for (const t of [wrongAud, expired, 'garbage']) {
      const r = await send(s.port, '/api/v1/pods', { headers: bearer(t) });
      assert.equal(r.status, 401);
      assert.equal(r.body, 'Unauthorized');
    }
    assert.equal(s.seen.length, 1);
  });

  it('is off by default: a service-account token gets 401', async () => {
    const s = await stack();
    const sa = await s.api.issueToken({ namespace: 'ci', name: 'deployer' });
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer(sa) })).status, 401);
    assert.equal(s.api.requests.length, 0);
  });

  it('answers 401 when the TokenReview call fails, and never sends an empty duplicate Authorization', async () => {
    const s = await stack({ options: { tokenPassthrough: true } });
    s.api.tokenReview = () => ({ authenticated: true, error: 'webhook exploded' });
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer('opaque') })).status, 401);
    s.api.tokenReview = () => ({ authenticated: true, user: { username: 'robot', groups: ['bots'] } });
    s.api.acceptToken('opaque');
    assert.equal((await send(s.port, '/api/v1/pods', { headers: bearer('opaque') })).status, 200);
    assert.equal(rawNames(s.seen[0]!.raw, 'authorization').length, 1);
  });
});

describe('kube proxy: extra user headers', () => {
  it('sends no Impersonate-Extra-* by default', async () => {
    const s = await stack();
    await send(s.port, '/api/v1/pods', { headers: bearer(await s.token()) });
    assert.deepEqual(rawNames(s.seen[0]!.raw, 'impersonate-extra-'), []);
  });

  it('appends the configured key=value extras (keys may repeat) and the client address without port', async () => {
    const s = await stack({ options: { extraUserHeaders: 'key1=foo,key2=foo,key1=bar', extraUserHeaderClientIp: true } });
    await send(s.port, '/api/v1/pods', { headers: { ...bearer(await s.token()), 'x-forwarded-for': '203.0.113.9' } });
    const up = s.seen[0]!;
    assert.deepEqual(up.distinct['impersonate-extra-key1'], ['foo', 'bar']);
    assert.deepEqual(up.distinct['impersonate-extra-key2'], ['foo']);
    // X-Forwarded-For from an untrusted peer is not believed.
    assert.deepEqual(up.distinct['impersonate-extra-remote-client-ip'], ['127.0.0.1']);
    assert.deepEqual(rawNames(up.raw, 'impersonate-extra-').sort(), [
      'Impersonate-Extra-Key1',
      'Impersonate-Extra-Key1',
      'Impersonate-Extra-Key2',
      'Impersonate-Extra-Remote-Client-Ip',
    ]);
  });

  it('takes the client address from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const s = await stack({ options: { extraUserHeaderClientIp: true, trustedProxies: ['127.0.0.1/32', '10.0.0.0/8'] } });
    await send(s.port, '/api/v1/pods', { headers: { ...bearer(await s.token()), 'x-forwarded-for': '203.0.113.9, 10.1.2.3' } });
    assert.deepEqual(s.seen[0]!.distinct['impersonate-extra-remote-client-ip'], ['203.0.113.9']);
  });
});

describe('kube proxy: access log', () => {
  it('logs AuSuccess with inbound and outbound identities, and AuFail for 401 and 403; never the token', async () => {
    const s = await stack();
    const token = await s.token();
    await send(s.port, '/api/v1/pods?watch=1', { headers: { ...bearer(token), 'x-forwarded-for': '198.51.100.7, 127.0.0.1' } });
    await send(s.port, '/api/v1/secrets', { headers: bearer('nope') });
    await send(s.port, '/api/v1/pods', { headers: { ...bearer(token), 'impersonate-user': 'bob' } });
    const lines = s.accessLines();
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]!,
      /^\[[^\]]+\] AuSuccess src:\[127\.0\.0\.1 \/ 198\.51\.100\.7\] URI:\/api\/v1\/pods\?watch=1 inbound:\[alice@example\.com \/ dev\|ops \/ \] outbound:\[alice@example\.com \/ dev\|ops\|system:authenticated \/ {2}\/ \]$/,
    );
    assert.match(lines[1]!, /^\[[^\]]+\] AuFail src:\[127\.0\.0\.1 \/ \] URI:\/api\/v1\/secrets$/);
    assert.match(lines[2]!, /^\[[^\]]+\] AuFail src:\[127\.0\.0\.1 \/ \] URI:\/api\/v1\/pods$/);
    const records = s.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['accessLog'] === true);
    assert.deepEqual(
      records.map((r) => r['status'] ?? r['outcome']),
      ['impersonated', 401, 403],
    );
    assert.ok(!s.logs.join('\n').includes(token));
  });
});

describe('kube proxy: request bodies and readiness', () => {
  it('answers 413 for a body over the limit (declared or chunked); smaller bodies go through', async () => {
    const s = await stack({ options: { maxRequestBodyBytes: 16 } });
    const token = await s.token();
    const ok = await send(s.port, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(ok.status, 200);
    const big = await send(s.port, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: '{"a":"0123456789abcdef"}',
    });
    assert.equal(big.status, 413);
    const chunked = await send(s.port, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { ...bearer(token), 'transfer-encoding': 'chunked' },
      body: '{"a":"0123456789abcdef"}',
    });
    assert.equal(chunked.status, 413);
    assert.equal(s.seen.length, 1);
  });

  it('is ready once discovery and keys have loaded', async () => {
    const s = await stack();
    assert.equal(await s.mode.ready(), true);
  });

  it('is not ready while the issuer cannot be reached: its tokens get 503, others 401', async () => {
    const down = await startOp({ clientId: CLIENT_ID });
    await down.stop();
    const api = await startKubeApi();
    const errs: string[] = [];
    const raw = {
      oidcIssuerUrl: down.issuer,
      oidcClientId: CLIENT_ID,
      oidcAllowHttpIssuer: true,
      kubeServer: api.url,
      kubeCaFile: api.caFile,
      kubeTokenFile: join(api.serviceAccountDir, 'token'),
    };
    const mode = await kubeMode.create(kubeMode.parse(raw, 'kube', errs), { log: silentLogger, clock: systemClock, readFile: (p) => readFileSync(p, 'utf8') });
    const server = createServer((req, res) => mode.handle(req, res));
    try {
      assert.deepEqual(errs, []);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      assert.equal(await mode.ready(), false);
      const now = Math.floor(Date.now() / 1000);
      const r = await send(port, '/api/v1/pods', { headers: bearer(await down.sign({ sub: 'a', aud: CLIENT_ID, exp: now + 60 })) });
      assert.equal(r.status, 503);
      assert.equal((await send(port, '/api/v1/pods', { headers: bearer('garbage') })).status, 401);
      assert.equal(api.requests.length, 0);
    } finally {
      server.close();
      await mode.close();
      await api.close();
    }
  });
});
