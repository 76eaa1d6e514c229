/**
 * A real nginx (Debian's nginx-light) for end-to-end tests, running the shipped examples: an
 * http-level snippet from examples/nginx/ (auth-request.conf.template by default) with its
 * `{{LISTEN}}`/`{{JUDGE}}`/`{{UPSTREAM}}` placeholders filled, included from a main nginx.conf
 * that keeps everything nginx writes inside a fresh temp dir; a free port on 127.0.0.1.
 * `stop()` must be called (t.after / after hooks); the process is also killed if the test
 * process exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { projectRoot } from '../../src/paths.js';
import { freePort } from './net.js';

export const NGINX_BIN = '/usr/sbin/nginx';
export const NGINX_EXAMPLES = join(projectRoot, 'examples/nginx');
export const NGINX_TEMPLATE = join(NGINX_EXAMPLES, 'auth-request.conf.template');
/** The path the examples send `auth_request` subrequests to (VERIFY_AUTH_URL's default). */
export const EXAMPLE_VERIFY_PATH = '/authservice/verify';
const TEMP_DIRS = ['client_body_temp', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp'];

export interface NginxOptions {
  readonly judgePort: number;
  readonly upstreamPort: number;
  /** Replaces the examples' `/authservice/verify` in `proxy_pass` lines. Default: kept. */
  readonly verifyPath?: string;
  /** An http-level snippet with `{{NAME}}` placeholders. Default NGINX_TEMPLATE. */
  readonly templatePath?: string;
  /** How long to wait for nginx to accept connections. Default 10 000 ms. */
  readonly startTimeoutMs?: number;
}

export interface Nginx {
  readonly port: number;
  readonly dir: string;
  /** nginx's error log so far, for failure messages. */
  errorLog(): string;
  /** Stops nginx (SIGTERM, then SIGKILL), awaits its exit and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Fills `{{NAME}}` placeholders; throws on a placeholder without a value. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`nginx template: no value for {{${name}}}`);
    return v;
  });
}

/** The main nginx.conf: process settings and every path nginx writes to inside `dir`, then the snippet. */
export function mainConfig(dir: string, snippetPath: string): string {
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    'events { worker_connections 256; }',
    'http {',
    `    access_log ${dir}/access.log;`,
    ...TEMP_DIRS.map((d) => `    ${d}_path ${dir}/${d};`),
    `    include ${snippetPath};`,
    '}',
    '',
  ].join('\n');
}

/** One connection attempt: true when something accepts on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  if (!existsSync(NGINX_BIN)) {
    throw new Error(`${NGINX_BIN} is missing: install the Debian package nginx-light (node scripts/system-deps.mjs does it)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'oidc-judge-nginx-'));
  // nginx's workers run as nobody when the tests run as root: they must reach and write the temp dirs.
  await chmod(dir, 0o755);
  for (const d of TEMP_DIRS) {
    await mkdir(join(dir, d));
    await chmod(join(dir, d), 0o777);
  }
  const port = await freePort();
  let snippet = renderTemplate(await readFile(opts.templatePath ?? NGINX_TEMPLATE, 'utf8'), {
    LISTEN: `127.0.0.1:${port}`,
    JUDGE: `127.0.0.1:${opts.judgePort}`,
    UPSTREAM: `127.0.0.1:${opts.upstreamPort}`,
  });
  if (opts.verifyPath !== undefined) snippet = snippet.replaceAll(`${EXAMPLE_VERIFY_PATH}$request_uri`, `${opts.verifyPath}$request_uri`);
  const snippetPath = join(dir, 'site.conf');
  const confPath = join(dir, 'nginx.conf');
  const errorLogPath = join(dir, 'error.log');
  await writeFile(snippetPath, snippet);
  await writeFile(confPath, mainConfig(dir, snippetPath));

  const child = spawn(NGINX_BIN, ['-p', `${dir}/`, '-c', confPath, '-e', errorLogPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = exitOf(child);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const errorLog = (): string => {
    const file = existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : '';
    return [stderr.trim(), file.trim()].filter(Boolean).join('\n');
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })());

  // Poll until the port answers: bounded by a deadline, and cut short if nginx exits (bad config).
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  let wait = 5;
  for (;;) {
    if (await accepts(port)) break;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const why =
        child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : 'did not accept connections in time';
      const log = errorLog();
      await stop();
      throw new Error(`nginx ${why}:\n${log}`);
    }
    await delay(wait);
    wait = Math.min(wait * 2, 100);
  }
  return { port, dir, errorLog, stop };
}
