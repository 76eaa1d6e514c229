/**
 * The commands of `oidc-judge`, one entry each: what it does, its usage line, its own options and
 * how its other `--flags` are read. The general usage (`oidc-judge help`), each command's help
 * (`oidc-judge <command> --help`) and the check of its flags are all made from this table, so a new
 * command is one entry here (plus its runner in main.ts).
 */
import type { Field } from './config/field.js';
import { forwardCommandSchema, oidcProxyExtraSchema, oidcProxySchema } from './config/forward-schema.js';

export interface CommandSpec {
  readonly name: string;
  /** What it does, in a sentence (wrapped when printed). */
  readonly summary: string;
  /** What follows `oidc-judge ` on the usage line. */
  readonly usage: string;
  /** Its own options: `[flag, meaning]`. */
  readonly options: readonly (readonly [string, string])[];
  /**
   * Flags not in `options`: `settings` — any of the judge's settings (`--oidc-provider=…`), checked
   * against the schema; `own` — none; `passed` — the command's parser checks them (forwarders).
   */
  readonly flags: 'settings' | 'own' | 'passed';
}

const CONFIG: readonly [string, string] = ['--config FILE', 'YAML file of settings (later sources win: file, environment, flags)'];
const SETTING: readonly [string, string] = [
  '--<setting>=<value>',
  'any setting of docs/configuration.md by its variable in kebab case, e.g. --oidc-provider=https://…, --server-port=8080',
];

/** A forwarder schema's flags as options: the flag and the first sentence of its doc. */
const schemaOptions = (...schemas: Readonly<Record<string, Field<unknown>>>[]): [string, string][] =>
  schemas.flatMap((s) =>
    Object.values(s)
      .filter((f) => f.flag !== undefined && f.flag !== '')
      .map((f): [string, string] => [`--${f.flag}`, `${f.doc.split(/(?<=\.) /)[0]} (${f.env})`]),
  );

