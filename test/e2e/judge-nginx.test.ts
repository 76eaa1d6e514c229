/**
 * The whole chain with nothing faked: a client → a real nginx (`auth_request`, the config of
 * examples/nginx/auth-request.conf.template) → the assembled service's verify path → a real OpenID
 * Provider's keys; allowed requests reach an echo upstream with the identity the judge set.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { accessToken, request, startJudge, type Judged } from '../helpers/app.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { sessionRecord } from '../helpers/seed.js';

describe('real nginx auth_request in front of the assembled service', () => {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  let upstream: Server | undefined;
  let nginx: Nginx | undefined;

  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, { env: { SKIP_AUTH_URLS: '/public', GROUPS_ALLOWLIST: 'admins,devs' } });
    const echo = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream');
    });
    upstream = echo;
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    nginx = await startNginx({ judgePort: judge.app.ports.http, upstreamPort: (echo.address() as AddressInfo).port });
  });
  after(async () => {
    await nginx?.stop();
    if (upstream) {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream!.close(resolve));
    }
    await judge?.stop();
    await op?.stop();
  });

  /** A request through nginx, and what the upstream received for it (nothing when denied). */
  async function through(path: string, headers: Record<string, string>) {
    const before = seen.length;
    const res = await request(nginx!.port, path, { host: 'app.example.com', ...headers });
    return { res, upstream: seen.slice(before) };
  }

  it('a JWT reaches the upstream with the identity from the judge, the forged one overwritten; no token → 401; forbidden → 403', async () => {
    const forged = { 'kubeflow-userid': 'admin@example.com', 'kubeflow-groups': 'admins', 'auth-method': 'cookie' };
    const alice = await accessToken(op!, 'alice@example.com', ['devs', 'ops']);
    const ok = await through('/notebooks/alice?tab=1', { authorization: `Bearer ${alice}`, ...forged });
    assert.equal(ok.res.status, 200, nginx!.errorLog());
    assert.equal(ok.res.body, 'upstream');
    assert.equal(ok.upstream.length, 1);
    const got = ok.upstream[0]!;
    assert.equal(got.url, '/notebooks/alice?tab=1');
    assert.equal(got.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(got.headers['kubeflow-groups'], 'devs,ops');
    assert.equal(got.headers['auth-method'], 'header');

    const anonymous = await through('/notebooks/alice', { accept: 'application/json', ...forged });
    assert.equal(anonymous.res.status, 401);
    assert.equal(anonymous.res.headers['www-authenticate'], 'Bearer realm="oidc-judge"');
    assert.equal(anonymous.upstream.length, 0);

    const mallory = await accessToken(op!, 'mallory@example.com', ['guests']);
    const forbidden = await through('/notebooks/alice', { authorization: `Bearer ${mallory}` });
    assert.equal(forbidden.res.status, 403);
    assert.equal(forbidden.upstream.length, 0);
  });

  it('a skipped path reaches the upstream without any identity, whatever the client sent; a dot-segment look-alike does not', async () => {
    const skipped = await through('/public/app.js', { 'kubeflow-userid': 'admin@example.com', 'kubeflow-groups': 'admins' });
    assert.equal(skipped.res.status, 200, nginx!.errorLog());
    assert.equal(skipped.upstream.length, 1);
    assert.equal(skipped.upstream[0]!.headers['kubeflow-userid'], undefined);
    assert.equal(skipped.upstream[0]!.headers['kubeflow-groups'], undefined);

    const sneaky = await through('/public/../admin', { accept: 'application/json' });
    assert.equal(sneaky.res.status, 401);
    assert.equal(sneaky.upstream.length, 0);
  });

  it('the upstream never sees the judge’s cookies, a session id in Authorization, or a header of the strip list; other cookies pass', async () => {
    const sid = await judge!.app.sessions.create(sessionRecord('alice@example.com', { groups: ['devs'] }));
    const foreign: Record<string, string> = {
      'x-forwarded-user': 'root',
      'x-auth-request-user': 'root',
      'x-auth-request-groups': 'admins',
      'remote-user': 'root',
      'x-remote-user': 'root',
      'x-vouch-user': 'root',
      'x-authenticated-user': 'root',
      'x-original-uri': '/admin',
      'x-rewrite-url': '/admin',
      'x-forwarded-host': 'evil.example',
      x_forwarded_user: 'root',
    };
    const cases: [string, Record<string, string>, string | undefined][] = [
      ['/notebooks/alice', { cookie: `theme=dark; authservice_session=${sid}; oidc_state_csrf_k1=z; lang=en` }, 'theme=dark; lang=en'],
      ['/notebooks/alice', { cookie: `authservice_session=${sid}` }, undefined],
      ['/notebooks/alice', { authorization: `Bearer ${sid}`, cookie: 'theme=dark' }, 'theme=dark'],
      ['/public/app.js', { cookie: `authservice_session=${sid}; theme=dark` }, 'theme=dark'],
    ];
    for (const [path, credential, cookie] of cases) {
      const r = await through(path, { accept: 'application/json', ...foreign, ...credential });
      assert.equal(r.res.status, 200, `${path} ${JSON.stringify(credential)}: ${nginx!.errorLog()}`);
      const h = r.upstream[0]!.headers;
      assert.equal(h['cookie'], cookie, JSON.stringify(credential));
      assert.equal(h['authorization'], undefined);
      for (const n of Object.keys(foreign)) if (n !== 'x-forwarded-host') assert.equal(h[n], undefined, n);
      assert.equal(h['x-forwarded-host'], 'app.example.com', 'nginx states the forwarding facts itself');
      assert.ok(!JSON.stringify(h).includes(sid), 'the session id reaches the upstream nowhere');
    }
  });
});
