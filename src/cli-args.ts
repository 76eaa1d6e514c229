/**
 * Splits `oidc-judge [command [subcommand]] [--config FILE] [--name=value | --name value | --flag]…`.
 * `sessions revoke` takes its own `--sub`, `--sid` and `--iss`, `check-config` its own `--online`;
 * every other flag is a setting.
 * `-h`/`--help` asks for the command's help, `-v`/`--version` for the version (cli-commands.ts).
 */
import { COMMANDS } from './cli-commands.js';

export interface RevokeArgs {
  readonly sub?: string;
  readonly sid?: string;
  readonly iss?: string;
}

export interface CliArgs {
  readonly command: string;
  /** `--help` or `-h` was given: print the command's help instead of running it. */
  readonly help?: boolean;
  /** `sessions revoke`: whose sessions to end. */
  readonly revoke?: RevokeArgs;
  /** `check-config --online`: also reach what the configuration names. */
  readonly online?: boolean;
  readonly configFile?: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly errors: readonly string[];
}

const SESSIONS_USAGE = 'sessions revoke --sub ID [--iss URL] | --sid ID [--iss URL]';

/** `sessions revoke`'s own flags, taken out of `flags`. */
function revokeArgs(flags: Record<string, string>, bare: ReadonlySet<string>, errors: string[]): RevokeArgs {
  const out: Record<string, string> = {};
  for (const name of ['sub', 'sid', 'iss'] as const) {
    if (!(name in flags)) continue;
    const v = flags[name]!;
    delete flags[name];
    if (bare.has(name) || v.trim() === '') errors.push(`--${name} needs a value`);
    else out[name] = v;
  }
  if ((out['sub'] === undefined) === (out['sid'] === undefined) && !errors.some((e) => e.startsWith('--sub') || e.startsWith('--sid'))) {
    errors.push(`sessions revoke: give exactly one of --sub and --sid (${SESSIONS_USAGE})`);
  }
  return out;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const flags: Record<string, string> = {};
  const bare = new Set<string>();
  const errors: string[] = [];
  const positional: string[] = [];
  let command: string | undefined;
  let configFile: string | undefined;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a === '-v' || a === '--version') {
      version = true;
      continue;
    }
    if (!a.startsWith('--')) {
      if (command === undefined && i === 0) command = a;
      else if ((command === 'sessions' || command === 'help') && positional.length === 0) positional.push(a);
      else errors.push(`unexpected argument "${a}"`);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else {
      value = 'true';
      bare.add(name);
    }
    if (name === 'config') configFile = value;
    else flags[name] = value;
  }
  if (version) return { command: 'version', flags: {}, errors: [] };
  if (command === undefined && help) return { command: 'help', flags: {}, errors: [] };
  // `help COMMAND` is `COMMAND --help`.
  if (command === 'help' && positional[0] !== undefined) [command, help] = [positional[0], true];
  command ??= 'serve';
  if (!COMMANDS.includes(command)) errors.push(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  if (help) return { command, help, flags, errors };
  let revoke: RevokeArgs | undefined;
  if (command === 'sessions') {
    const sub = positional[0];
    if (sub === undefined) errors.push(`sessions: which? (${SESSIONS_USAGE})`);
    else if (sub !== 'revoke') errors.push(`unknown sessions command "${sub}" (${SESSIONS_USAGE})`);
    else revoke = revokeArgs(flags, bare, errors);
  }
  let online: boolean | undefined;
  if (command === 'check-config' && 'online' in flags) {
    if (!bare.has('online')) errors.push(`--online takes no value (got "${flags['online']}")`);
    delete flags['online'];
    online = true;
  }
  return { command, ...(revoke ? { revoke } : {}), ...(online ? { online } : {}), ...(configFile !== undefined ? { configFile } : {}), flags, errors };
}
