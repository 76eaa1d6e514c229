/**
 * Splits `oidc-judge [command [subcommand]] [--config FILE] [--name=value | --name value | --flag]…`.
 * `sessions revoke` takes its own `--sub`, `--sid` and `--iss`; every other flag is a setting.
 */
export interface RevokeArgs {
  readonly sub?: string;
  readonly sid?: string;
  readonly iss?: string;
}

export interface CliArgs {
  readonly command: string;
  /** `sessions revoke`: whose sessions to end. */
  readonly revoke?: RevokeArgs;
  readonly configFile?: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly errors: readonly string[];
}

export const COMMANDS = [
  'serve',
  'demo',
  'check-config',
  'sessions',
  'forward',
  'oidc-proxy',
  'kube-oidc-proxy',
  'metadata-gateway',
  'oauth2-proxy',
  'help',
] as const;
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
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      command = 'help';
      continue;
    }
    if (!a.startsWith('--')) {
      if (command === undefined && i === 0) command = a;
      else if (command === 'sessions' && positional.length === 0) positional.push(a);
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
  command ??= 'serve';
  if (!(COMMANDS as readonly string[]).includes(command)) errors.push(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  let revoke: RevokeArgs | undefined;
  if (command === 'sessions') {
    const sub = positional[0];
    if (sub === undefined) errors.push(`sessions: which? (${SESSIONS_USAGE})`);
    else if (sub !== 'revoke') errors.push(`unknown sessions command "${sub}" (${SESSIONS_USAGE})`);
    else revoke = revokeArgs(flags, bare, errors);
  }
  return { command, ...(revoke ? { revoke } : {}), ...(configFile !== undefined ? { configFile } : {}), flags, errors };
}

export const USAGE = `Usage: oidc-judge [serve | demo | check-config | help] [--config FILE] [--<setting>=<value> …]
       oidc-judge ${SESSIONS_USAGE} [--config FILE] [--<setting>=<value> …]

  serve           run the judge (gRPC and HTTP), the health port and the web server (default)
  demo            everything on loopback with a built-in development OpenID Provider and two demo
                  users, behind the ingress forwarder; prints the URL to open (needs dev dependencies)
  check-config    print the effective configuration with secrets redacted, or every problem in it
  sessions revoke end every session of a user (--sub, as the provider names them) or of one provider
                  session (--sid) in the configured store, on every replica; --iss defaults to
                  OIDC_PROVIDER. Prints how many sessions ended
  forward         run the forwarders of the config file's \`forwarders:\` list (verify, egress, kube,
                  metadata), each on its own listener; see the README's "Forwarder modes"
  oidc-proxy      a forwarder from oidc-proxy's flags (--target-url …) or OIDC_PROXY_* variables
  kube-oidc-proxy the Kubernetes impersonation proxy from kube-oidc-proxy's flags
  metadata-gateway  the OIDC metadata gateway from kube-oidc-gateway's variables (LISTEN_PORT …)
  oauth2-proxy    the judge from oauth2-proxy's options: --config oauth2_proxy.cfg, OAUTH2_PROXY_*
                  variables and --flags (Kubeflow 1.9+); serves /oauth2/start, callback, sign_out,
                  userinfo and auth; refuses options it cannot honour, by name; --config-test
                  prints the effective configuration (secrets redacted) and exits
  help            this text

Settings come from the environment (e.g. OIDC_PROVIDER), flags (--oidc-provider=…) and the YAML
file given with --config; see the README's configuration table.`;
