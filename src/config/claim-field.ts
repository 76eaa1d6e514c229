/**
 * Settings that name claims (`USERID_CLAIM`, `GROUPS_CLAIM`, the Kubernetes proxy's claims): plain
 * strings checked at start-up with the claim reader's own rule (judge/claims.ts), so a name that can
 * never resolve — an empty dot-path segment (`a..b`, a trailing dot), a prototype name — is a
 * configuration error naming the setting, not a claim silently never found.
 */
import { claimNameProblem, groupSources, groupSourcesProblem } from '../judge/claims.js';
import { str, type Field } from './field.js';

type StrOpts = NonNullable<Parameters<typeof str>[2]>;

function checked(f: Field<string>, problem: (v: string) => string | undefined, emptyOk: boolean): Field<string> {
  const check = (v: string): string => {
    const p = emptyOk && v === '' ? undefined : problem(v);
    if (p !== undefined) throw new Error(p);
    return v;
  };
  return { ...f, parse: (raw) => check(f.parse(raw)), fromBlock: (v) => check(f.fromBlock(v)) };
}

/** One claim: its exact name or a dot path. `emptyOk`: '' means "none" (optional claims). */
export function claimName(env: string, doc: string, opts: StrOpts & { emptyOk?: boolean } = {}): Field<string> {
  const { emptyOk = false, ...rest } = opts;
  return checked(str(env, doc, rest), claimNameProblem, emptyOk);
}

/** Several claims, comma-separated (each an exact name or a dot path); '' names none unless `emptyOk` is false. */
export function claimSources(env: string, doc: string, opts: StrOpts & { emptyOk?: boolean } = {}): Field<string> {
  const { emptyOk = true, ...rest } = opts;
  const problem = (v: string): string | undefined => (groupSources(v).length === 0 ? 'names no claim (empty)' : groupSourcesProblem(v));
  return checked(str(env, doc, rest), problem, emptyOk);
}
