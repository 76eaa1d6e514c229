/**
 * `oidc-judge oauth2-proxy [--config oauth2_proxy.cfg] [--flag=value …]`: reads oauth2-proxy's
 * three sources (the cfg file, `OAUTH2_PROXY_*`, flags), maps them onto the judge's settings and
 * returns the environment the ordinary loader (config/load.ts) then reads — our own variables
 * (`SESSION_STORE_TYPE`, `LOG_LEVEL`, …) still apply; a setting an oauth2-proxy option decides
 * wins over the same variable set directly, with a warning. Pure: the caller passes env and a
 * file reader.
 */
import { parseCfg } from './cfg-parse.js';
import { mapOptions } from './map.js';
import { readOptions, splitFlags } from './options.js';

export interface Oauth2ProxyCommand {
  /** The environment for loadConfig: ours, with the mapped settings over it and no `OAUTH2_PROXY_*`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  /** `--config-test` (oauth2-proxy's): print the effective configuration and exit. */
  readonly configTest: boolean;
}

export function oauth2ProxyCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): Oauth2ProxyCommand {
  const errors: string[] = [];
  const split = splitFlags(argv);
  errors.push(...split.errors);
  const configFile = split.flags.filter(([n]) => n === 'config').at(-1)?.[1];
  let file: Parameters<typeof readOptions>[0]['file'];
  if (configFile !== undefined) {
    try {
      const parsed = parseCfg(readFile(configFile), configFile);
      errors.push(...parsed.errors);
      file = { name: configFile, entries: parsed.entries };
    } catch (e) {
      errors.push(`--config ${configFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const read = readOptions({ ...(file ? { file } : {}), env, flags: split.flags });
  errors.push(...read.errors);
  const mapped = mapOptions(read.options);
  errors.push(...mapped.errors);
  const warnings = [...mapped.warnings];
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('OAUTH2_PROXY_')) out[k] = v;
  for (const [k, v] of Object.entries(mapped.settings)) {
    if (out[k] !== undefined && out[k] !== v) warnings.push(`${k} in the environment is replaced by the value the oauth2-proxy options give it`);
    out[k] = v;
  }
  const configTest = split.flags.some(([n, v]) => n === 'config-test' && v !== 'false');
  return { env: out, errors, warnings, configTest };
}
