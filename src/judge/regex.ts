/**
 * Full-match tests for patterns that come from configuration, on RE2 (re2js): linear time in the
 * input, so no configured pattern can be turned into a ReDoS. Patterns are anchored at both ends:
 * `eng` matches `eng` only, never `engineering`; write `eng.*` for a prefix.
 */
import { RE2JS } from 're2js';

/** A compiled, anchored pattern: `test(s)` is true when the pattern matches all of `s`. */
export interface FullMatch {
  readonly source: string;
  test(input: string): boolean;
}

/** Compiles `pattern` (RE2 syntax) once; throws on a syntax error (configuration validates patterns first). */
export function fullMatch(pattern: string): FullMatch {
  const re = RE2JS.compile(pattern);
  return { source: pattern, test: (input) => re.testExact(input) };
}
