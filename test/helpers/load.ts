/**
 * A closed-loop load generator for fault tests: `workers` loops, each sending one check after the
 * other until stopped, every outcome recorded with the time it started. Tests stop it, then look
 * at the outcomes of each phase (before the fault, during, after recovery). `waitFor` polls a
 * condition with a bound — the only way to wait for states that are visible only by asking.
 */
import { setImmediate as yieldLoop, setTimeout as delay } from 'node:timers/promises';

export interface Outcome {
  /** What was asked, e.g. `known-http`, `unknown-grpc`. */
  readonly label: string;
  /** When the check started and ended (Date.now()). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** HTTP status (gRPC: the denied status, 200 for an allow); 0 when the call itself failed. */
  readonly status: number;
  /** `Set-Cookie` values of the answer (must stay empty: no logout during a fault). */
  readonly setCookie: readonly string[];
  readonly error?: string;
}

export type Probe = (worker: number, seq: number) => Promise<Omit<Outcome, 'startedAt' | 'endedAt'>>;

export class Load {
  readonly outcomes: Outcome[] = [];
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly workers: number,
    private readonly probe: Probe,
  ) {}

  start(): this {
    this.#running = true;
    for (let w = 0; w < this.workers; w++) this.#loops.push(this.#loop(w));
    return this;
  }

  async #loop(w: number): Promise<void> {
    for (let seq = 0; this.#running; seq++) {
      const startedAt = Date.now();
      let o: Omit<Outcome, 'startedAt' | 'endedAt'>;
      try {
        o = await this.probe(w, seq);
      } catch (e) {
        o = { label: 'error', status: 0, setCookie: [], error: (e as Error).message };
      }
      this.outcomes.push({ ...o, startedAt, endedAt: Date.now() });
      await yieldLoop();
    }
  }

  /** Outcomes of checks started at or after `from` (and before `to`). */
  between(from: number, to = Number.POSITIVE_INFINITY): Outcome[] {
    return this.outcomes.filter((o) => o.startedAt >= from && o.startedAt < to);
  }

  /** Resolves once an outcome started at or after `from` satisfies `pred`; with that outcome. */
  async next(pred: (o: Outcome) => boolean, from: number, what: string, timeoutMs = 60_000): Promise<Outcome> {
    let found: Outcome | undefined;
    await waitFor(async () => (found = this.outcomes.find((o) => o.startedAt >= from && pred(o))) !== undefined, what, timeoutMs);
    return found!;
  }

  async stop(): Promise<Outcome[]> {
    this.#running = false;
    await Promise.all(this.#loops);
    return this.outcomes;
  }
}

/**
 * Polls `cond` every 20 ms until it holds; throws after `timeoutMs` naming `what`. The bound only
 * turns a hang into a named failure: on a busy machine 60 checks took more than 10 s.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await cond();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/** Counts outcomes by `label status` (for assertion messages). */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) {
    const k = `${o.label} ${o.status}${o.error ? ` (${o.error.slice(0, 40)})` : ''}`;
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}
