/**
 * Durations in egress options: seconds as a number, or Go-style strings (`90s`, `5m`, `12h`,
 * `1h30m`, `-1h`) as jwtproxy's YAML writes them, read through the shared block reader.
 */
import type { OptionReader } from '../../config/block.js';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds from a number, a numeric string, or a Go duration; undefined when unreadable. */
export function durationSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(s);
  if (m === null) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(part[1]) * UNITS[part[2]!]!;
  return m[1] === '-' ? -total : total;
}

/** A duration option in seconds; `def` when absent; values below `min` (default: anything ≤ 0) are refused. */
export function seconds(r: OptionReader, key: string, def: number, min?: number): number {
  const v = r.value(key);
  if (v === undefined) return def;
  const s = durationSeconds(v);
  if (s === undefined) r.fail(key, 'must be a duration: seconds, or a string like "90s", "5m", "12h"');
  else if (min === undefined ? s <= 0 : s < min) r.fail(key, min === undefined ? 'must be positive' : `must be at least ${min}`);
  else return s;
  return def;
}