export const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    name: 'serve',
    summary: 'run the judge (gRPC and HTTP), the health port and the web server (the default command)',
    usage: 'serve [--config FILE] [--<setting>=<value> …]',
    options: [CONFIG, SETTING, ['--workers N', 'worker processes sharing the ports (WORKERS; 0: one per core)']],
    flags: 'settings',
  },
  {
    name: 'demo',
    summary:
      'everything on loopback with a built-in development OpenID Provider and two demo users, behind the ingress forwarder; prints the URL to open (needs dev dependencies)',
    usage: 'demo [--port N]',
    options: [['--port N', "the port of the demo's front door (default 4180)"]],
    flags: 'own',
  },
  {
    name: 'check-config',
    summary:
      'print the effective configuration with secrets redacted, or every problem in it; with --online, reach what it names instead (one line per check, exit 1 when one fails)',
    usage: 'check-config [--online] [--config FILE] [--<setting>=<value> …]',
    options: [
      [
        '--online',
        'check the CA bundle, the provider’s discovery and keys, every extra JWT issuer, a write to the session store, the Kubernetes API permission (create tokenreviews), the introspection endpoint and the external authorizer',
      ],
      CONFIG,
      SETTING,
    ],
    flags: 'settings',
  },
  {
    name: 'sessions',
    summary:
      'sessions revoke: end every session of a user (--sub, as the provider names them) or of one provider session (--sid) in the configured store, on every replica; prints how many sessions ended',
    usage: 'sessions revoke --sub ID [--iss URL] | --sid ID [--iss URL]  [--config FILE] [--<setting>=<value> …]',
    options: [
      ['--sub ID', "the provider's subject identifier (the ID token's sub) whose sessions end"],
      ['--sid ID', "the provider session (the ID token's sid) whose sessions end"],
      ['--iss URL', 'the issuer of --sub/--sid (default: OIDC_PROVIDER)'],
      CONFIG,
      SETTING,
    ],
    flags: 'settings',
  },
  {
    name: 'login',
    summary:
      'sign a program in to a site behind the judge: prints a URL to open in a browser (or, with --device, a code to approve in any browser) and keeps the credential under ~/.config/oidc-judge/ (0600)',
    usage: 'login --url URL [--device] [--prefix PATH] [--client-name NAME]',
    options: [
      ['--url URL', 'the site, e.g. https://kubeflow.example.com'],
      ['--device', 'device login (RFC 8628): approve a code in a browser anywhere, for machines without one'],
      ['--prefix PATH', "the judge's AUTHSERVICE_URL_PREFIX on that site (default /authservice/)"],
      ['--client-name NAME', 'how the program is named to the user approving it (default: oidc-judge CLI)'],
    ],
    flags: 'own',
  },
  {
    name: 'token',
    summary: 'print the credential `login` kept for a site, while it is valid: curl -H "Authorization: Bearer $(oidc-judge token --url URL)"',
    usage: 'token --url URL',
    options: [['--url URL', 'the site given to login']],
    flags: 'own',
  },
  {
    name: 'logout',
    summary: 'revoke the credential `login` kept for a site at the judge, and delete it',
    usage: 'logout --url URL [--prefix PATH]',
    options: [
      ['--url URL', 'the site given to login'],
      ['--prefix PATH', "the judge's AUTHSERVICE_URL_PREFIX on that site (default /authservice/)"],
    ],
    flags: 'own',
  },
  {
    name: 'forward',
    summary: "run the forwarders of the config file's `forwarders:` list (verify, egress, kube, metadata), each on its own listener; see docs/forwarders.md",
    usage: 'forward --config FILE [--<option>=<value> …]',
    options: [['--config FILE', 'YAML file with the `forwarders:` list'], ...schemaOptions(forwardCommandSchema)],
    flags: 'passed',
  },
  {
    name: 'oidc-proxy',
    summary: "a forwarder from oidc-proxy's flags (--target-url …) or OIDC_PROXY_* variables",
    usage: 'oidc-proxy --target-url URL (--ingress-enabled | --egress-enabled) [--<option>=<value> …]',
    options: [...schemaOptions(oidcProxySchema, oidcProxyExtraSchema, forwardCommandSchema)],
    flags: 'passed',
  },
  {
    name: 'kube-oidc-proxy',
    summary: "the Kubernetes impersonation proxy from kube-oidc-proxy's flags",
    usage: 'kube-oidc-proxy --oidc-issuer-url URL --oidc-client-id ID [--<kube-oidc-proxy flag>=<value> …]',
    options: [
      ['--oidc-issuer-url URL', 'the issuer of the ID tokens accepted'],
      ['--oidc-client-id ID', 'the audience they must carry'],
      [
        '--<flag>=<value>',
        "kube-oidc-proxy's other flags (--oidc-username-claim, --server, --kubeconfig, --secure-port …); docs/forwarders/kube.md names those handled differently",
      ],
    ],
    flags: 'passed',
  },
  {
    name: 'metadata-gateway',
    summary: "the OIDC metadata gateway from kube-oidc-gateway's variables (LISTEN_PORT …)",
    usage: 'metadata-gateway',
    options: [['(no flags)', "configured by kube-oidc-gateway's environment variables: LISTEN_ADDR, LISTEN_PORT, UPSTREAM_HOST …"]],
    flags: 'passed',
  },
  {
    name: 'oauth2-proxy',
    summary:
      "the judge from oauth2-proxy's options: --config oauth2_proxy.cfg, OAUTH2_PROXY_* variables and --flags (Kubeflow 1.9+); serves /oauth2/start, callback, sign_out, userinfo and auth; refuses options it cannot honour, by name",
    usage: 'oauth2-proxy [--config oauth2_proxy.cfg] [--<oauth2-proxy flag>=<value> …]',
    options: [
      ['--config FILE', "oauth2-proxy's configuration file (oauth2_proxy.cfg)"],
      ['--config-test', 'print the effective configuration (secrets redacted) and exit'],
      ['--<flag>=<value>', "oauth2-proxy's flags (as OAUTH2_PROXY_<FLAG> variables too); our own variables still apply"],
    ],
    flags: 'passed',
  },
  {
    name: 'version',
    summary: 'print the version (also --version, -v)',
    usage: 'version',
    options: [],
    flags: 'own',
  },
  {
    name: 'help',
    summary: "this text; `help COMMAND` (or `COMMAND --help`) for one command's options",
    usage: 'help [COMMAND]',
    options: [],
    flags: 'own',
  },
];

export const COMMANDS: readonly string[] = COMMAND_SPECS.map((c) => c.name);
export const commandSpec = (name: string): CommandSpec | undefined => COMMAND_SPECS.find((c) => c.name === name);

const WIDTH = 100;

/** `text` broken into lines of at most `width` characters (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** `rows` as two columns, the second wrapped at WIDTH onto lines at its own indent. */
function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.min(Math.max(...rows.map(([a]) => a.length)), 24);
  const pad = ' '.repeat(2 + width + 2);
  return rows
    .flatMap(([a, b]) => {
      const [first = '', ...rest] = wrap(b, WIDTH - pad.length);
      const lead = a.length > width ? [`  ${a}`, `${pad}${first}`] : [`  ${a.padEnd(width)}  ${first}`];
      return [...lead, ...rest.map((l) => `${pad}${l}`)];
    })
    .join('\n');
}

/** `oidc-judge help`: every command. */
export const USAGE = `Usage: oidc-judge [COMMAND] [options]       (no command: serve)
       oidc-judge COMMAND --help          the command's own options
       oidc-judge --version

Commands:
${columns(COMMAND_SPECS.map((c) => [c.name, c.summary]))}

Settings come from the environment (e.g. OIDC_PROVIDER), flags (--oidc-provider=…) and the YAML
file given with --config; see docs/configuration.md.`;

/** `oidc-judge COMMAND --help`. */
export function commandHelp(name: string): string {
  const c = commandSpec(name);
  if (c === undefined) return USAGE;
  const options = [...c.options, ['-h, --help', 'this text'] as const];
  return `Usage: oidc-judge ${c.usage}\n\n${wrap(c.summary, WIDTH).join('\n')}\n\nOptions:\n${columns(options)}`;
}
