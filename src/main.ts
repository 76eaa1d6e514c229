/**
 * Composition root: the only place that reads `process.env` and `argv`. It turns them into a frozen
 * config, builds everything (src/app/), listens, and handles signals.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './cli-args.js';
import { commandHelp, commandSpec, USAGE } from './cli-commands.js';
import { loginCommand, logoutCommand, programArgs, tokenCommand } from './client/commands.js';
import { credentialsDir } from './client/credentials.js';
import { ConfigError, loadConfig, redacted, unknownSettingWarnings, type Loaded } from './config/load.js';
import { codeOf } from './errors.js';
import { buildInfoFrom, type BuildInfo } from './obs/build-info.js';
import { projectRoot } from './paths.js';
import { createLogger, stdoutDestination } from './obs/log.js';
import { traceSettingsFrom, TraceSettingsError, type TraceSettings } from './obs/trace/settings.js';
import { startApp } from './app/start.js';
import { formatCheck, onlineChecks } from './app/online-checks.js';
import type { ReloadSource } from './app/reload/live.js';
import { startTracing, stopTracing } from './app/tracing.js';
import type { Tracing } from './obs/trace/port.js';
import { revokeCommand } from './cli-sessions.js';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { runWorkers } from './workers.js';
import { isForwardCommand, runForwarderCommand, type ForwardCommand } from './forward/runtime/commands.js';
import { oauth2ProxyCommand } from './compat/oauth2-proxy/command.js';

/** An unknown flag is answered with the command's usage. */
const withUsage = (command: string, message: string): string =>
  /unknown (flag|option)/.test(message) ? `${message}\n\n${commandHelp(command)}\n` : `${message}\n`;

function load(command: string, configFile: string | undefined, flags: Readonly<Record<string, string>>): Loaded | undefined {
  try {
    return loadConfig({ env: process.env, flags, ...(configFile !== undefined ? { configFile } : {}), readFile: (p) => readFileSync(p, 'utf8') });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(withUsage(command, `oidc-judge: ${e.message}`));
    return undefined;
  }
}

/** Whether stdout is a terminal, and whether it wants colours (https://no-color.org). */
const terminal = (): { isTTY: boolean; noColor: boolean } => ({ isTTY: process.stdout.isTTY === true, noColor: (process.env['NO_COLOR'] ?? '') !== '' });

