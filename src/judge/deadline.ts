/**
 * Bounds how long one check may take. Past the deadline the check answers 503 (fail closed),
 * before the proxy's own timeout turns it into an error that `failure_mode_allow` could let through.
 * The work behind it (a slow JWKS fetch, say) goes on and serves the next check.
 */
import type { Judge } from './decide.js';
import type { Responses } from './responses.js';

export function withDeadline(judge: Judge, ms: number, responses: Responses): Judge {
  if (ms <= 0) return judge;
  return (req) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(responses.unavailable(req, 'deadline')), ms);
      judge(req).then(
        (d) => {
          clearTimeout(timer);
          resolve(d);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
}
