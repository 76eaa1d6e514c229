/**
 * The back-channel logout route on a real `node:http` server, in front of a listener that answers
 * everything else with 404: which requests it takes, the body it reads, and the statuses it writes
 * on the web server (200) and on the judge's check port (204; body-less checks fall through).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { BackchannelLogout, BackchannelReply } from '../../../src/oidc/backchannel/backchannel.js';
import { backchannelRoute, withRoute, type BackchannelRouteOptions } from '../../../src/oidc/backchannel/http.js';
import { send } from '../../helpers/http-send.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const OK: BackchannelReply = { status: 200, headers: [['cache-control', 'no-store']], body: '' };

interface Served {
  readonly port: number;
  readonly calls: { body: string; type: string | undefined }[];
  reply: BackchannelReply | Error;
  close(): Promise<void>;
}

async function serve(opts: Omit<BackchannelRouteOptions, 'paths'>): Promise<Served> {
  const served = {
    calls: [] as { body: string; type: string | undefined }[],
    reply: OK as BackchannelReply | Error,
  };
  const handler: BackchannelLogout = async (body, type) => {
    served.calls.push({ body, type });
    if (served.reply instanceof Error) throw served.reply;
    return served.reply;
  };
  const route = backchannelRoute(handler, { paths: ['/authservice/oidc/backchannel-logout', '/oidc/backchannel-logout/'], maxBodyBytes: 1024, ...opts });
  const server: Server = createServer(withRoute(route, (_req, res) => void res.writeHead(404, { 'content-type': 'text/plain' }).end('next')));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(served, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

describe('back-channel logout route on the web server', () => {
  let s: Served;
  before(async () => {
    s = await serve({});
  });
  after(() => s.close());

  it('reads the form body of a POST to its paths (prefixed or not, trailing slash, query ignored) and writes the reply', async () => {
    for (const path of ['/authservice/oidc/backchannel-logout', '/oidc/backchannel-logout', '/authservice/oidc/backchannel-logout/?x=1']) {
      s.reply = OK;
      const res = await send(s.port, path, { method: 'POST', headers: FORM, body: 'logout_token=abc' });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.body, '');
      assert.deepEqual(s.calls.at(-1), { body: 'logout_token=abc', type: 'application/x-www-form-urlencoded' });
    }
  });

  it('writes a refusal as it is', async () => {
    s.reply = {
      status: 400,
      headers: [
        ['content-type', 'application/json'],
        ['cache-control', 'no-store'],
      ],
      body: '{"error":"invalid_request"}',
    };
    const res = await send(s.port, '/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: 'logout_token=bad' });
    assert.equal(res.status, 400);
    assert.equal(res.body, '{"error":"invalid_request"}');
    assert.equal(res.headers['content-type'], 'application/json');
  });

  it('leaves other methods, other paths and encoded look-alikes to the next listener', async () => {
    const before = s.calls.length;
    assert.equal((await send(s.port, '/authservice/oidc/backchannel-logout')).body, 'next');
    assert.equal((await send(s.port, '/authservice/oidc/backchannel-logoutx', { method: 'POST', headers: FORM, body: 'a=b' })).body, 'next');
    assert.equal((await send(s.port, '/authservice/oidc%2fbackchannel-logout', { method: 'POST', headers: FORM, body: 'a=b' })).body, 'next');
    assert.equal(s.calls.length, before);
  });

  it('refuses a body over the limit with 400 and closes the connection', async () => {
    const res = await send(s.port, '/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: 'logout_token=' + 'a'.repeat(4096) });
    assert.equal(res.status, 400);
    assert.equal(res.headers['connection'], 'close');
    assert.match(res.body, /invalid_request/);
  });

  it('answers 503 if the handler fails', async () => {
    s.reply = new Error('boom');
    const res = await send(s.port, '/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: 'logout_token=x' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['cache-control'], 'no-store');
  });
});

describe('back-channel logout route on the judge’s check port', () => {
  let s: Served;
  before(async () => {
    s = await serve({ successStatus: 204, bodyRequired: true });
  });
  after(() => s.close());

  it('answers success with 204 (a 200 would mean "allow" to an Envoy http_service check)', async () => {
    s.reply = OK;
    const res = await send(s.port, '/authservice/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: 'logout_token=abc' });
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('keeps refusals as they are', async () => {
    s.reply = { status: 400, headers: [['content-type', 'application/json']], body: '{"error":"invalid_request"}' };
    const res = await send(s.port, '/authservice/oidc/backchannel-logout', { method: 'POST', headers: FORM, body: 'logout_token=abc' });
    assert.equal(res.status, 400);
  });

  it('lets a POST without a body (an ext_authz check) through to be judged', async () => {
    const before = s.calls.length;
    const res = await send(s.port, '/authservice/oidc/backchannel-logout', { method: 'POST', headers: { ...FORM, 'content-length': '0' } });
    assert.equal(res.body, 'next');
    assert.equal(s.calls.length, before);
  });

  it('reads a chunked body', async () => {
    s.reply = OK;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.port, path: '/authservice/oidc/backchannel-logout', method: 'POST', headers: FORM, agent: false });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('logout_token=');
      req.end('chunked');
    });
    assert.equal(status, 204);
    assert.equal(s.calls.at(-1)?.body, 'logout_token=chunked');
  });
});