/** package.json's version and this Node.js, read once. */
const readBuild = (): BuildInfo => buildInfoFrom(readFileSync(join(projectRoot, 'package.json'), 'utf8'), process.version);

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const spec = commandSpec(args.command);
  if (args.errors.length > 0) {
    process.stderr.write(`oidc-judge: ${args.errors.join('; ')}\n\n${spec ? commandHelp(spec.name) : USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(commandHelp(args.command) + '\n');
    return 0;
  }
  if (args.command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const build = readBuild();
  if (args.command === 'version') {
    process.stdout.write(`oidc-judge ${build.version} (Node.js ${build.node})\n`);
    return 0;
  }
  // A command with a closed list of options refuses any other flag, with its usage.
  const own = new Set(spec?.options.map(([flag]) => flag.split(/[ =]/)[0]!.replace(/^--/, '')));
  const foreign = spec?.flags === 'own' ? Object.keys(args.flags).filter((f) => !own.has(f)) : [];
  if (foreign.length > 0 || (spec?.flags === 'own' && args.configFile !== undefined)) {
    const names = [...foreign, ...(args.configFile !== undefined ? ['config'] : [])].map((f) => `--${f}`);
    process.stderr.write(`oidc-judge ${args.command}: unknown flag${names.length > 1 ? 's' : ''} ${names.join(', ')}\n\n${commandHelp(args.command)}\n`);
    return 2;
  }
  if (args.command === 'demo') return demo(args.flags);
  if (args.command === 'login' || args.command === 'token' || args.command === 'logout') return program(args.command, args.flags);
  if (args.command === 'oauth2-proxy') return oauth2Proxy(argv.slice(1), build);
  if (isForwardCommand(args.command)) return forward(args.command, args.flags, args.configFile, build);
  const loaded = load(args.command, args.configFile, args.flags);
  if (!loaded) return 2;
  if (args.command === 'check-config') {
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    if (args.online === true) {
      const lines = await onlineChecks(loaded.config, { readFile: (p) => readFileSync(p, 'utf8'), now: Date.now });
      process.stdout.write(lines.map((l) => formatCheck(l) + '\n').join(''));
      return lines.some((l) => l.outcome === 'fail') ? 1 : 0;
    }
    process.stdout.write(JSON.stringify(redacted(loaded.config), null, 2) + '\n');
    return 0;
  }
  if (args.command === 'sessions' && args.revoke) {
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    return revokeCommand(loaded.config, args.revoke, {
      out: (t) => void process.stdout.write(t),
      err: (t) => void process.stderr.write(t),
      readFile: (p) => readFileSync(p, 'utf8'),
    });
  }
  return serve(loaded, build, reloadSource(args.configFile, args.flags));
}

/**
 * How a running `serve` reads its configuration again (live reload, SIGHUP): the same sources as at
 * start, and the files to watch — the config file, every `*_FILE` secret, the CA bundle and the
 * template directories.
 */
function reloadSource(configFile: string | undefined, flags: Readonly<Record<string, string>>): ReloadSource {
  const secretFiles = Object.entries(process.env)
    .filter(([k, v]) => k.endsWith('_FILE') && v !== undefined && v !== '')
    .map(([, v]) => v!);
  return {
    load: () => loadConfig({ env: process.env, flags, ...(configFile !== undefined ? { configFile } : {}), readFile: (p) => readFileSync(p, 'utf8') }).config,
    paths: ({ caBundle, templatePath }) => [
      ...(configFile !== undefined ? [configFile] : []),
      ...secretFiles,
      ...(caBundle !== '' ? [caBundle] : []),
      ...templatePath,
    ],
  };
}

/** `oidc-judge login | token | logout --url URL` (client/commands.ts): the credential files under the user's config directory. */
async function program(command: 'login' | 'token' | 'logout', flags: Readonly<Record<string, string>>): Promise<number> {
  const a = programArgs(flags);
  if (typeof a === 'string') {
    process.stderr.write(`oidc-judge ${command}: ${a}\n\n${commandHelp(command)}\n`);
    return 2;
  }
  const io = {
    out: (t: string) => void process.stdout.write(t),
    err: (t: string) => void process.stderr.write(t),
    dir: credentialsDir({ XDG_CONFIG_HOME: process.env['XDG_CONFIG_HOME'], HOME: process.env['HOME'] }),
    now: () => Date.now(),
  };
  if (command === 'login') return loginCommand(a, io);
  if (command === 'token') return tokenCommand(a, io);
  return logoutCommand(a, io);
}

/**
 * `oidc-judge oauth2-proxy [--config oauth2_proxy.cfg] [--flag=value …]`: oauth2-proxy's options
 * mapped onto our settings (compat/oauth2-proxy/), then served like `serve`.
 */
async function oauth2Proxy(argv: readonly string[], build: BuildInfo): Promise<number> {
  const readFile = (p: string): string => readFileSync(p, 'utf8');
  const mapped = oauth2ProxyCommand(argv, process.env, readFile);
  if (mapped.errors.length > 0) {
    process.stderr.write(`oidc-judge oauth2-proxy: ${mapped.errors.length} problem(s):\n${mapped.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 2;
  }
  let loaded: Loaded;
  try {
    loaded = loadConfig({ env: mapped.env, flags: {}, readFile });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`oidc-judge oauth2-proxy: ${e.message}\n`);
    return 2;
  }
  const warnings = [...mapped.warnings, ...loaded.warnings];
  if (mapped.configTest) {
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(JSON.stringify(redacted(loaded.config), null, 2) + '\n');
    return 0;
  }
  return serve({ config: loaded.config, warnings }, build);
}

