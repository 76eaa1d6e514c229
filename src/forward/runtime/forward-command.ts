/**
 * `oidc-judge forward` and `oidc-judge oidc-proxy`: forwarder blocks from the config file's
 * `forwarders:` list and/or oidc-proxy's options (flags and `OIDC_PROXY_*` env), validated all at
 * once, then started by the runtime. The command's own settings: `--health-listen` /
 * `FORWARD_HEALTH_LISTEN` / `forwardHealthListen` (no health listener by default) and
 * `--drain-seconds` / `FORWARD_DRAIN_SECONDS` / `forwardDrainSeconds` (default 10) and
 * `--log-decisions` / `LOG_DECISIONS` / `logDecisions` (the judge's switch, default true), declared in
 * config/forward-schema.ts; flags win over env, env over the file. One metrics registry for the
 * process, handed to every mode and served on the health listener's `/metrics`. Reads nothing itself: main.ts passes flags, env and a file reader.
 */
import { parse as parseYaml } from 'yaml';
import { forwarderConfigError } from '../../config/error.js';
import type { Field } from '../../config/field.js';
import { defaultOf, forwardCommandSchema } from '../../config/forward-schema.js';
import { systemClock, type Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { BuildInfo } from '../../obs/build-info.js';
import { createMetrics } from '../../obs/metrics.js';
import { parseForwarderBlocks } from './blocks.js';
import { OIDC_PROXY_EXTRA_FLAGS, OIDC_PROXY_FLAGS, RUNTIME_FLAGS, oidcProxyBlocks } from './compat/oidc-proxy.js';
import type { ModeDefinition } from '../engine/mode.js';
import { startForwarders, type ForwarderBlock, type Forwarders } from './run.js';
import { parseListenAddress } from './listen.js';

export interface ForwardCommandInput {
  /** `--kebab-name` flags without the dashes (`--config` already taken out). */
  readonly flags: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly configFile?: string;
  readonly readFile: (path: string) => string;
  readonly log: Logger;
  /** Read oidc-proxy's options even when no oidc-proxy flag is given (the `oidc-proxy` command). */
  readonly oidcProxy?: boolean;
  readonly clock?: Clock;
  /** The running build: `oidc_judge_build_info` on the health listener's `/metrics`. */
  readonly build?: BuildInfo;
}

export interface ForwardHandle {
  readonly forwarders: Forwarders;
  readonly warnings: readonly string[];
  readonly drainMs: number;
  /** Drains for the configured time and stops everything. */
  stop(): Promise<void>;
}

const OIDC_PROXY: ReadonlySet<string> = new Set<string>([...OIDC_PROXY_FLAGS, ...OIDC_PROXY_EXTRA_FLAGS]);

interface Settings {
  readonly blocks: ForwarderBlock[];
  readonly healthListen?: string;
  readonly drainMs: number;
  readonly logDecisions: boolean;
  readonly warnings: string[];
}

/** Every block and setting, or a `ConfigError` listing every problem. */
export function forwardSettings(input: ForwardCommandInput, modes: ReadonlyMap<string, ModeDefinition<unknown>>): Settings {
  const errors: string[] = [];
  const warnings: string[] = [];
  let file: Record<string, unknown> = {};
  if (input.configFile !== undefined) {
    try {
      const doc = parseYaml(input.readFile(input.configFile)) as unknown;
      if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) errors.push(`--config ${input.configFile}: must be a mapping`);
      else file = (doc ?? {}) as Record<string, unknown>;
    } catch (e) {
      errors.push(`--config ${input.configFile}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const fromFile = parseForwarderBlocks(file['forwarders'], modes);
  errors.push(...fromFile.errors);
  const blocks = [...fromFile.blocks];

  const compat = input.oidcProxy === true || Object.keys(input.flags).some((f) => OIDC_PROXY.has(f));
  if (!compat) for (const f of Object.keys(input.flags)) if (!RUNTIME_FLAGS.has(f)) errors.push(`--${f}: unknown option`);
  if (compat) {
    const c = oidcProxyBlocks(input.flags, input.env);
    errors.push(...c.errors);
    warnings.push(...c.warnings);
    const parsed = parseForwarderBlocks(c.blocks, modes, 'oidc-proxy');
    errors.push(...parsed.errors);
    for (const b of parsed.blocks) {
      if (blocks.some((x) => x.name === b.name)) errors.push(`oidc-proxy: a forwarder named "${b.name}" is already in the config file`);
      if (blocks.some((x) => x.listen.address === b.listen.address))
        errors.push(`oidc-proxy: ${b.listen.address} is already a listen address in the config file`);
      blocks.push(b);
    }
  }

  /** A setting of config/forward-schema.ts by its flag, then its variable, then its config file key. */
  const pick = (f: Field<unknown>): { value: unknown; label: string } | undefined => {
    const [flag, env, key] = [f.flag!, f.env, f.fileKey!];
    if (input.flags[flag] !== undefined) return { value: input.flags[flag], label: `--${flag}` };
    if (input.env[env] !== undefined && input.env[env] !== '') return { value: input.env[env], label: env };
    return file[key] !== undefined ? { value: file[key], label: `${input.configFile}: ${key}` } : undefined;
  };
  const health = pick(forwardCommandSchema.forwardHealthListen);
  let healthListen: string | undefined;
  if (health !== undefined) {
    const a = typeof health.value === 'string' ? parseListenAddress(health.value) : 'must be a string';
    if (typeof a === 'string') errors.push(`${health.label}: ${a}`);
    else healthListen = health.value as string;
  }
  const drain = pick(forwardCommandSchema.forwardDrainSeconds);
  const drainSeconds = drain === undefined ? defaultOf(forwardCommandSchema.forwardDrainSeconds) : Number(drain.value);
  if (!Number.isFinite(drainSeconds) || drainSeconds < 0 || drainSeconds > 3600) errors.push(`${drain!.label}: must be a number of seconds between 0 and 3600`);
  const decisions = pick(forwardCommandSchema.logDecisions);
  let logDecisions = defaultOf(forwardCommandSchema.logDecisions);
  if (decisions !== undefined) {
    const f = forwardCommandSchema.logDecisions;
    try {
      logDecisions = typeof decisions.value === 'string' ? f.parse(decisions.value) : f.fromFile!(decisions.value);
    } catch (e) {
      errors.push(`${decisions.label}: ${(e as Error).message}`);
    }
  }
  if (errors.length === 0 && blocks.length === 0) errors.push('nothing to run: give --config with a forwarders: list, or oidc-proxy options (--target-url …)');
  if (errors.length > 0) throw forwarderConfigError(errors);
  return { blocks, drainMs: drainSeconds * 1000, logDecisions, warnings, ...(healthListen !== undefined ? { healthListen } : {}) };
}

/** Validates everything, starts every forwarder; rejects with a `ConfigError` (exit 2) or a start error (exit 1). */
export async function runForwardCommand(input: ForwardCommandInput, modes: ReadonlyMap<string, ModeDefinition<unknown>>): Promise<ForwardHandle> {
  const s = forwardSettings(input, modes);
  for (const w of s.warnings) input.log.warn(w);
  const forwarders = await startForwarders(s.blocks, modes, {
    log: input.log,
    clock: input.clock ?? systemClock,
    readFile: input.readFile,
    env: input.env,
    metrics: createMetrics(true, input.build),
    logDecisions: s.logDecisions,
    ...(s.healthListen !== undefined ? { healthListen: s.healthListen } : {}),
  });
  return { forwarders, warnings: s.warnings, drainMs: s.drainMs, stop: () => forwarders.stop(s.drainMs) };
}
