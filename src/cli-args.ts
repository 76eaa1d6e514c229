/** Splits `oidc-judge [command] [--config FILE] [--name=value | --name value | --flag]…`. */
export interface CliArgs {
  readonly command: string;
  readonly configFile?: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly errors: readonly string[];
}

export const COMMANDS = ['serve', 'demo', 'check-config', 'help'] as const;

export function parseArgs(argv: readonly string[]): CliArgs {
  const flags: Record<string, string> = {};
  const errors: string[] = [];
  let command: string | undefined;
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      command = 'help';
      continue;
    }
    if (!a.startsWith('--')) {
      if (command === undefined && i === 0) command = a;
      else errors.push(`unexpected argument "${a}"`);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else value = 'true';
    if (name === 'config') configFile = value;
    else flags[name] = value;
  }
  command ??= 'serve';
  if (!(COMMANDS as readonly string[]).includes(command)) errors.push(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  return { command, ...(configFile !== undefined ? { configFile } : {}), flags, errors };
}

export const USAGE = `Usage: oidc-judge [serve | demo | check-config | help] [--config FILE] [--<setting>=<value> …]

  serve         run the judge (gRPC and HTTP), the health port and the web server (default)
  demo          everything on loopback with a built-in development OpenID Provider and two demo
                users, behind the ingress forwarder; prints the URL to open (needs dev dependencies)
  check-config  print the effective configuration with secrets redacted, or every problem in it
  help          this text

Settings come from the environment (e.g. OIDC_PROVIDER), flags (--oidc-provider=…) and the YAML
file given with --config; see the README's configuration table.`;
