/**
 * The decision log line, written without pino's per-line machinery. One line per check is the
 * hottest log there is, and pino's redaction (a walk over every configured path for every line)
 * and key-by-key serialization cost more than the check itself. The fields here are fixed and
 * safe by construction — no header, cookie, token or query (`loggablePath` strips it) — so the
 * line is built directly as one string (values escaped as JSON), with the same level, time,
 * bindings, key order and destination a pino line of the same logger would have. Loggers not made by
 * `createLogger` get an ordinary `log.info(fields, 'decision')`.
 */
import { pino } from 'pino';
import { OWN_FORMAT, type Logger } from './log.js';

export interface DecisionFields {
  readonly requestId: string;
  readonly via: string;
  readonly method: string;
  readonly host: string;
  /** Without query or fragment (`loggablePath`). */
  readonly path: string;
  readonly outcome: string;
  readonly status: number;
  readonly authenticator: string | undefined;
  readonly user: string | undefined;
  readonly reason: string | undefined;
  readonly ms: number;
}

export type DecisionLog = (fields: DecisionFields) => void;

interface PinoInternals {
  readonly [OWN_FORMAT]?: boolean;
}

/** The ISO time of the current millisecond, formatted once per millisecond. */
function isoClock(): () => string {
  let lastMs = -1;
  let last = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      last = new Date(now).toISOString();
    }
    return last;
  };
}

const INFO = 30;

/** Printable ASCII but `"` and `\\`: a JSON string as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string; `JSON.stringify` (escapes, non-ASCII) only when the text needs it. */
function str(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** A JSON number (`null` for what JSON cannot carry, as JSON.stringify does). */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

export function decisionLog(log: Logger): DecisionLog {
  if ((log as PinoInternals)[OWN_FORMAT] !== true) {
    return (f) => log.info(f, 'decision');
  }
  const internals = log as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as { write(line: string): void };
  // `,"service":"oidc-judge"` plus any child bindings, exactly as pino prints them.
  const bindings = internals[pino.symbols.chindingsSym] as string;
  const now = isoClock();
  return (f) => {
    if (log.levelVal > INFO) return;
    // Key order as pino writes it: level, time, bindings, fields (undefined ones left out), msg.
    let line = `{"level":"info","time":"${now()}"${bindings},"requestId":${str(f.requestId)},"via":${str(f.via)},"method":${str(f.method)},"host":${str(f.host)},"path":${str(f.path)},"outcome":${str(f.outcome)},"status":${num(f.status)}`;
    if (f.authenticator !== undefined) line += `,"authenticator":${str(f.authenticator)}`;
    if (f.user !== undefined) line += `,"user":${str(f.user)}`;
    if (f.reason !== undefined) line += `,"reason":${str(f.reason)}`;
    stream.write(`${line},"ms":${num(f.ms)},"msg":"decision"}\n`);
  };
}
