/**
 * Live reload of `CA_BUNDLE`, the way a rotated private CA reaches a pod: the bundle file in a
 * mounted Secret is swapped (kubelet's `..data` symlink), and the outgoing HTTPS clients built from
 * the new snapshot trust the new CA — here the external authorizer's, whose certificate the old
 * bundle did not vouch for: refused before the swap, allowed after, with no restart.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app/start.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/obs/log.js';
import { AUDIENCE, accessToken, metric, request, untilReady } from '../helpers/app.js';
import { Mount } from '../helpers/mount.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/redis.js';

describe('live reload of CA_BUNDLE', () => {
  let op: TestOp;
  let app: App;
  let mount: Mount;
  let ours: TlsFiles;
  let other: TlsFiles;
  const authz = createServer();
  let authzCalls = 0;

  before(async () => {
    op = await startOp();
    [ours, other] = await Promise.all([makeTlsFiles(), makeTlsFiles()]);
    authz.setSecureContext({ key: readFileSync(ours.key), cert: readFileSync(ours.cert) });
    authz.on('request', (req, res) => {
      authzCalls++;
      req.resume().on('end', () => res.writeHead(200).end());
    });
    authz.listen(0, '127.0.0.1');
    await once(authz, 'listening');
    const authzPort = (authz.address() as AddressInfo).port;
    // The bundle first holds a CA that did not sign the authorizer's certificate.
    mount = new Mount({ 'ca.crt': readFileSync(other.ca, 'utf8') }, ['ca.crt']);
    const env = {
      OIDC_PROVIDER: op.issuer,
      CLIENT_ID: 'judge-client',
      CLIENT_SECRET: 'judge-client-secret',
      AUDIENCES: AUDIENCE,
      SERVER_HOSTNAME: '127.0.0.1',
      SERVER_PORT: '0',
      GRPC_PORT: '0',
      READINESS_PROBE_PORT: '0',
      WEB_SERVER_PORT: '0',
      SESSION_STORE_PATH: join(mkdtempSync(join(tmpdir(), 'judge-test-')), 'sessions.db'),
      KUBERNETES_AUTHN_ENABLED: 'false',
      DRAIN_TIMEOUT: '1',
      CA_BUNDLE: mount.path('ca.crt'),
      EXTERNAL_AUTHZ_URL: `https://localhost:${authzPort}/authorize`,
    };
    const load = () => loadConfig({ env, flags: {}, readFile: (p) => readFileSync(p, 'utf8') }).config;
    app = await startApp(load(), { log: silentLogger, reload: { load, paths: (c) => [c.caBundle] } });
    await untilReady(app.readiness);
  });
  after(async () => {
    await app?.stop();
    authz.close();
    authz.closeAllConnections();
    await op?.stop();
    ours?.cleanup();
    other?.cleanup();
  });

  it('a swapped bundle is trusted by the next checks, without a restart', async () => {
    const token = await accessToken(op, 'alice@example.com', ['devs']);
    const check = () => request(app.ports.http, '/app', { accept: 'application/json', authorization: `Bearer ${token}` });
    assert.equal((await check()).status, 403, 'the authorizer is not trusted yet');
    assert.equal(authzCalls, 0);

    mount.swap({ 'ca.crt': readFileSync(ours.ca, 'utf8') });
    // The watcher reloads: each check is a final state (no timer) until one is allowed.
    let r = await check();
    while (r.status !== 200) r = await check();
    assert.equal(authzCalls, 1);
    assert.equal(app.current().version, 2);
    assert.equal(await metric(app.ports.health, 'oidc_judge_config_reloads_total', { result: 'applied' }), 1);
  });
});
