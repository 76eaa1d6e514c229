/**
 * Wraps a judge with its operations: one decision log line per check (request id, front door,
 * authenticator, outcome, status, latency) and the Prometheus counters. The path is logged without
 * its query (queries carry tokens); headers are never logged. Per check this costs a counter
 * increment (`Metrics.countCheck`) and one directly built log line (see `decision-log.ts`).
 * With tracing on (obs/trace/port.ts), each check also runs under one span continued from the
 * request's trace headers; with tracing off the wrapper is the untraced one, unchanged.
 */
import { performance } from 'node:perf_hooks';
import { codeOf, loggedReason } from '../../errors.js';
import type { Judge } from '../decide.js';
import type { Decision } from '../decision.js';
import type { JudgeRequest } from '../request.js';
import { decisionLog } from '../../obs/decision-log.js';
import type { Logger } from '../../obs/log.js';
import type { Metrics } from '../../obs/metrics.js';
import { activeTracing, linkSpan, type SpanPort } from '../../obs/trace/port.js';

function outcomeOf(d: Decision): string {
  if (d.kind === 'allow') return d.reason === 'skip' ? 'skip' : 'allow';
  return d.status === 503 ? 'unavailable' : 'deny';
}

/** Path without query or fragment, capped, for logs. */
export function loggablePath(path: string): string {
  let end = path.length;
  for (let i = 0; i < end; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) end = i;
  }
  const p = end === path.length ? path : path.slice(0, end);
  return p.length > 512 ? p.slice(0, 512) + '…' : p;
}

/**
 * The check span's attributes: what the decision log line says, never a token, a cookie, a header
 * value or the query. `provider` is the issuer that vouched; `rule` the skip rule or the deny reason
 * (which names the access rule).
 */
function annotate(span: SpanPort, req: JudgeRequest, d: Decision, outcome: string, status: number, authenticator: string): void {
  span.set('oidc_judge.via', req.via);
  span.set('http.request.method', req.method);
  span.set('server.address', req.host);
  span.set('url.path', loggablePath(req.path));
  span.set('oidc_judge.request_id', req.requestId);
  span.set('oidc_judge.decision', outcome);
  span.set('http.response.status_code', status);
  if (authenticator !== '') span.set('oidc_judge.authenticator', authenticator);
  const iss = d.identity?.claims.iss;
  if (typeof iss === 'string') span.set('oidc_judge.provider', iss);
  if (d.kind === 'allow' && d.reason === 'skip') span.set('oidc_judge.rule', `skip:${d.skipRule ?? ''}`);
  if (d.kind === 'deny') span.set('oidc_judge.reason', loggedReason(d.reason, d.detail));
}

export function observe(judge: Judge, log: Logger, metrics: Metrics, logDecisions: boolean): Judge {
  const observed = untraced(judge, log, metrics, logDecisions);
  const tracing = activeTracing();
  if (tracing === undefined) return observed;
  return (req: JudgeRequest) =>
    tracing.check(req.headers, async (span) => {
      const d = await observed(req);
      if (d.kind === 'allow') linkSpan(d, span);
      if (!span.recording) return d;
      const outcome = outcomeOf(d);
      const status = d.kind === 'allow' ? 200 : d.status;
      annotate(span, req, d, outcome, status, authenticatorOf(d));
      return d;
    });
}

const authenticatorOf = (d: Decision): string => (d.kind === 'allow' ? d.identity?.authenticator : (d.authenticator ?? d.identity?.authenticator)) ?? '';

function untraced(judge: Judge, log: Logger, metrics: Metrics, logDecisions: boolean): Judge {
  const writeDecision = logDecisions ? decisionLog(log) : undefined;
  return async (req: JudgeRequest) => {
    const t0 = performance.now();
    let d: Decision;
    try {
      d = await judge(req);
    } catch (err) {
      log.error(
        { requestId: req.requestId, via: req.via, err: { message: (err as Error).message, name: (err as Error).name, code: codeOf(err) } },
        'check failed',
      );
      metrics.countCheck('error', '503', '', req.via);
      throw err;
    }
    const ms = performance.now() - t0;
    const outcome = outcomeOf(d);
    const status = d.kind === 'allow' ? 200 : d.status;
    const authenticator = authenticatorOf(d);
    metrics.countCheck(outcome, String(status), authenticator, req.via, ms / 1000);
    if (writeDecision !== undefined) {
      writeDecision({
        requestId: req.requestId,
        via: req.via,
        method: req.method,
        host: req.host,
        path: loggablePath(req.path),
        outcome,
        status,
        authenticator: authenticator || undefined,
        user: d.identity?.user,
        reason: d.kind === 'deny' ? loggedReason(d.reason, d.detail) : d.reason === 'skip' ? `skip:${d.skipRule ?? ''}` : undefined,
        ms: Math.round(ms * 1e3) / 1e3,
      });
    }
    return d;
  };
}
