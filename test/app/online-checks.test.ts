/**
 * `oidc-judge check-config --online`, the real command (a child process of this build's cli.js)
 * against real parts: an OpenID Provider, Redis with a password, SQLite, the Kubernetes API double
 * (SelfSubjectAccessReview), an introspection endpoint and an external authorizer that is down.
 * One line per check, exit 1 when one fails, no secret printed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseArgs } from '../../src/cli-args.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

interface Run {
  readonly code: number;
  readonly lines: readonly string[];
  readonly out: string;
}

function online(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, 'check-config', '--online'],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
          lines: stdout.trimEnd().split('\n'),
          out: stdout + stderr,
        }),
    );
  });
}

/** The line of check `name`. */
const line = (r: Run, name: string): string => r.lines.find((l) => l.slice(6).startsWith(`${name}:`)) ?? assert.fail(`no "${name}" line in:\n${r.out}`);

let op: TestOp;
let redis: RedisServer;
let api: KubeApi;
let down: Server;
let downUrl: string;
let allowTokenReviews = true;
const dir = mkdtempSync(join(tmpdir(), 'online-checks-'));

before(async () => {
  op = await startOp();
  redis = await startRedis({ requirePass: 'redis-s3cret' });
  api = await startKubeApi();
  api.fallback = (_req, res, rec) => {
    const body = rec.body as { spec?: { resourceAttributes?: { resource?: string; verb?: string } } } | undefined;
    const asks = body?.spec?.resourceAttributes;
    const allowed = allowTokenReviews && asks?.resource === 'tokenreviews' && asks.verb === 'create';
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        status: { allowed, ...(allowed ? {} : { reason: 'no RBAC rule' }) },
      }),
    );
  };
  writeFileSync(
    join(dir, 'kubeconfig'),
    `apiVersion: v1
kind: Config
current-context: test
contexts: [{ name: test, context: { cluster: double, user: judge } }]
clusters: [{ name: double, cluster: { server: "${api.url}", certificate-authority: ${api.caFile} } }]
users: [{ name: judge, user: { tokenFile: ${join(api.serviceAccountDir, 'token')} } }]
`,
  );
  down = createServer((_req, res) => {
    res.writeHead(503);
    res.end();
  });
  await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
  downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/authorize`;
  writeFileSync(join(dir, 'not-a-ca.pem'), 'hello\n');
});
after(async () => {
  await op?.stop();
  await redis?.stop();
  await api?.close();
  down?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = (): Record<string, string> => ({
  OIDC_PROVIDER: op.issuer,
  CLIENT_ID: op.clientId,
  CLIENT_SECRET: op.clientSecret,
  SESSION_STORE_PATH: join(dir, 'sessions.db'),
});

describe('check-config --online', () => {
  it('takes --online as its own flag, and no value with it', () => {
    const a = parseArgs(['check-config', '--online', '--oidc-provider=https://idp.example.com']);
    assert.deepEqual(a.errors, []);
    assert.equal(a.online, true);
    assert.deepEqual(a.flags, { 'oidc-provider': 'https://idp.example.com' });
    assert.match(parseArgs(['check-config', '--online=yes']).errors.join(), /--online takes no value/);
    assert.equal(parseArgs(['serve', '--online']).online, undefined, 'a setting flag elsewhere');
  });

  it('everything reachable: one ok line per check (skip where nothing is configured), exit 0', async () => {
    const r = await online({
      ...base(),
      CA_BUNDLE: api.caFile,
      KUBECONFIG: join(dir, 'kubeconfig'),
      SESSION_STORE_TYPE: 'redis',
      SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}`,
      SESSION_STORE_REDIS_PWD: 'redis-s3cret',
      INTROSPECTION_URL: `${op.issuer}/token/introspection`,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(line(r, 'CA bundle'), /^ok {4}CA bundle: .*: 1 certificate$/);
    assert.match(line(r, 'provider discovery'), /^ok .*issuer matches$/);
    assert.match(line(r, 'provider keys'), /^ok .*: \d+ keys? \(/);
    assert.match(line(r, 'session store'), new RegExp(`^ok {4}session store: redis 127.0.0.1:${redis.port}: answers and takes writes$`));
    assert.match(line(r, 'Kubernetes API'), /^ok .*may create tokenreviews$/);
    assert.match(line(r, 'introspection'), /^ok .*answers \(4\d\d to an empty request\)$/);
    assert.match(line(r, 'external authorizer'), /^skip {2}external authorizer: EXTERNAL_AUTHZ_URL is not set$/);
    assert.equal(r.lines.length, 7);
    assert.ok(!r.out.includes('redis-s3cret') && !r.out.includes(op.clientSecret), 'no secret printed');
  });

  it('every failure is its own FAIL line naming what is wrong, the rest still checked; exit 1; URL passwords never printed', async () => {
    allowTokenReviews = false;
    try {
      const r = await online({
        ...base(),
        CA_BUNDLE: join(dir, 'not-a-ca.pem'),
        KUBECONFIG: join(dir, 'kubeconfig'),
        // A path under a file: no SQLite database can be made there, even by root.
        SESSION_STORE_PATH: join(dir, 'not-a-ca.pem', 'sessions.db'),
        EXTERNAL_AUTHZ_URL: downUrl.replace('http://', 'http://user:hunter2@'),
        INTROSPECTION_URL: 'http://127.0.0.1:1/introspect',
      });
      assert.equal(r.code, 1, r.out);
      assert.match(line(r, 'CA bundle'), /^FAIL {2}CA bundle: .*not-a-ca\.pem holds no PEM certificate$/);
      assert.match(line(r, 'provider discovery'), /^ok /, 'checked without the bundle: the provider is plain http here');
      assert.match(line(r, 'session store'), /^FAIL {2}session store: sqlite .*sessions\.db: /);
      assert.match(line(r, 'Kubernetes API'), /^FAIL .*may not create tokenreviews \(no RBAC rule\); grant system:auth-delegator$/);
      assert.match(line(r, 'introspection'), /^FAIL .*ECONNREFUSED/);
      assert.match(line(r, 'external authorizer'), /^FAIL .*\/authorize answered 503$/);
      assert.ok(!r.out.includes('hunter2'), 'the URL password is not printed');
    } finally {
      allowTokenReviews = true;
    }
  });

  it('a provider whose discovery names another issuer, or a Redis password that is wrong, fails its line', async () => {
    const r = await online({
      ...base(),
      OIDC_PROVIDER: `${op.issuer}/`,
      SESSION_STORE_TYPE: 'redis',
      SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}`,
      SESSION_STORE_REDIS_PWD: 'wrong',
    });
    assert.equal(r.code, 1, r.out);
    assert.match(line(r, 'provider discovery'), /^FAIL .*does not equal the configured/);
    assert.match(line(r, 'provider keys'), /^skip {2}provider keys: no discovery document$/);
    assert.match(line(r, 'session store'), /^FAIL {2}session store: redis /);
    assert.match(line(r, 'Kubernetes API'), /^skip .*no KUBECONFIG and not in a cluster/);
  });
});
