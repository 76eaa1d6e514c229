import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../src/paths.js';
import { freePort } from './helpers/net.js';
import { send } from './helpers/http-send.js';

const cli = join(projectRoot, 'dist/src/cli.js');
const baseEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };

describe('oidc-judge command', () => {
  it('check-config prints the effective config with secrets redacted', () => {
    const r = spawnSync(process.execPath, [cli, 'check-config', '--server-port=9999'], {
      env: { ...baseEnv, OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'judge', CLIENT_SECRET: 'super-secret-value', SKIP_AUTH_URI: '/dex' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout);
    assert.equal(cfg.serverPort, 9999);
    assert.equal(cfg.clientSecret, '[redacted]');
    assert.deepEqual(cfg.skipAuthUrls, ['/dex']);
    assert.ok(!r.stdout.includes('super-secret-value') && !r.stderr.includes('super-secret-value'));
    assert.match(r.stderr, /SKIP_AUTH_URI is deprecated; use SKIP_AUTH_URLS/);
  });

  it('refuses to start on bad configuration, naming every variable, before listening', async () => {
    const port = await freePort();
    const r = spawnSync(process.execPath, [cli, 'serve'], {
      env: { ...baseEnv, SERVER_PORT: String(port), SESSION_MAX_AGE: 'soon', CLIENT_SECRET: 'x' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /OIDC_PROVIDER: required/);
    assert.match(r.stderr, /CLIENT_ID: required/);
    assert.match(r.stderr, /SESSION_MAX_AGE: must be an integer/);
    assert.ok(!r.stderr.includes('"x"'));
    assert.equal(r.stdout, '', 'nothing started');
  });

  it('rejects unknown commands and flags with usage', () => {
    const r = spawnSync(process.execPath, [cli, 'frobnicate'], { env: baseEnv, encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /Usage: oidc-judge/);
  });

  it('forwarder commands refuse a configuration with nothing to run or options they do not take (exit 2)', () => {
    const none = spawnSync(process.execPath, [cli, 'forward'], { env: baseEnv, encoding: 'utf8', timeout: 60_000 });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /nothing to run/);
    const gw = spawnSync(process.execPath, [cli, 'metadata-gateway', '--listen-port=1'], { env: baseEnv, encoding: 'utf8', timeout: 60_000 });
    assert.equal(gw.status, 2);
    assert.match(gw.stderr, /--listen-port: metadata-gateway is configured by kube-oidc-gateway's environment variables only/);
    const usage = spawnSync(process.execPath, [cli, 'help'], { env: baseEnv, encoding: 'utf8' });
    for (const c of ['forward', 'oidc-proxy', 'kube-oidc-proxy', 'metadata-gateway']) assert.match(usage.stdout, new RegExp(`\\n  ${c} `));
  });

  it('serves, reports ready state, and on SIGTERM drains and exits 0', async () => {
    const [http, grpc, health] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(process.execPath, [cli], {
      env: {
        ...baseEnv,
        OIDC_PROVIDER: `http://127.0.0.1:${await freePort()}`, // nobody there: not ready, but serving
        CLIENT_ID: 'judge',
        CLIENT_SECRET: 'secret',
        SERVER_HOSTNAME: '127.0.0.1',
        SERVER_PORT: String(http),
        GRPC_PORT: String(grpc),
        READINESS_PROBE_PORT: String(health),
        WEB_SERVER_PORT: String(await freePort()),
        SESSION_STORE_PATH: join(mkdtempSync(join(tmpdir(), 'judge-cli-')), 'sessions.db'),
        KUBERNETES_AUTHN_ENABLED: 'false',
        DRAIN_TIMEOUT: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    // wait for the "listening" log line (no sleeps)
    const exitedEarly = new Promise<never>((_, reject) => {
      const early = (code: number | null): void => reject(new Error(`oidc-judge exited early (${String(code)}): ${out}`));
      child.once('exit', early);
      child.stdout.on('data', () => out.includes('"msg":"listening"') && child.off('exit', early));
    });
    exitedEarly.catch(() => {}); // observed through the race below
    while (!out.includes('"msg":"listening"')) await Promise.race([once(child.stdout, 'data'), exitedEarly]);
    const get = (port: number, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, headers }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    assert.equal((await get(health, '/healthz')).status, 200);
    assert.equal((await get(health, '/readyz')).status, 503);
    assert.equal((await get(http, '/authservice/site/homepage')).status, 200, 'own prefix skipped even before discovery');
    assert.equal((await get(http, '/app', { authorization: 'Bearer not-a-jwt', accept: 'application/json' })).status, 401);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.match(out, /shutting down/);
    assert.ok(!out.includes('"secret"'), 'client secret never logged');
  });

  it('serve --workers 2: two processes answer on the same ports, and SIGTERM stops them all (exit 0)', async () => {
    const [http, health] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [cli, 'serve', '--workers', '2'], {
      env: {
        ...baseEnv,
        OIDC_PROVIDER: `http://127.0.0.1:${await freePort()}`,
        CLIENT_ID: 'judge',
        CLIENT_SECRET: 'secret',
        SERVER_HOSTNAME: '127.0.0.1',
        SERVER_PORT: String(http),
        GRPC_PORT: String(await freePort()),
        READINESS_PROBE_PORT: String(health),
        WEB_SERVER_PORT: String(await freePort()),
        SESSION_STORE_PATH: join(mkdtempSync(join(tmpdir(), 'judge-cli-')), 'sessions.db'),
        KUBERNETES_AUTHN_ENABLED: 'false',
        DRAIN_TIMEOUT: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const listening = (): number => out.split('\n').filter((l) => l.includes('"msg":"listening"')).length;
    const exited = once(child, 'exit');
    while (listening() < 2) await Promise.race([once(child.stdout, 'data'), exited.then(() => assert.fail(`exited early: ${out}`))]);
    const workers = new Set(
      out
        .split('\n')
        .filter((l) => l.includes('"msg":"listening"'))
        .map((l) => (JSON.parse(l) as { worker: number }).worker),
    );
    assert.equal(workers.size, 2, `two workers: ${[...workers].join(', ')}`);
    const r = await send(health, '/healthz');
    assert.equal(r.status, 200);
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  });
});
