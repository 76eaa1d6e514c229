/**
 * Log lines for people (`LOG_FORMAT=pretty`, or `auto` on a terminal): the JSON lines the logger
 * writes — already redacted — re-read and printed as `time LEVEL message key=value …`, and a
 * decision as one sentence (`GET app.example.com/admin → deny 403 forbidden · alice · session ·
 * 1.2 ms`). Machines keep the JSON (the default whenever stdout is not a terminal); this costs a
 * parse per line, which a terminal can afford.
 */
import type { BufferedDestination } from './log-destination.js';

export interface PrettyOptions {
  /** ANSI colours (a terminal that wants them). */
  readonly color: boolean;
}

const LEVEL_COLOR: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };
/** Fields every line has, shown in the line's own place or not at all. */
const OWN = new Set(['level', 'time', 'msg', 'service']);

function paint(on: boolean, code: string, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** A value as `key=value` shows it: strings bare unless they need quotes, objects as compact JSON. */
function shown(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** `HH:MM:SS.mmm` of an ISO time (the day is in the JSON format for whoever needs it). */
function clock(time: unknown): string {
  return typeof time === 'string' && time.length >= 23 ? time.slice(11, 23) : String(time ?? '');
}

function decisionSentence(f: Record<string, unknown>, color: boolean): string {
  const outcome = String(f['outcome'] ?? '');
  const tint = outcome === 'allow' || outcome === 'skip' ? '32' : outcome === 'unavailable' ? '31' : '33';
  const parts = [
    `${shown(f['method'])} ${String(f['host'] ?? '')}${String(f['path'] ?? '')}`,
    '→',
    paint(color, tint, `${outcome} ${String(f['status'] ?? '')}`),
  ];
  const extra = [f['reason'], f['user'], f['authenticator']].filter((x) => typeof x === 'string' && x !== '') as string[];
  if (extra.length > 0) parts.push(extra.join(' · '));
  if (typeof f['ms'] === 'number') parts.push(paint(color, '90', `${f['ms']} ms`));
  return parts.join(' ');
}

/** One JSON log line as a human-readable line (a line that is no JSON object passes as it is). */
export function prettyLine(json: string, opts: PrettyOptions): string {
  let f: Record<string, unknown>;
  try {
    const parsed = JSON.parse(json) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return json;
    f = parsed as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(f['level'] ?? 'info');
  const head = `${paint(opts.color, '90', clock(f['time']))} ${paint(opts.color, LEVEL_COLOR[level] ?? '0', level.toUpperCase().padEnd(5))}`;
  if (f['msg'] === 'decision') return `${head} ${decisionSentence(f, opts.color)}`;
  const fields = Object.entries(f)
    .filter(([k, v]) => !OWN.has(k) && v !== undefined)
    .map(([k, v]) => `${paint(opts.color, '90', `${k}=`)}${shown(v)}`);
  return [head, String(f['msg'] ?? ''), ...fields].join(' ');
}

/** A destination that prints each line through `prettyLine` into `inner`. */
export function prettyDestination(inner: BufferedDestination, opts: PrettyOptions): BufferedDestination {
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) if (line !== '') inner.write(`${prettyLine(line, opts)}\n`);
    },
    flushSync: () => inner.flushSync(),
    flush: (cb) => inner.flush(cb),
  };
}
