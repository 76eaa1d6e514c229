/** Prometheus metrics. One registry per process, created by the composition root and passed down. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { BuildInfo } from './build-info.js';
import { CheckDurationHistogram } from './check-histogram.js';

export interface Metrics {
  readonly registry: Registry;
  /** Checks by outcome (`allow`, `deny`, `skip`, `unavailable`), HTTP status and authenticator. */
  readonly decisions: Counter<'outcome' | 'status' | 'authenticator' | 'via'>;
  readonly checkDuration: CheckDurationHistogram;
  /**
   * The per-check path: counts one check in `decisions` and its time in `checkDuration`. Counts
   * are kept as plain numbers and handed to `decisions` when it is read (prom-client hashes and
   * validates a label object on every `inc`, which would cost more than counting); durations go to
   * `checkDuration` (no duration: counted, not timed).
   */
  countCheck(outcome: string, status: string, authenticator: string, via: string, seconds?: number): void;
  /** JWKS fetches by result (`ok`, `error`) and cause (`startup`, `background`, `unknown-kid`). */
  readonly jwksRefresh: Counter<'result' | 'cause'>;
  readonly discovery: Counter<'result'>;
}

type DecisionLabels = Record<'outcome' | 'status' | 'authenticator' | 'via', string>;

/** `build`: exported as `oidc_judge_build_info{version,node} 1` (the usual Prometheus build-info gauge). */
export function createMetrics(withDefaults = true, build?: BuildInfo): Metrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'oidc_judge_' });
  if (build !== undefined) {
    new Gauge({
      name: 'oidc_judge_build_info',
      help: 'The running build: package version and Node.js version (always 1).',
      labelNames: ['version', 'node'] as const,
      registers: [registry],
      // Under --workers every worker reports the same build: the merged scrape keeps one, not their sum.
      aggregator: 'first',
    }).set({ version: build.version, node: build.node }, 1);
  }
  // Checks counted since `decisions` was last read, per label tuple (the tuples are few and chosen
  // by the code, never by a client). Keys join the values with NUL, which none of them contains.
  const uncounted = new Map<string, { readonly labels: DecisionLabels; n: number }>();
  const decisions = new Counter({
    name: 'oidc_judge_decisions_total',
    help: 'Authorization checks answered, by outcome, HTTP status, authenticator and front door.',
    labelNames: ['outcome', 'status', 'authenticator', 'via'] as const,
    registers: [registry],
    collect() {
      for (const u of uncounted.values()) {
        if (u.n === 0) continue;
        this.inc(u.labels, u.n);
        u.n = 0;
      }
    },
  });
  const checkDuration = new CheckDurationHistogram({
    name: 'oidc_judge_check_duration_seconds',
    help: 'Time to decide one check.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registry,
  });
  return {
    registry,
    decisions,
    checkDuration,
    countCheck(outcome, status, authenticator, via, seconds) {
      const key = `${outcome}\0${status}\0${authenticator}\0${via}`;
      const u = uncounted.get(key);
      if (u !== undefined) u.n++;
      else uncounted.set(key, { labels: { outcome, status, authenticator, via }, n: 1 });
      if (seconds !== undefined) checkDuration.observe(via, seconds);
    },
    jwksRefresh: new Counter({
      name: 'oidc_judge_jwks_refresh_total',
      help: 'JWKS fetches, by result and cause.',
      labelNames: ['result', 'cause'],
      registers: [registry],
    }),
    discovery: new Counter({
      name: 'oidc_judge_discovery_total',
      help: 'OIDC discovery attempts, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
