/**
 * The facts rules match on (`Target`), computed once per check from a `JudgeRequest`: the method,
 * the host as the upstream's server reads it (judge/host.ts), the normalized path, and — for an
 * ambiguous request only — every other reading an upstream might make of it (judge/path.ts
 * `otherReadings`, and the literal host when it differs). A plain request costs what it did before
 * the readings existed: one object, the shared empty list of readings.
 */
import type { Reading, Target } from './ports.js';
import { plainHostname, readHost, targetAuthority } from './host.js';
import { NO_READINGS, normalizePath, otherReadings } from './path.js';
import type { JudgeRequest } from './request.js';

const NONE: readonly Reading[] = Object.freeze([]);

function unreadable(req: JudgeRequest): Target {
  return { method: req.method, hostname: '', path: '/', ambiguous: true, readings: NONE, badHost: true, lowerCase: true };
}

// The last plain host read and its name: requests to one host (the usual case) read it once.
let lastHost = '';
let lastName = '';

function hostOf(host: string): string | undefined {
  if (host === lastHost) return lastName;
  const name = plainHostname(host);
  if (name !== undefined) {
    lastHost = host;
    lastName = name;
  }
  return name;
}

export function targetOf(req: JudgeRequest): Target {
  const { path, ambiguous, lowerCase } = normalizePath(req.path);
  if (!ambiguous) {
    // The common case: a plain path and host, read without building readings.
    const hostname = hostOf(req.host);
    if (hostname !== undefined) return { method: req.method, hostname, path, ambiguous, readings: NONE, badHost: false, lowerCase };
  }
  let host = readHost(req.host);
  if (host === undefined) return unreadable(req);
  // An absolute-form target names its own host, which a server uses instead of Host: both must agree.
  const authority = ambiguous ? targetAuthority(req.path) : undefined;
  if (authority !== undefined) {
    const named = readHost(authority);
    if (named === undefined || (req.host !== '' && named.hostname !== host.hostname)) return unreadable(req);
    host = named;
  }
  const paths = ambiguous ? otherReadings(req.path, path) : NO_READINGS;
  if (paths.length === 0 && host.literal === undefined) {
    return { method: req.method, hostname: host.hostname, path, ambiguous, readings: NONE, badHost: false, lowerCase };
  }
  const readings: Reading[] = [];
  for (const p of paths) readings.push({ hostname: host.hostname, path: p });
  if (host.literal !== undefined) {
    readings.push({ hostname: host.literal, path });
    for (const p of paths) readings.push({ hostname: host.literal, path: p });
  }
  return { method: req.method, hostname: host.hostname, path, ambiguous: true, readings, badHost: false, lowerCase };
}
