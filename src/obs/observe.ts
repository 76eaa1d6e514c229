/**
 * Wraps a judge with its operations: one decision log line per check (request id, front door,
 * authenticator, outcome, status, latency) and the Prometheus counters. The path is logged without
 * its query (queries carry tokens); headers are never logged.
 */
import type { Judge } from '../judge/decide.js';
import type { Decision } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

function outcomeOf(d: Decision): string {
  if (d.kind === 'allow') return d.reason === 'skip' ? 'skip' : 'allow';
  return d.status === 503 ? 'unavailable' : 'deny';
}

/** Path without query or fragment, capped, for logs. */
export function loggablePath(path: string): string {
  const q = path.search(/[?#]/);
  const p = q < 0 ? path : path.slice(0, q);
  return p.length > 512 ? p.slice(0, 512) + '…' : p;
}

export function observe(judge: Judge, log: Logger, metrics: Metrics, logDecisions: boolean): Judge {
  return async (req: JudgeRequest) => {
    const t0 = process.hrtime.bigint();
    let d: Decision;
    try {
      d = await judge(req);
    } catch (err) {
      log.error({ requestId: req.requestId, via: req.via, err: { message: (err as Error).message, name: (err as Error).name } }, 'check failed');
      metrics.decisions.inc({ outcome: 'error', status: '503', authenticator: '', via: req.via });
      throw err;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const outcome = outcomeOf(d);
    const status = d.kind === 'allow' ? 200 : d.status;
    const authenticator = (d.kind === 'allow' ? d.identity?.authenticator : d.authenticator ?? d.identity?.authenticator) ?? '';
    metrics.decisions.inc({ outcome, status: String(status), authenticator, via: req.via });
    metrics.checkDuration.observe({ via: req.via }, seconds);
    if (logDecisions) {
      log.info(
        {
          requestId: req.requestId,
          via: req.via,
          method: req.method,
          host: req.host,
          path: loggablePath(req.path),
          outcome,
          status,
          authenticator: authenticator || undefined,
          user: d.identity?.user,
          reason: d.kind === 'deny' ? d.reason : d.reason === 'skip' ? `skip:${d.skipRule ?? ''}` : undefined,
          ms: Math.round(seconds * 1e6) / 1e3,
        },
        'decision',
      );
    }
    return d;
  };
}
