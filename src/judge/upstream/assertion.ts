/**
 * The port through which an allow carries the judge's signed identity assertion
 * (`ASSERTION_HEADER`): the core asks for the header's value and knows nothing of keys or
 * signing (src/signing/ implements it; src/app/ wires it in). Absent, an allow costs nothing more.
 */
import type { Identity } from '../decision.js';
import type { Target } from '../ports.js';

export interface AssertionSigner {
  /** The header, lower-case; it is in the strip list, so a client's copy never reaches the upstream. */
  readonly header: string;
  /**
   * The header's value for this identity at this target (`Bearer <jwt>` in `Authorization`), at
   * once when a fresh one is cached; `undefined` when no key can sign now (the check answers 503).
   */
  assert(identity: Identity, target: Target): string | undefined | Promise<string | undefined>;
}
