/**
 * Answers written together at the end of the event-loop turn that decided them, not one by one as
 * each decision settles. Every write to a socket costs a system call, and on a busy peer (Envoy,
 * nginx, a load generator) the first byte of each answer wakes the thread that reads it: answers
 * decided in one turn and written in one burst wake it once, not once per answer (uWebSockets
 * "corks" every write until the end of the loop iteration for the same reason). The answers stay
 * in the order they were decided, none waits past the turn (the check phase follows the I/O that
 * decided them), and one that throws cannot hold back the others.
 */

export type TurnWrites = (write: () => void) => void;

/** `onError`: what a write that threw is told to (it should already have answered its own request). */
export function turnWrites(onError: (e: unknown) => void): TurnWrites {
  let queued: (() => void)[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const writes = queued;
    queued = [];
    for (const write of writes) {
      try {
        write();
      } catch (e) {
        onError(e);
      }
    }
  };
  return (write) => {
    queued.push(write);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
