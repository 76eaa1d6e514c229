/**
 * kube-oidc-proxy's (Tremolo fork) one-line access log, through the pino logger (so the line is
 * JSON-escaped and never carries a token):
 *   [<ISO ts>] AuSuccess src:[<ip> / <xff minus ip>] URI:<uri> inbound:[<user> / <g1|g2> / <k=v1|v2 k2=v>] [outbound:[<user> / <groups> / <uid> / <extras>]]
 *   [<ISO ts>] AuFail src:[<ip> / <xff minus ip>] URI:<uri>
 * Unlike the seed, the peer address is never cut at a `:` (IPv6 works), and every outcome is
 * logged: impersonated, passed through and unimpersonated successes, and every refusal.
 */
import type { Clock } from '../../clock.js';
import type { Logger } from '../../obs/log.js';
import type { KubeUser } from './impersonate.js';

/** `::ffff:10.0.0.1` → `10.0.0.1`; anything else as is. */
export function peerIp(remoteAddress: string | undefined): string {
  const a = remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** The `X-Forwarded-For` entries (all header lines) other than the peer's own address, joined with `, `. */
export function xffWithout(xff: readonly string[] | undefined, ip: string): string {
  if (xff === undefined) return '';
  return xff
    .flatMap((line) => line.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== ip)
    .join(', ');
}

/** `k=v1|v2 k2=v`, keys sorted. */
export function formatExtras(extra: Readonly<Record<string, readonly string[]>>): string {
  return Object.keys(extra)
    .sort()
    .map((k) => `${k}=${(extra[k] ?? []).join('|')}`)
    .join(' ');
}

export interface AccessFacts {
  readonly peer: string | undefined;
  readonly xff: readonly string[] | undefined;
  readonly uri: string;
}

export type SuccessPath = 'impersonated' | 'passthrough' | 'unimpersonated';

const src = (f: AccessFacts): string => {
  const ip = peerIp(f.peer);
  return `src:[${ip} / ${xffWithout(f.xff, ip)}] URI:${f.uri}`;
};

export function successLine(ts: string, f: AccessFacts, inbound: KubeUser, outbound?: KubeUser): string {
  let line = `[${ts}] AuSuccess ${src(f)} inbound:[${inbound.username} / ${inbound.groups.join('|')} / ${formatExtras(inbound.extra)}]`;
  if (outbound !== undefined)
    line += ` outbound:[${outbound.username} / ${outbound.groups.join('|')} / ${outbound.uid ?? ''} / ${formatExtras(outbound.extra)}]`;
  return line;
}

export function failureLine(ts: string, f: AccessFacts): string {
  return `[${ts}] AuFail ${src(f)}`;
}

export interface AccessLog {
  success(f: AccessFacts, path: SuccessPath, inbound: KubeUser, outbound?: KubeUser): void;
  failure(f: AccessFacts, status: number, reason: string): void;
}

/** Writes the lines at `info` with `accessLog: true`, the outcome and (for failures) the status and a token-free reason. */
export function createAccessLog(log: Logger, clock: Clock, enabled = true): AccessLog {
  const ts = (): string => new Date(clock.now()).toISOString();
  if (!enabled) return { success: () => undefined, failure: () => undefined };
  return {
    success(f, path, inbound, outbound) {
      log.info({ accessLog: true, outcome: path }, successLine(ts(), f, inbound, outbound));
    },
    failure(f, status, reason) {
      log.info({ accessLog: true, outcome: 'refused', status, reason }, failureLine(ts(), f));
    },
  };
}
