/**
 * A real nginx `auth_request` in front of an echo upstream, asking the HTTP judge on its verify
 * path. The judge here is a small fake (the decision pipeline is tested on its own); what this
 * proves is the wire: the nginx config in examples/nginx/auth-request.conf.template, the verify
 * convention, 204/401/403, and identity headers that clients cannot forge.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deny, type Decision } from '../../src/judge/decision.js';
import { createHttpJudge, type HttpJudge } from '../../src/judge/http/server.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { silentLogger } from '../../src/obs/log.js';
import { send } from '../helpers/http-send.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';

interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** alice is allowed, mallory forbidden, /public skipped, everyone else unauthenticated. */
function fakeJudge(req: JudgeRequest): Decision {
  const path = req.path.split('?')[0];
  if (path === '/public' || path?.startsWith('/public/')) {
    return { kind: 'allow', upstreamHeaders: [], removeHeaders: ['kubeflow-userid', 'kubeflow-groups'], responseHeaders: [], reason: 'skip' };
  }
  const auth = req.headers['authorization'];
  if (auth === 'Bearer alice') {
    return {
      kind: 'allow',
      upstreamHeaders: [
        ['kubeflow-userid', 'alice@example.com'],
        ['kubeflow-groups', 'admins,users'],
        ['auth-method', 'header'],
      ],
      removeHeaders: [],
      responseHeaders: req.path.includes('refresh') ? [['set-cookie', 'authservice_session=new; Path=/; HttpOnly; Secure']] : [],
      reason: 'authenticated',
    };
  }
  if (auth === 'Bearer mallory') return deny(403, 'forbidden', 'Forbidden');
  return deny(401, 'no-credentials', 'Unauthorized', [['www-authenticate', 'Bearer realm="oidc-judge"']]);
}

describe('nginx auth_request → HTTP judge (verify path)', () => {
  const judged: JudgeRequest[] = [];
  const echoed: Echo[] = [];
  let judge: HttpJudge | undefined;
  let upstream: Server | undefined;
  let nginx: Nginx | undefined;

  before(async () => {
    judge = createHttpJudge({
      judge: async (req) => {
        judged.push(req);
        return fakeJudge(req);
      },
      options: {
        verifyPath: '/authservice/verify',
        forwardAuthPath: '/authservice/forward-auth',
        checkPathPrefix: '',
        trustedProxies: ['127.0.0.1/8', '::1/128'],
      },
      log: silentLogger,
    });
    const judgePort = await judge.listen('127.0.0.1', 0);
    upstream = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        echoed.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream');
      });
    });
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
    nginx = await startNginx({ judgePort, upstreamPort: (upstream.address() as AddressInfo).port });
  });

  after(async () => {
    await nginx?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
    await judge?.close(100);
  });

  /** A request through nginx; returns nginx's answer, what the judge saw and what the upstream got. */
  async function through(path: string, headers: Record<string, string>, opts: { method?: string; body?: string } = {}) {
    const j = judged.length;
    const e = echoed.length;
    const res = await send(nginx!.port, path, { headers: { host: 'app.example', ...headers }, ...opts });
    return { res, judged: judged.slice(j), echoed: echoed.slice(e) };
  }

  it('lets alice through with kubeflow-userid set by the judge, overwriting the one she sent', async () => {
    const {
      res,
      judged: j,
      echoed: e,
    } = await through('/app/notebooks?ns=alice', { authorization: 'Bearer alice', 'kubeflow-userid': 'admin@example.com', 'kubeflow-groups': 'root' });
    assert.equal(res.status, 200, nginx!.errorLog());
    assert.equal(res.body, 'upstream');
    assert.equal(j.length, 1);
    assert.deepEqual(
      [j[0]!.method, j[0]!.scheme, j[0]!.host, j[0]!.path, j[0]!.via, j[0]!.denyStyle],
      ['GET', 'http', 'app.example', '/app/notebooks?ns=alice', 'verify', 'status-only'],
    );
    assert.equal(e.length, 1);
    assert.equal(e[0]!.url, '/app/notebooks?ns=alice');
    assert.equal(e[0]!.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(e[0]!.headers['kubeflow-groups'], 'admins,users');
    assert.equal(e[0]!.headers['auth-method'], 'header');
  });

  it('judges the original method and never sends the body to the judge', async () => {
    const {
      res,
      judged: j,
      echoed: e,
    } = await through('/app/upload', { authorization: 'Bearer alice', 'content-type': 'text/plain' }, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    assert.equal(j[0]!.method, 'POST');
    assert.equal(j[0]!.headers['content-length'], undefined);
    assert.equal(e[0]!.body, 'payload');
  });

  it('passes a cookie the judge refreshed to the client', async () => {
    const { res } = await through('/app/refresh', { authorization: 'Bearer alice' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers['set-cookie'], ['authservice_session=new; Path=/; HttpOnly; Secure']);
  });

  it('answers 401 with WWW-Authenticate without reaching the upstream', async () => {
    const { res, echoed: e } = await through('/app', {});
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="oidc-judge"');
    assert.equal(e.length, 0);
  });

  it('answers 403 to a forbidden user without reaching the upstream', async () => {
    const { res, echoed: e } = await through('/app', { authorization: 'Bearer mallory' });
    assert.equal(res.status, 403);
    assert.equal(e.length, 0);
  });

  it('lets a skipped path through without identity headers, even forged ones', async () => {
    const { res, echoed: e } = await through('/public/logo.png', { 'kubeflow-userid': 'admin@example.com', 'kubeflow-groups': 'root' });
    assert.equal(res.status, 200);
    assert.equal(e[0]!.headers['kubeflow-userid'], undefined);
    assert.equal(e[0]!.headers['kubeflow-groups'], undefined);
  });

  it('does not let a client choose the judged host, method or URI through headers nginx forwards', async () => {
    const spoof = {
      'x-forwarded-host': 'admin.example',
      'x-forwarded-proto': 'https',
      'x-original-method': 'OPTIONS',
      'x-original-uri': '/public',
      'x-original-url': 'https://admin.example/public',
    };
    const { res, judged: j } = await through('/app', { authorization: 'Bearer alice', ...spoof });
    assert.equal(res.status, 200);
    assert.deepEqual([j[0]!.host, j[0]!.scheme, j[0]!.method, j[0]!.path], ['app.example', 'http', 'GET', '/app']);
    assert.equal(j[0]!.headers['x-original-uri'], undefined);
  });

  it('defect #1 regression: a request for the verify path itself is judged as itself, not skipped', async () => {
    const { res, judged: j, echoed: e } = await through('/authservice/verify/public', {});
    assert.equal(res.status, 401);
    assert.equal(j[0]!.path, '/authservice/verify/public');
    assert.equal(e.length, 0);
  });
});