/** Runs the judge on a loaded config until SIGTERM / SIGINT; SIGHUP (and a change of a watched file) reloads it. */
async function serve(loaded: Loaded, build: BuildInfo, reload?: ReloadSource): Promise<number> {
  let traces: TraceSettings | undefined;
  try {
    traces = traceSettingsFrom(process.env);
  } catch (e) {
    if (!(e instanceof TraceSettingsError)) throw e;
    process.stderr.write(`oidc-judge: ${e.message}\n`);
    return 2;
  }
  const log = createLogger(loaded.config.logLevel, stdoutDestination(loaded.config.logFormat, terminal()));
  // Once per start: a `--workers` worker runs this too, after the primary has warned.
  if (!cluster.isWorker) for (const w of loaded.warnings) log.warn(w);
  // The start-up line stays short; the effective configuration (redacted) is a debug line.
  log.info({ version: build.version, node: build.node }, `starting oidc-judge ${build.version}`);
  log.debug({ config: redacted(loaded.config) }, 'effective configuration');
  const workers = loaded.config.workers === 0 ? availableParallelism() : loaded.config.workers;
  if (workers > 1) {
    // A worker still draining past DRAIN_TIMEOUT (+10 s of grace) is killed by the primary.
    return runWorkers(
      workers,
      (workerLog) => startApp(loaded.config, { log: workerLog, build, ...(traces ? { traces } : {}), ...(reload ? { reload } : {}) }),
      log,
      {
        killAfterMs: loaded.config.drainTimeout * 1000 + 10_000,
      },
    );
  }
  let app: Awaited<ReturnType<typeof startApp>>;
  try {
    app = await startApp(loaded.config, { log, build, ...(traces ? { traces } : {}), ...(reload ? { reload } : {}) });
  } catch (e) {
    log.fatal({ err: { code: codeOf(e), message: (e as Error).message } }, 'cannot start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, drainSeconds: loaded.config.drainTimeout }, 'shutting down: draining in-flight checks');
      app.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: { code: codeOf(e), message: (e as Error).message } }, 'unclean shutdown');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => void app.reload('signal'));
  });
}

/** The forwarder commands: they read only their own options (the judge's settings do not apply). */
async function forward(command: ForwardCommand, flags: Readonly<Record<string, string>>, configFile: string | undefined, build: BuildInfo): Promise<number> {
  const { 'log-level': level, ...rest } = flags;
  const log = createLogger(level ?? process.env['LOG_LEVEL'] ?? 'INFO', stdoutDestination((process.env['LOG_FORMAT'] ?? 'auto').toLowerCase(), terminal()));
  for (const w of unknownSettingWarnings(process.env)) log.warn(w);
  let handle: Awaited<ReturnType<typeof runForwarderCommand>>;
  let tracing: Tracing | undefined;
  try {
    // The modes' judges are wrapped with their operations when built: tracing first.
    tracing = await startTracing(traceSettingsFrom(process.env), build.version);
    handle = await runForwarderCommand(command, {
      flags: rest,
      env: process.env,
      ...(configFile !== undefined ? { configFile } : {}),
      readFile: (p) => readFileSync(p, 'utf8'),
      log,
      build,
    });
  } catch (e) {
    await stopTracing(tracing);
    if (e instanceof ConfigError || e instanceof TraceSettingsError) {
      process.stderr.write(withUsage(command, `oidc-judge ${command}: ${e.message}`));
      return 2;
    }
    log.fatal({ err: { code: codeOf(e), message: (e as Error).message } }, 'cannot start the forwarders');
    return 1;
  }
  log.info({ version: build.version, listeners: handle.forwarders.listeners.map((l) => ({ name: l.name, mode: l.mode, address: l.address })) }, 'forwarding');
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, drainSeconds: handle.drainMs / 1000 }, 'shutting down: draining in-flight exchanges');
      handle.stop().then(
        () => stopTracing(tracing).then(() => resolve(0)),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `oidc-judge demo [--port N]`: the development provider is a dev dependency, loaded only here. */
async function demo(flags: Readonly<Record<string, string>>): Promise<number> {
  // For a person at a terminal: text lines, and every decision as it happens (an INFO line each).
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'INFO', stdoutDestination((process.env['LOG_FORMAT'] ?? 'pretty').toLowerCase(), terminal()));
  const port = flags['port'] === undefined ? undefined : Number(flags['port']);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    process.stderr.write('oidc-judge demo: --port must be a port number\n');
    return 2;
  }
  let mod: typeof import('./demo/run.js');
  try {
    mod = await import('./demo/run.js');
  } catch (e) {
    process.stderr.write(`oidc-judge demo: needs the development dependencies (run \`npm ci\` in a clone): ${(e as Error).message}\n`);
    return 1;
  }
  let running: Awaited<ReturnType<typeof mod.startDemo>>;
  try {
    running = await mod.startDemo({ log, ...(port !== undefined ? { port } : {}) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const busy = port ?? mod.DEFAULT_DEMO_PORT;
      process.stderr.write(
        `oidc-judge demo: port ${busy} is in use; choose another with --port (npm run demo -- --port ${busy === 65535 ? 4181 : busy + 1})\n`,
      );
    } else process.stderr.write(`oidc-judge demo: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(mod.banner(running));
  return new Promise<number>((resolve) => {
    const stop = (): void =>
      void running.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Entry point of the `oidc-judge` command: runs `main` on this process's arguments and exits with its code. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      // stdout must be flushed before exiting (check-config output can be piped).
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`oidc-judge: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
