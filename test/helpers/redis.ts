/**
 * Real redis-server processes for tests: a standalone server (optionally TLS, password, ACL
 * user), a 3-master cluster and a sentinel. Each runs on a free port of 127.0.0.1 with a temp dir,
 * no persistence, and is ready when its log says so (no fixed sleeps). Call `stop()` in `after()`;
 * anything still running is killed when the test process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './net.js';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface TlsFiles {
  readonly dir: string;
  /** PEM paths. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  cleanup(): void;
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  /** Everything the server logged so far. */
  log(): string;
  /** SIGKILL; the temp dir stays so `restart()` can start it again on the same port. */
  kill(): Promise<void>;
  /** Starts it again (after `kill()`) with the same options on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing until resumed. */
  pause(): void;
  resume(): void;
  /** Kills it and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  readonly tls?: Pick<TlsFiles, 'ca' | 'cert' | 'key'>;
  readonly requirePass?: string;
  readonly aclUser?: { readonly name: string; readonly pass: string };
  readonly args?: readonly string[];
  /** Run as a sentinel with this config file content (`port`, `dir` are added). */
  readonly sentinelConf?: string;
  /** Log line that means ready (default: "Ready to accept connections"). */
  readonly readyLine?: RegExp;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-tls-'));
  const f = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=oidc-judge test CA']);
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  ]);
  return { dir, ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts one redis-server (or sentinel) and waits until it accepts connections. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-redis-'));
  const args: string[] = [];
  if (opts.sentinelConf !== undefined) {
    writeFileSync(join(dir, 'sentinel.conf'), `${opts.sentinelConf}\nport ${port}\nbind 127.0.0.1\ndir ${dir}\n`);
    args.push(join(dir, 'sentinel.conf'), '--sentinel');
  } else {
    args.push('--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir);
    if (opts.tls)
      args.push(
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        opts.tls.cert,
        '--tls-key-file',
        opts.tls.key,
        '--tls-ca-cert-file',
        opts.tls.ca,
        '--tls-auth-clients',
        'no',
      );
    else args.push('--port', String(port));
    if (opts.requirePass !== undefined) args.push('--requirepass', opts.requirePass);
    if (opts.aclUser) args.push('--user', opts.aclUser.name, 'on', `>${opts.aclUser.pass}`, '~*', '&*', '+@all');
  }
  args.push('--logfile', '', ...(opts.args ?? []));
  const readyLine = opts.readyLine ?? /Ready to accept connections/;
  let proc: ChildProcess | undefined;
  let output = '';
  let stopped = false;

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let seen = '';
      const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      live.add(p);
      // A forgotten server must not keep the test process alive (it is killed on exit).
      p.unref();
      (p.stdout as unknown as { unref(): void }).unref();
      (p.stderr as unknown as { unref(): void }).unref();
      const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} not ready within 10 s:\n${seen}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        output += chunk.toString();
        if (readyLine.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.once('exit', (code) => {
        live.delete(p);
        clearTimeout(timer);
        reject(new Error(`redis-server on port ${port} exited with ${code}:\n${seen}`));
      });
    });

  const kill = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.ref(); // keep the process alive until the exit is seen
    p.kill('SIGKILL');
    await exited;
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    dir,
    log: () => output,
    kill,
    restart: launch,
    pause: () => void proc?.kill('SIGSTOP'),
    resume: () => void proc?.kill('SIGCONT'),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs redis-cli against 127.0.0.1:port; resolves with its output (trimmed). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

/** Polls `cond` until it holds (bounded): for states only visible by asking, like a cluster becoming ok. */
export async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

/** Starts `n` masters, joins them into a cluster with redis-cli, and waits for `cluster_state:ok` everywhere. */
export async function startRedisCluster(n = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < n; i++) {
      // The bus port defaults to port + 10000, which may not be free (or valid): choose one.
      const bus = await freePort();
      nodes.push(
        await startRedis({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--cluster-port', String(bus)],
        }),
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const s of nodes) await until(async () => (await redisCli(s.port, 'cluster', 'info')).includes('cluster_state:ok'), `cluster state ok on ${s.port}`);
  } catch (err) {
    await Promise.all(nodes.map((s) => s.stop()));
    throw err;
  }
  return { nodes, stop: async () => void (await Promise.all(nodes.map((s) => s.stop()))) };
}

export interface SentinelOptions {
  readonly masterName?: string;
  /** The master's password (`sentinel auth-pass`). */
  readonly masterPass?: string;
  /** The sentinel's own password (`requirepass`). */
  readonly sentinelPass?: string;
}

/** Starts a sentinel watching the master on `masterPort` (quorum 1). */
export async function startRedisSentinel(masterPort: number, opts: SentinelOptions = {}): Promise<RedisServer> {
  const name = opts.masterName ?? 'mymaster';
  const conf = [
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
    `sentinel down-after-milliseconds ${name} 5000`,
    ...(opts.masterPass ? [`sentinel auth-pass ${name} ${opts.masterPass}`] : []),
    ...(opts.sentinelPass ? [`requirepass ${opts.sentinelPass}`] : []),
  ].join('\n');
  return startRedis({ sentinelConf: conf, readyLine: new RegExp(`\\+monitor master ${name} `) });
}
