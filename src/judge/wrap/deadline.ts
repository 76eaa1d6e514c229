/**
 * Bounds how long one check may take. Past the deadline the check answers 503 (fail closed),
 * before the proxy's own timeout turns it into an error that `failure_mode_allow` could let through.
 * The work behind it (a slow JWKS fetch, say) goes on and serves the next check.
 *
 * One timer for all checks, not one per check: every check gets the same budget, so deadlines
 * come in the order checks start. Pending checks sit in an insertion-ordered set; the timer is
 * armed for the oldest one and, when it fires, answers every check whose deadline has passed and
 * re-arms for the next (a timer left over from checks that settled fires early, finds nothing due
 * and re-arms: never late). A check that settles leaves the set (O(1)); checks that settle in
 * time — nearly all — never create, move or clear a timer.
 */
import { performance } from 'node:perf_hooks';
import type { Decision } from '../decision.js';
import type { Judge } from '../decide.js';
import type { JudgeRequest } from '../request.js';
import type { Responses } from '../responses.js';

interface Pending {
  /** `performance.now()` after which the check answers 503. */
  readonly at: number;
  readonly req: JudgeRequest;
  readonly resolve: (d: Decision) => void;
}

export function withDeadline(judge: Judge, ms: number, responses: Responses): Judge {
  if (ms <= 0) return judge;
  const pending = new Set<Pending>();
  let timer: NodeJS.Timeout | undefined;

  function arm(): void {
    const oldest = pending.values().next();
    timer = oldest.done ? undefined : setTimeout(expire, Math.max(0, oldest.value.at - performance.now()));
  }

  function expire(): void {
    const now = performance.now();
    for (const p of pending) {
      if (p.at > now) break;
      pending.delete(p);
      p.resolve(responses.unavailable(p.req, 'deadline'));
    }
    arm();
  }

  /** Settles `p` unless the deadline answered first; an idle timer must not keep the process up. */
  function settled(p: Pending): boolean {
    if (!pending.delete(p)) return false;
    if (pending.size === 0) timer?.unref();
    return true;
  }

  return (req) =>
    new Promise<Decision>((resolve, reject) => {
      const p: Pending = { at: performance.now() + ms, req, resolve };
      pending.add(p);
      if (timer === undefined) arm();
      else if (pending.size === 1) timer.ref();
      let answer: Promise<Decision>;
      try {
        answer = judge(req);
      } catch (e) {
        settled(p);
        reject(e);
        return;
      }
      answer.then(
        // A late answer (the deadline answered first) is dropped.
        (d) => void (settled(p) && resolve(d)),
        (e: unknown) => void (settled(p) && reject(e)),
      );
    });
}
