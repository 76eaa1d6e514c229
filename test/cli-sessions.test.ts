/**
 * `oidc-judge sessions revoke`: argument parsing, then the real command (a child process of this
 * build's `src/cli.js`) against a SQLite file and a real Redis, with a running replica whose
 * session cache (SESSION_CACHE_TTL=300) only the revocation feed can clear.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../src/app/start.js';
import { parseArgs } from '../src/cli-args.js';
import { silentLogger } from '../src/obs/log.js';
import { sessionOf } from './oidc/backchannel/fixtures.js';
import { testConfig } from './helpers/app.js';
import { startOp, type TestOp } from './helpers/op.js';
import { startRedis, until, type RedisServer } from './helpers/redis.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

describe('sessions revoke: arguments', () => {
  it('takes --sub or --sid (and --iss) as its own, and every other flag as a setting', () => {
    const a = parseArgs(['sessions', 'revoke', '--sub', 'alice', '--session-store-path=/tmp/x.db', '--config', 'judge.yaml']);
    assert.deepEqual(a.errors, []);
    assert.equal(a.command, 'sessions');
    assert.deepEqual(a.revoke, { sub: 'alice' });
    assert.deepEqual(a.flags, { 'session-store-path': '/tmp/x.db' });
    assert.equal(a.configFile, 'judge.yaml');
    assert.deepEqual(parseArgs(['sessions', 'revoke', '--sid=op-1', '--iss', 'https://idp.example.com']).revoke, {
      sid: 'op-1',
      iss: 'https://idp.example.com',
    });
  });

  it('reports usage errors', () => {
    const errors = (...argv: string[]): string => parseArgs(argv).errors.join('; ');
    assert.match(errors('sessions'), /sessions: which\?/);
    assert.match(errors('sessions', 'list'), /unknown sessions command "list"/);
    assert.match(errors('sessions', 'revoke'), /exactly one of --sub and --sid/);
    assert.match(errors('sessions', 'revoke', '--sub', 'a', '--sid', 'b'), /exactly one of --sub and --sid/);
    assert.match(errors('sessions', 'revoke', '--sub'), /--sub needs a value/);
    assert.match(errors('sessions', 'revoke', '--sid='), /--sid needs a value/);
    assert.match(errors('sessions', 'revoke', '--sub', 'a', 'extra'), /unexpected argument "extra"/);
    assert.match(errors('serve', 'revoke'), /unexpected argument "revoke"/);
  });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const rnd = (): string => randomBytes(8).toString('hex');
let op: TestOp;
let redis: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'cli-sessions-'));
before(async () => {
  op = await startOp();
  redis = await startRedis();
});
after(async () => {
  await op?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function commandAgainst(name: string, storeEnv: () => Record<string, string>): void {
  describe(`sessions revoke against ${name}`, () => {
    let app: App;
    let env: Record<string, string>;
    before(async () => {
      env = { OIDC_PROVIDER: op.issuer, CLIENT_ID: 'judge-client', CLIENT_SECRET: 'judge-client-secret', LOG_LEVEL: 'ERROR', ...storeEnv() };
      app = await startApp(testConfig(op.issuer, { env: { SESSION_CACHE_TTL: '300', ...storeEnv() } }), { log: silentLogger });
      await app.sessions.listening();
    });
    after(async () => {
      await app?.stop();
    });

    it('ends every session of a sub, prints how many, exits 0 — and the running replica drops its cached copies', async () => {
      const sub = rnd();
      const ids = [
        await app.sessions.create(sessionOf(op.issuer, sub, rnd(), Date.now())),
        await app.sessions.create(sessionOf(op.issuer, sub, rnd(), Date.now())),
      ];
      const other = await app.sessions.create(sessionOf(op.issuer, rnd(), rnd(), Date.now()));
      for (const id of [...ids, other]) assert.ok(await app.sessions.load(id));
      const r = await run(['sessions', 'revoke', '--sub', sub], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '2 sessions ended\n');
      for (const id of ids) await until(async () => (await app.sessions.load(id)) === undefined, 'the replica to drop the revoked session', 20_000);
      assert.ok(await app.sessions.load(other));
    });

    it('ends one provider session by --sid (--iss selects the issuer)', async () => {
      const [sub, sid] = [rnd(), rnd()];
      const id = await app.sessions.create(sessionOf(op.issuer, sub, sid, Date.now()));
      const r0 = await run(['sessions', 'revoke', '--sid', sid, '--iss', 'https://other.example.com'], env);
      assert.equal(r0.stdout, '0 sessions ended\n');
      const r = await run(['sessions', 'revoke', '--sid', sid], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 session ended\n');
      assert.equal(await app.sessions.load(id, { fresh: true }), undefined);
    });
  });
}

commandAgainst('a SQLite file', () => ({ SESSION_STORE_PATH: join(dir, 'sessions.db') }));
commandAgainst('Redis', () => ({ SESSION_STORE_TYPE: 'redis', SESSION_STORE_REDIS_ADDR: `127.0.0.1:${redis.port}` }));

describe('sessions revoke: failures', () => {
  it('exits 2 with the usage on a usage error, before loading anything', async () => {
    const r = await run(['sessions', 'revoke'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly one of --sub and --sid/);
    assert.match(r.stderr, /Usage: oidc-judge/);
  });

  it('exits 2 on bad configuration, like serve', async () => {
    const r = await run(['sessions', 'revoke', '--sub', 'a'], { CLIENT_ID: 'x' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /OIDC_PROVIDER: required/);
  });

  it('exits 1 naming the problem when the store cannot be opened', async () => {
    const r = await run(['sessions', 'revoke', '--sub', 'a'], {
      OIDC_PROVIDER: op.issuer,
      CLIENT_ID: 'x',
      CLIENT_SECRET: 'y',
      SESSION_STORE_PATH: join(dir, 'missing', 'x.db'),
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SESSION_STORE_PATH: cannot open .* does not exist/);
  });
});
