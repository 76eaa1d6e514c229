/**
 * Required claims of the verify-then-proxy forwarder (oidc-proxy's `--ingress-valid-claims`,
 * jwtproxy's `static` claims verifier), given as a mapping or as JSON/YAML text:
 * - a string is an RE2 pattern matched against the whole claim (anchored: `my_app` never accepts
 *   `not_my_app_x`; write `my_app.*` for a prefix), and the claim must be a string;
 * - a number must equal a numeric claim (`1` and `1.0` are equal);
 * - `true`, `false` and `null` must be exactly that;
 * - a list means "contains all": the claim is a list holding every listed value (strings compared
 *   exactly, numbers numerically); a scalar claim counts as a one-element list.
 * `aud` is refused here: audiences belong to the `audience` option. A claim is a name or a dot path,
 * read with the judge's one claim reader (judge/claims.ts: exact name first, then nested objects).
 */
import { RE2JS } from 're2js';
import { parse as parseYaml } from 'yaml';
import { claimNameProblem, readClaim } from '../../judge/claims.js';

type Scalar = string | number | boolean | null;

export type ClaimRequirement =
  | { readonly claim: string; readonly kind: 'pattern'; readonly source: string; readonly test: (s: string) => boolean }
  | { readonly claim: string; readonly kind: 'equal'; readonly value: number | boolean | null }
  | { readonly claim: string; readonly kind: 'contains'; readonly values: readonly Scalar[] };

const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/** Compiles a mapping (or JSON/YAML text of one); every problem is pushed as `<at>.<claim>: …`. */
export function compileClaimRequirements(raw: unknown, at: string, errs: string[]): ClaimRequirement[] {
  let map: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return [];
    try {
      map = parseYaml(raw) as unknown; // JSON is YAML too
    } catch (e) {
      errs.push(`${at}: not valid JSON or YAML (${(e as Error).message.split('\n')[0]})`);
      return [];
    }
  }
  if (map === null || map === undefined) return [];
  if (typeof map !== 'object' || Array.isArray(map)) {
    errs.push(`${at}: must be a mapping of claim names to required values`);
    return [];
  }
  const out: ClaimRequirement[] = [];
  for (const [claim, v] of Object.entries(map as Record<string, unknown>)) {
    const where = `${at}.${claim}`;
    if (claim === 'aud') {
      errs.push(`${where}: audiences belong to the audience option, not to the required claims`);
      continue;
    }
    const problem = claimNameProblem(claim);
    if (problem !== undefined) {
      errs.push(`${at}: ${problem}`);
      continue;
    }
    if (typeof v === 'string') {
      try {
        const re = RE2JS.compile(v);
        out.push({ claim, kind: 'pattern', source: v, test: (s) => re.testExact(s) });
      } catch (e) {
        errs.push(`${where}: not a valid RE2 pattern (${(e as Error).message})`);
      }
    } else if (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
      out.push({ claim, kind: 'equal', value: v });
    } else if (Array.isArray(v) && v.length > 0 && v.every(isScalar)) {
      out.push({ claim, kind: 'contains', values: v });
    } else {
      errs.push(`${where}: must be a string (RE2 pattern), a number, true, false, null or a non-empty list of those`);
    }
  }
  return out;
}

function meets(r: ClaimRequirement, v: unknown): boolean {
  switch (r.kind) {
    case 'pattern':
      return typeof v === 'string' && r.test(v);
    case 'equal':
      return v === r.value;
    case 'contains': {
      const have: readonly unknown[] = Array.isArray(v) ? v : [v];
      return r.values.every((want) => have.some((h) => h === want));
    }
  }
}

/** The name of the first requirement the payload does not meet, or undefined. */
export function unmetClaim(payload: Readonly<Record<string, unknown>>, reqs: readonly ClaimRequirement[]): string | undefined {
  for (const r of reqs) {
    // An absent claim (undefined) meets no requirement: patterns need a string, `equal` a present value, lists a scalar.
    if (!meets(r, readClaim(payload, r.claim))) return r.claim;
  }
  return undefined;
}
