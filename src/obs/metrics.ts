/** Prometheus metrics. One registry per process, created by the composition root and passed down. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** Checks by outcome (`allow`, `deny`, `skip`, `unavailable`), HTTP status and authenticator. */
  readonly decisions: Counter<'outcome' | 'status' | 'authenticator' | 'via'>;
  readonly checkDuration: Histogram<'via'>;
  /** JWKS fetches by result (`ok`, `error`) and cause (`startup`, `background`, `unknown-kid`). */
  readonly jwksRefresh: Counter<'result' | 'cause'>;
  readonly discovery: Counter<'result'>;
}

export function createMetrics(withDefaults = true): Metrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'oidc_judge_' });
  return {
    registry,
    decisions: new Counter({
      name: 'oidc_judge_decisions_total',
      help: 'Authorization checks answered, by outcome, HTTP status, authenticator and front door.',
      labelNames: ['outcome', 'status', 'authenticator', 'via'],
      registers: [registry],
    }),
    checkDuration: new Histogram({
      name: 'oidc_judge_check_duration_seconds',
      help: 'Time to decide one check.',
      labelNames: ['via'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
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
