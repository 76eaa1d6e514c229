/**
 * Structured JSON logs (pino) with redaction: tokens, cookies, secrets and Authorization values
 * never reach the output, whatever object a caller logs. Lines go to stdout through a buffer that
 * writes once per event-loop turn, not once per line (see `log-destination.ts`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { bufferedDestination, type BufferedDestination } from './log-destination.js';
import { prettyDestination } from './log-pretty.js';

export { bufferedDestination };

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

/**
 * Where a process's log lines go: stdout, as JSON — or as text for people with `LOG_FORMAT=pretty`,
 * or with `auto` when stdout is a terminal (coloured unless `NO_COLOR` is set).
 */
export function stdoutDestination(
  format: string,
  terminal: { readonly isTTY: boolean; readonly noColor: boolean },
  out: BufferedDestination = bufferedDestination(1),
): BufferedDestination {
  const pretty = format === 'pretty' || (format === 'auto' && terminal.isTTY);
  return pretty ? prettyDestination(out, { color: terminal.isTTY && !terminal.noColor }) : out;
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
