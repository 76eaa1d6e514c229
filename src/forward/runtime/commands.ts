/**
 * The forwarder commands and the registry of modes they run:
 *   forward           the config file's `forwarders:` list (any modes, several listeners)
 *   oidc-proxy        oidc-proxy's flags / `OIDC_PROXY_*` env (verify or egress), plus the file's list
 *   kube-oidc-proxy   kube-oidc-proxy's flags → one `kube` forwarder, health on its probe port
 *   metadata-gateway  kube-oidc-gateway's env (`LISTEN_ADDR`, `UPSTREAM_HOST` …) → one `metadata` forwarder
 * Configuration problems reject with a `ConfigError` (exit 2), start failures with any other
 * error (exit 1). Reads nothing itself: main.ts passes flags, env and a file reader.
 */
import { systemClock } from '../../clock.js';
import { createMetrics } from '../../obs/metrics.js';
import { parseForwarderBlocks } from './blocks.js';
import { forwarderConfigError } from '../../config/error.js';
import { runForwardCommand, type ForwardCommandInput, type ForwardHandle } from './forward-command.js';
import { kubeProxyOptionsFromFlags } from './compat/kube-oidc-proxy.js';
import { egressMode } from '../egress/mode.js';
import { kubeMode } from '../kube-proxy/mode.js';
import { metadataMode } from '../metadata/mode.js';
import { metadataOptionsFromEnv } from '../metadata/options.js';
import type { ModeDefinition } from '../engine/mode.js';
import { startForwarders } from './run.js';
import { verifyMode } from '../verify/mode.js';

export const FORWARDER_MODES: ReadonlyMap<string, ModeDefinition<unknown>> = new Map(
  ([verifyMode, egressMode, kubeMode, metadataMode] as ModeDefinition<unknown>[]).map((m) => [m.mode, m]),
);

export const FORWARD_COMMANDS = ['forward', 'oidc-proxy', 'kube-oidc-proxy', 'metadata-gateway'] as const;
export type ForwardCommand = (typeof FORWARD_COMMANDS)[number];

export function isForwardCommand(c: string): c is ForwardCommand {
  return (FORWARD_COMMANDS as readonly string[]).includes(c);
}

/** Drain on SIGTERM for the single-forwarder commands (kube-oidc-proxy and kube-oidc-gateway had none configurable). */
const SINGLE_DRAIN_MS = 10_000;

export type CommandInput = Omit<ForwardCommandInput, 'oidcProxy'>;

/** One seed's command line (or env) → one block, validated and started. */
async function single(
  input: CommandInput,
  raw: Record<string, unknown>,
  at: string,
  extra: { errors: string[]; warnings: string[]; healthListen?: string },
): Promise<ForwardHandle> {
  const parsed = parseForwarderBlocks([raw], FORWARDER_MODES, at);
  const errors = [...extra.errors, ...parsed.errors];
  if (errors.length > 0) throw forwarderConfigError(errors);
  for (const w of extra.warnings) input.log.warn(w);
  const forwarders = await startForwarders(parsed.blocks, FORWARDER_MODES, {
    log: input.log,
    clock: input.clock ?? systemClock,
    readFile: input.readFile,
    env: input.env,
    metrics: createMetrics(true, input.build),
    ...(extra.healthListen !== undefined ? { healthListen: extra.healthListen } : {}),
  });
  return { forwarders, warnings: extra.warnings, drainMs: SINGLE_DRAIN_MS, stop: () => forwarders.stop(SINGLE_DRAIN_MS) };
}

export function runForwarderCommand(command: ForwardCommand, input: CommandInput): Promise<ForwardHandle> {
  switch (command) {
    case 'forward':
    case 'oidc-proxy':
      return runForwardCommand({ ...input, oidcProxy: command === 'oidc-proxy' }, FORWARDER_MODES);
    case 'kube-oidc-proxy': {
      if (input.configFile !== undefined)
        return Promise.reject(
          forwarderConfigError(['--config: kube-oidc-proxy takes its flags only; use `oidc-judge forward --config` with a `mode: kube` block instead']),
        );
      const k = kubeProxyOptionsFromFlags(input.flags);
      return single(input, k.block, 'kube-oidc-proxy', { errors: k.errors, warnings: k.warnings, healthListen: k.healthListen });
    }
    case 'metadata-gateway': {
      const errors = Object.keys(input.flags).map((f) => `--${f}: metadata-gateway is configured by kube-oidc-gateway's environment variables only`);
      if (input.configFile !== undefined) errors.push('--config: use `oidc-judge forward --config` with a `mode: metadata` block instead');
      return single(input, metadataOptionsFromEnv(input.env), 'metadata-gateway', { errors, warnings: [] });
    }
  }
}
