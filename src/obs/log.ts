/**
 * Structured JSON logs (pino) with redaction: tokens, cookies, secrets and Authorization values
 * never reach the output, whatever object a caller logs. Lines go to stdout through a buffer that
 * writes once per event-loop turn (not once per line) and is flushed synchronously on exit.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'secret',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  'headers["x-auth-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.idToken',
  '*.id_token',
  '*.clientSecret',
  '*.client_secret',
  '*.sessionStoreRedisPwd',
  '*.password',
  '*.secret',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'clientSecret',
  'client_secret',
  'sessionId',
];

const LEVELS: Record<string, string> = { FATAL: 'fatal', ERROR: 'error', WARN: 'warn', INFO: 'info', DEBUG: 'debug', TRACE: 'trace' };

/**
 * Marks loggers made here (and, through the prototype chain, their children): their lines are
 * `{"level":"<label>","time":"<ISO>",<bindings>,…,"msg":…}`, which `decision-log.ts` writes itself.
 */
export const OWN_FORMAT: unique symbol = Symbol('oidc-judge.log-format');

export function createLogger(level: string, destination: DestinationStream = bufferedDestination(1)): Logger {
  const log = pino(
    {
      level: LEVELS[level.toUpperCase()] ?? 'info',
      base: { service: 'oidc-judge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  Object.defineProperty(log, OWN_FORMAT, { value: true });
  return log;
}

export interface BufferedDestination extends DestinationStream {
  /** Writes what is buffered now (synchronously). */
  flushSync(): void;
  /** Same, for pino's `logger.flush(cb)`. */
  flush(cb?: (err?: Error) => void): void;
}

/** Largest write: PIPE_BUF, so lines from several workers sharing one stdout pipe never interleave. */
export const MAX_WRITE = 4096;

/**
 * A destination on file descriptor `fd` that collects the lines of one event-loop turn and writes
 * them with one `write(2)` when the turn ends (or sooner, once 4 KiB are waiting), instead of one
 * system call per line. A clean stop loses nothing: what is still buffered is written when the
 * process exits (`exit` is emitted on `process.exit`, when the loop runs dry, and after an uncaught
 * exception). The writing itself (partial writes, EAGAIN, EPIPE) is pino's SonicBoom, synchronous.
 */
export function bufferedDestination(fd: number): BufferedDestination {
  const batched = batchLines(pino.destination({ dest: fd, sync: true, minLength: 0 }));
  process.once('exit', batched.flushSync);
  return batched;
}

/**
 * Lines for `sink`, handed over in batches: at the end of the event-loop turn they were written in,
 * or as soon as the next line would make a batch larger than `maxBytes`. A batch is whole lines
 * (a single longer line goes alone).
 */
export function batchLines(sink: { write(chunk: string): unknown }, maxBytes = MAX_WRITE): BufferedDestination {
  let chunk = '';
  let chunkBytes = 0;
  let scheduled = false;
  const flushSync = (): void => {
    if (chunk === '') return;
    const out = chunk;
    chunk = '';
    chunkBytes = 0;
    sink.write(out);
  };
  const endOfTurn = (): void => {
    scheduled = false;
    flushSync();
  };
  return {
    write(line: string): void {
      const bytes = Buffer.byteLength(line);
      if (chunkBytes + bytes > maxBytes) flushSync();
      chunk += line;
      chunkBytes += bytes;
      if (!scheduled) {
        scheduled = true;
        setImmediate(endOfTurn);
      }
    },
    flushSync,
    flush(cb) {
      flushSync();
      cb?.();
    },
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
