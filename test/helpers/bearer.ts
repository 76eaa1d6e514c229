import type { JudgeRequest } from '../../src/judge/request.js';
import { createLogger, type Logger } from '../../src/obs/log.js';
import type { Metrics } from '../../src/obs/metrics.js';

/** A judge request carrying these (lower-case) headers. */
export function requestWith(headers: Record<string, string>): JudgeRequest {
  return {
    method: 'GET',
    scheme: 'https',
    host: 'app.example.com',
    path: '/',
    headers,
    peer: '127.0.0.1',
    requestId: 'test-req',
    denyStyle: 'redirect',
    via: 'http',
  };
}

/** A logger whose JSON lines are kept in `lines`, to look at what was logged. */
export function capturingLogger(level = 'DEBUG'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const dest = { write: (s: string): void => void lines.push(s) };
  return { log: createLogger(level, dest), lines };
}

/** The value of a counter for these labels (0 when never incremented). */
export async function counter(c: Metrics['jwksRefresh'] | Metrics['discovery'], labels: Record<string, string>): Promise<number> {
  const { values } = await c.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k as keyof typeof v.labels] === want));
  return hit?.value ?? 0;
}

/** Seconds since the epoch for a clock reading. */
export const secs = (ms: number): number => Math.floor(ms / 1000);
