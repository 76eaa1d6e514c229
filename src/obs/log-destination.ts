/**
 * Where log lines go: file descriptor 1 (stdout), in batches. The lines of one event-loop turn
 * are encoded straight into a 4 KiB buffer and written with one `write(2)` when the turn ends (or
 * as soon as the buffer is full), instead of one system call — and one string-to-bytes copy more —
 * per line. A write is at most PIPE_BUF bytes of whole lines, so the lines of several workers
 * sharing one stdout pipe never interleave. A clean stop loses nothing: what is buffered is
 * written when the process exits (`exit` is emitted on `process.exit`, when the loop runs dry,
 * and after an uncaught exception).
 */
import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

export interface BufferedDestination extends DestinationStream {
  /** Writes what is buffered now (synchronously). */
  flushSync(): void;
  /** Same, for pino's `logger.flush(cb)`. */
  flush(cb?: (err?: Error) => void): void;
}

/** Largest write: PIPE_BUF (Linux), the size up to which writes to a pipe are atomic. */
export const MAX_WRITE = 4096;

/** A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, 2 units, takes 4). */
const MAX_BYTES_PER_UNIT = 3;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to `fd`, synchronously: a full pipe (EAGAIN on a non-blocking descriptor)
 * is waited out; a reader that went away (EPIPE) ends logging, as pino does; other errors throw.
 * Returns false once the descriptor is gone.
 */
function writeAll(fd: number, bytes: Uint8Array): boolean {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
  return true;
}

/** Every buffered destination, flushed by one `exit` listener. */
const live = new Set<BufferedDestination>();
let exitHook = false;

/** The batched destination on `fd`, flushed when the process exits. */
export function bufferedDestination(fd: number): BufferedDestination {
  let open = true;
  const batched = batchLines((bytes) => {
    if (open) open = writeAll(fd, bytes);
  });
  live.add(batched);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of live) d.flushSync();
    });
  }
  return batched;
}

/**
 * Lines encoded into a buffer of `maxBytes` and handed to `sink` in batches of whole lines: at the
 * end of the event-loop turn they were written in, or when the next line might not fit. A line
 * longer than the buffer goes alone. `sink` gets a view that is reused afterwards: it must be done
 * with the bytes when it returns.
 */
export function batchLines(sink: (bytes: Uint8Array) => void, maxBytes = MAX_WRITE): BufferedDestination {
  const buf = Buffer.allocUnsafe(maxBytes);
  let used = 0;
  let scheduled = false;
  const flushSync = (): void => {
    if (used === 0) return;
    const n = used;
    used = 0;
    sink(buf.subarray(0, n));
  };
  const endOfTurn = (): void => {
    scheduled = false;
    flushSync();
  };
  return {
    write(line: string): void {
      // Encoded in place when it surely fits; otherwise the batch goes first.
      if (line.length * MAX_BYTES_PER_UNIT > maxBytes - used) {
        flushSync();
        if (line.length * MAX_BYTES_PER_UNIT > maxBytes) {
          const bytes = Buffer.from(line);
          if (bytes.length > maxBytes) return sink(bytes);
          bytes.copy(buf, 0);
          used = bytes.length;
          return void schedule();
        }
      }
      used += buf.write(line, used);
      schedule();
    },
    flushSync,
    flush(cb) {
      flushSync();
      cb?.();
    },
  };

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(endOfTurn);
  }
}
