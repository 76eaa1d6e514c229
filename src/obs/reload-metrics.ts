/**
 * The metrics of live configuration reloads: `oidc_judge_config_reloads_total{result}` (`applied`,
 * `refused`, `unchanged`) and `oidc_judge_config_info{hash,version} 1`, naming the configuration in
 * force (a hash of its files and settings, never a secret's value).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ReloadMetrics {
  counted(result: 'applied' | 'refused' | 'unchanged'): void;
  inForce(hash: string, version: number): void;
}

export function reloadMetrics(registry: Registry): ReloadMetrics {
  const reloads = new Counter({
    name: 'oidc_judge_config_reloads_total',
    help: 'Configuration reloads (file change or SIGHUP), by result: applied, refused (the running configuration stays), unchanged.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const info = new Gauge({
    name: 'oidc_judge_config_info',
    help: 'The configuration in force: a hash of its settings and files, and its version (1 at start, +1 per applied reload). Always 1.',
    labelNames: ['hash', 'version'] as const,
    registers: [registry],
    aggregator: 'first',
  });
  return {
    counted: (result) => reloads.inc({ result }),
    inForce(hash, version) {
      info.reset();
      info.set({ hash, version: String(version) }, 1);
    },
  };
}
