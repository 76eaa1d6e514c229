import { mkdtempSync, readFileSync } from 'node:fs';
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
const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const judge = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: 60_000 });
const settings = { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'judge', CLIENT_SECRET: 'super-secret-value' };

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

  it('--version, -v and `version` print the package version', () => {
    for (const args of [['--version'], ['-v'], ['version'], ['serve', '--version']]) {
      const r = judge(args);
      assert.equal(r.status, 0, args.join(' '));
      assert.equal(r.stdout, `oidc-judge ${version} (Node.js ${process.version})\n`);
    }
  });

  it('every command has its own --help with its own options (also `help COMMAND`)', () => {
    const own: Record<string, RegExp[]> = {
      serve: [/--config FILE/, /--<setting>=<value>/, /--workers N/],
      demo: [/--port N/],
      'check-config': [/--config FILE/, /--<setting>=<value>/],
      sessions: [/sessions revoke --sub ID/, /--sid ID/, /--iss URL/],
      forward: [/--health-listen/, /--drain-seconds/],
      'oidc-proxy': [/--target-url/, /--ingress-jwks-url/, /OIDC_PROXY_TARGET_URL/],
      'kube-oidc-proxy': [/--oidc-issuer-url/],
      'metadata-gateway': [/LISTEN_PORT/],
      'oauth2-proxy': [/--config FILE/, /--config-test/],
    };
    for (const [command, options] of Object.entries(own)) {
      for (const args of [
        [command, '--help'],
        [command, '-h'],
        ['help', command],
      ]) {
        const r = judge(args);
        assert.equal(r.status, 0, args.join(' '));
        assert.ok(r.stdout.startsWith(`Usage: oidc-judge ${command}`), `${args.join(' ')}: ${r.stdout}`);
        for (const o of options) assert.match(r.stdout, o, `${command}: ${String(o)}`);
        assert.match(r.stdout, /-h, --help/);
      }
    }
    assert.doesNotMatch(judge(['demo', '--help']).stdout, /--<setting>/, 'demo takes no settings');
    const general = judge(['--help']);
    assert.equal(general.status, 0);
    assert.match(general.stdout, /^Usage: oidc-judge \[COMMAND\]/);
    assert.match(general.stdout, /COMMAND --help/);
  });

  it("refuses an unknown flag with the command's usage (and the closest flag when there is one)", () => {
    const demo = judge(['demo', '--prot', '9000']);
    assert.equal(demo.status, 2);
    assert.match(demo.stderr, /oidc-judge demo: unknown flag --prot/);
    assert.match(demo.stderr, /Usage: oidc-judge demo \[--port N\]/);
    assert.equal(demo.stdout, '', 'nothing started');
    const check = judge(['check-config', '--oidc-provdier=https://idp.example.com'], settings);
    assert.equal(check.status, 2);
    assert.match(check.stderr, /--oidc-provdier: unknown flag; did you mean --oidc-provider\?/);
    assert.match(check.stderr, /Usage: oidc-judge check-config/);
    const proxy = judge(['oidc-proxy', '--target-ulr=http://127.0.0.1:1']);
    assert.equal(proxy.status, 2);
    assert.match(proxy.stderr, /--target-ulr: unknown option/);
    assert.match(proxy.stderr, /Usage: oidc-judge oidc-proxy/);
  });

  it('check-config warns about misspelt settings and shows no password inside a URL', () => {
    const r = judge(['check-config'], {
      ...settings,
      SESSION_COOKIE_SAMESITE: 'Strict',
      OIDC_JUDGE_SERVICE_HOST: '10.0.0.7',
      OIDC_JUDGE_PORT: 'tcp://10.0.0.7:8080',
      OIDC_JUDGE_PORT_8080_TCP_ADDR: '10.0.0.7',
      INTROSPECTION_URL: 'https://judge:intro-password@idp.example.com/introspect',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^warning: SESSION_COOKIE_SAMESITE is not a setting; did you mean SESSION_SAME_SITE\?$/m);
    assert.doesNotMatch(r.stderr, /OIDC_JUDGE_/, 'what Kubernetes injects is not ours');
    assert.equal(JSON.parse(r.stdout).introspectionUrl, 'https://judge:***@idp.example.com/introspect');
    assert.ok(!r.stdout.includes('intro-password') && !r.stderr.includes('intro-password'));
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
    const alive = await get(health, '/healthz');
    assert.equal(alive.status, 200);
    assert.equal(alive.body, `ok\nversion ${version}\nnode ${process.version}\n`);
    assert.equal((await get(health, '/readyz')).status, 503);
    const start = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"starting oidc-judge'))!) as Record<string, unknown>;
    assert.equal(start['msg'], `starting oidc-judge ${version}`);
    assert.equal(start['version'], version);
    assert.equal(start['config'], undefined, 'the start-up line is short: the configuration is a debug line');
    const metrics = await get(health, '/metrics');
    assert.ok(metrics.body.includes(`oidc_judge_build_info{version="${version}",node="${process.version}"} 1`));
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
        SESSION_COOKIE_SAMESITE: 'Lax', // misspelt: warned about once, not once per process
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
    // asserted after the exit, so that a failure leaves no workers behind
    assert.equal(out.split('\n').filter((l) => l.includes('SESSION_COOKIE_SAMESITE is not a setting')).length, 1, out);
  });
});
