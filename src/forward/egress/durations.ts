/**
 * Duration options of the egress token sources (seconds as a number, or Go-style strings as
 * jwtproxy's YAML writes them), read through the shared block reader with field.ts's `duration`.
 */
import type { OptionReader } from '../../config/block.js';
import { duration } from '../../config/field.js';

export { durationSeconds } from '../../config/field.js';

/** A duration option in seconds; `def` when absent; values below `min` (default: anything ≤ 0) are refused. */
export function seconds(r: OptionReader, key: string, def: number, min?: number): number {
  return r.getOr(duration(key, key, { default: def, ...(min !== undefined ? { min } : {}) }));
}
