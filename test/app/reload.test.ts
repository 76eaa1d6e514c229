/**
 * Live reload of the configuration, the way Kubernetes updates a mounted ConfigMap or Secret: a new
 * hidden directory, then an atomic swap of the `..data` symlink the files point through. Under
 * load (concurrent checks through the HTTP door with a real provider's tokens) the new rules and
 * header settings take over with no failed check, and every check is judged under exactly one
 * version (each answer's user-id prefix and groups header come from the same file); the `*_FILE`
 * admin token follows; a broken file, and a change of a setting that needs a restart, are refused
 * and leave the running configuration in force; the metrics say so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../src/app/start.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/obs/log.js';
import { AUDIENCE, accessToken, metric, request, untilReady } from '../helpers/app.js';
import { Mount } from '../helpers/mount.js';
import { startOp, type TestOp } from '../helpers/op.js';

const version = (n: number, extra = ''): string => `
USERID_PREFIX: "v${n}:"
GROUPS_HEADER: x-groups-v${n}
authzRules:
  - { match: { path: { prefix: /app } }, allow: { groups: [devs] } }
${n >= 2 ? '  - { match: { path: { prefix: /v2only } }, allow: { authenticated: true } }\n' : ''}${extra}`;

describe('live reload', () => {
  let op: TestOp;
  let app: App;
  let mount: Mount;
  let pages: Mount;
  let token: string;
  const env = (): Record<string, string> => ({
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
    CHECK_TIMEOUT: '30000',
    ADMIN_TOKEN_FILE: mount.path('admin-token'),
    TEMPLATE_PATH: pages.dir,
  });

  before(async () => {
    op = await startOp();
    mount = new Mount({ 'config.yaml': version(1), 'admin-token': 'token-one-0123456789abcdef' }, ['config.yaml', 'admin-token']);
    pages = new Mount({ 'homepage.html': '<p>home one</p>' }, ['homepage.html']);
    const fixedEnv = env();
    const load = () => loadConfig({ env: fixedEnv, flags: {}, configFile: mount.path('config.yaml'), readFile: (p) => readFileSyncUtf8(p) }).config;
    app = await startApp(load(), {
      log: silentLogger,
      reload: { load, paths: (c) => [mount.path('config.yaml'), mount.path('admin-token'), ...c.templatePath] },
    });
    await untilReady(app.readiness);
    token = await accessToken(op, 'alice@example.com', ['devs']);
  });
  after(async () => {
    await app?.stop();
    await op?.stop();
  });

  const check = (path: string) => request(app.ports.http, path, { accept: 'application/json', authorization: `Bearer ${token}` });
  const admin = (bearer: string) =>
    request(
      app.ports.health,
      '/admin/sessions/revoke',
      { host: '127.0.0.1', authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      { method: 'POST', body: '{}' },
    );

  it('takes a symlink swap under load: no failed check, each judged under one version', async () => {
    assert.equal((await check('/app')).headers['kubeflow-userid'], 'v1:alice@example.com');
    assert.equal((await check('/v2only')).status, 403);
    const seen: { status: number; version: string }[] = [];
    let swapped = false;
    let afterSwap = 0;
    const worker = async (): Promise<void> => {
      // Until every worker has seen version 2 answer a few times: the final state, not a time.
      while (afterSwap < 200) {
        const r = await check('/app');
        const user = String(r.headers['kubeflow-userid'] ?? '');
        const v1 = r.headers['x-groups-v1'] !== undefined;
        const v2 = r.headers['x-groups-v2'] !== undefined;
        const v = user.startsWith('v1:') && v1 && !v2 ? 'v1' : user.startsWith('v2:') && v2 && !v1 ? 'v2' : `mixed(${user},${v1},${v2})`;
        seen.push({ status: r.status, version: v });
        if (v === 'v2') afterSwap++;
        if (!swapped && seen.length >= 50) {
          swapped = true;
          mount.swap({ 'config.yaml': version(2), 'admin-token': 'token-two-0123456789abcdef' });
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(
      seen.filter((s) => s.status !== 200),
      [],
      'every check answered 200',
    );
    assert.deepEqual([...new Set(seen.map((s) => s.version))].sort(), ['v1', 'v2']);
    assert.equal((await check('/v2only')).status, 200);
    assert.equal(app.current().version, 2);
    assert.equal(await metric(app.ports.health, 'oidc_judge_config_reloads_total', { result: 'applied' }), 1);
    assert.equal(await metric(app.ports.health, 'oidc_judge_config_info', { hash: app.current().hash, version: '2' }), 1);
  });

  it('reloads the *_FILE admin token with the rest', async () => {
    assert.equal((await admin('token-one-0123456789abcdef')).status, 401);
    assert.notEqual((await admin('token-two-0123456789abcdef')).status, 401);
  });

  it('reloads templates from a TEMPLATE_PATH directory swapped the same way', async () => {
    const home = async (): Promise<string> => (await request(app.ports.web, '/site/homepage', { host: '127.0.0.1' })).body;
    assert.match(await home(), /home one/);
    pages.swap({ 'homepage.html': '<p>home two</p>' });
    // The watcher reloads: wait for the page to say so (each request is a final state, no timer).
    let body = await home();
    while (!/home two/.test(body)) body = await home();
    assert.equal(app.current().version, 3);
  });

  it('refuses a broken file: the old rules stay in force, one refusal counted', async () => {
    const refusedBefore = await metric(app.ports.health, 'oidc_judge_config_reloads_total', { result: 'refused' });
    mount.swap({ 'config.yaml': `${version(3)}  - { match: 42 }\n`, 'admin-token': 'token-two-0123456789abcdef' });
    const result = await app.reload('signal');
    assert.equal(result.result, 'refused');
    assert.match((result as { reason: string }).reason, /authzRules/);
    assert.ok((await metric(app.ports.health, 'oidc_judge_config_reloads_total', { result: 'refused' })) > refusedBefore);
    assert.equal(app.current().version, 3);
    const r = await check('/app');
    assert.equal(r.status, 200);
    assert.equal(r.headers['kubeflow-userid'], 'v2:alice@example.com');
    assert.equal((await check('/v2only')).status, 200);
  });

  it('refuses a change that needs a restart, naming the setting', async () => {
    mount.swap({ 'config.yaml': version(2, 'HTTP_MAX_HEADER_BYTES: 32768\nSESSION_STORE_TYPE: redis\n'), 'admin-token': 'token-two-0123456789abcdef' });
    const result = await app.reload('signal');
    assert.equal(result.result, 'refused');
    assert.match((result as { reason: string }).reason, /needs a restart to change: HTTP_MAX_HEADER_BYTES, SESSION_STORE_TYPE/);
    assert.equal(app.current().version, 3);
    assert.equal((await check('/app')).headers['kubeflow-userid'], 'v2:alice@example.com');
  });

  it('SIGHUP with nothing changed is counted as unchanged', async () => {
    mount.swap({ 'config.yaml': version(2), 'admin-token': 'token-two-0123456789abcdef' });
    const result = await app.reload('signal');
    assert.deepEqual(result, { result: 'unchanged', version: 3 });
  });
});

function readFileSyncUtf8(p: string): string {
  return readFileSync(p, 'utf8');
}
