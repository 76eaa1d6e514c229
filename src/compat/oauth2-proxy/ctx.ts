/**
 * What the oauth2-proxy option mappers (map.ts) share: the options being read, the settings, errors
 * and warnings being written, and how Go's durations and regexp searches read here.
 */
import type { Key, Option, Options } from './options.js';

/** The units of a Go duration (`24h`, `1h30m`, `90s`). */
const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go `time.ParseDuration` value in whole seconds, or undefined when unreadable. */
export function goDurationSeconds(raw: string): number | undefined {
  const t = raw.trim();
  if (t === '0') return 0;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return Math.round(total);
}

/**
 * A Go regexp that oauth2-proxy *searches* for (`MatchString`: anywhere in the path unless the
 * pattern anchors itself) as a pattern our skip rules *fully* match: `.*(?:re).*`. A `^` or `$`
 * inside still anchors at the path's start or end, as in Go.
 */
export const searchPattern = (re: string): string => `.*(?:${re}).*`;

export class Ctx {
  readonly settings: Record<string, string> = {};
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  constructor(readonly o: Options) {}

  opt(k: Key): Option | undefined {
    return this.o[k];
  }
  str(k: Key): string | undefined {
    const v = this.o[k]?.value;
    return v === undefined ? undefined : String(v);
  }
  bool(k: Key): boolean {
    return this.o[k]?.value === true;
  }
  list(k: Key): readonly string[] {
    const v = this.o[k]?.value;
    return v === undefined ? [] : (v as readonly string[]);
  }
  /** The option's label for messages: where it was set, else its cfg name. */
  at(k: Key): string {
    return this.o[k]?.from ?? k;
  }
  set(env: string, value: string): void {
    this.settings[env] = value;
  }
  refuse(k: Key, why: string): void {
    this.errors.push(`${this.at(k)}: ${why}`);
  }
}
