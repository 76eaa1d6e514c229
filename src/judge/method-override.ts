/**
 * Method overrides: headers (and a query parameter) web frameworks read as "the real method" of a
 * request — Rails, Laravel, Symfony, Express's method-override, ASP.NET. A GET carrying
 * `X-HTTP-Method-Override: DELETE` is a DELETE to such an upstream, so the judge must not decide it
 * as a GET alone: skip rules limited to some methods never match it, and access rules judge it
 * under every method it claims.
 */
import type { Target } from './ports.js';
import type { JudgeRequest } from './request.js';

const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];
const METHOD_OVERRIDE_PARAM = /[?&]_method=([^&#]*)/gi;
const NONE: readonly string[] = Object.freeze([]);

/** Upper-cased, trimmed; an empty value claims nothing. */
function add(out: string[] | undefined, v: string, real: string): string[] | undefined {
  const m = v.trim().toUpperCase();
  if (m === '' || m === real || out?.includes(m) === true) return out;
  (out ??= []).push(m);
  return out;
}

/** The methods other than `t.method` the request asks its upstream to read it as (usually none). */
export function claimedMethods(t: Target, req: JudgeRequest): readonly string[] {
  let out: string[] | undefined;
  for (const h of METHOD_OVERRIDE_HEADERS) {
    const v = req.headers[h];
    // A repeated header reaches us comma-joined: every member counts.
    if (v !== undefined) for (const part of v.split(',')) out = add(out, part, t.method);
  }
  const q = req.path.indexOf('?');
  if (q >= 0) {
    const query = req.path.slice(q);
    for (const m of query.matchAll(METHOD_OVERRIDE_PARAM)) {
      let v = m[1]!;
      try {
        v = decodeURIComponent(v);
      } catch {
        // Undecodable: compared as sent.
      }
      out = add(out, v, t.method);
    }
  }
  return out ?? NONE;
}

/** Whether the request claims another method than the one judged. */
export function overridesMethod(t: Target, req: JudgeRequest): boolean {
  return claimedMethods(t, req).length > 0;
}
