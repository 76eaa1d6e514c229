import { EventEmitter } from 'node:events';

/**
 * Whether the service is ready to judge: set by the composition root (provider discovered,
 * stores open), cleared on shutdown. Health endpoints and gRPC health read it; `change` fires on flips.
 */
export class Readiness extends EventEmitter<{ change: [ready: boolean] }> {
  #ready = false;
  #reason = 'starting';

  get ready(): boolean {
    return this.#ready;
  }

  /** Why it is not ready (empty when ready). */
  get reason(): string {
    return this.#ready ? '' : this.#reason;
  }

  set(ready: boolean, reason = ''): void {
    const changed = ready !== this.#ready;
    this.#ready = ready;
    this.#reason = reason;
    if (changed) this.emit('change', ready);
  }
}
