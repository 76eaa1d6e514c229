/**
 * A small forwarder mode for runtime tests (`mode: probe`): answers `<text> <path>`, holds `/hold`
 * requests until `release()`, reports readiness from a switch, serves a health route, records
 * `close()`, and optionally takes upgrades and CONNECT. Plus requests over a unix socket and TLS.
 */
import { EventEmitter } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ModeDefinition, ModeHandler } from '../../../src/forward/engine/mode.js';

export interface ProbeState {
  ready: boolean;
  readonly closed: string[];
  readonly events: EventEmitter;
  release(): void;
}

export interface ProbeOptions {
  readonly text: string;
  readonly upgrades: boolean;
}

export function probeMode(state: ProbeState): ModeDefinition<ProbeOptions> {
  return {
    mode: 'probe',
    parse(raw, at, errs) {
      for (const k of Object.keys(raw)) if (k !== 'text' && k !== 'upgrades') errs.push(`${at}.${k}: unknown option`);
      if (typeof raw['text'] !== 'string') errs.push(`${at}.text: is required`);
      return { text: String(raw['text']), upgrades: raw['upgrades'] === true };
    },
    create(o) {
      const held: ServerResponse[] = [];
      const release = (): void => {
        for (const r of held.splice(0)) r.end('-done');
      };
      state.events.on('release', release);
      const handler: ModeHandler = {
        handle(req: IncomingMessage, res: ServerResponse) {
          if (req.url === '/hold') {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write(`${o.text} held`);
            held.push(res);
            state.events.emit('held');
            return;
          }
          if (req.url === '/throw') throw new Error('boom');
          res.end(`${o.text} ${req.url}`);
        },
        ready: () => state.ready,
        healthRoutes: { [`/${o.text}-status`]: (_req, res) => void res.end(`${o.text} status`), '/readyz': (_req, res) => void res.end('hijacked') },
        close: () => {
          state.events.off('release', release);
          state.closed.push(o.text);
          return Promise.resolve();
        },
        ...(o.upgrades
          ? {
              upgrade: (_req, socket) => void socket.end('HTTP/1.1 101 Switching Protocols\r\nupgrade: probe\r\nconnection: upgrade\r\n\r\nprobe-upgraded'),
              connect: (req, socket) => void socket.end(`HTTP/1.1 200 Connection established\r\nx-target: ${req.url}\r\n\r\n`),
            }
          : {}),
      };
      return handler;
    },
  };
}

export function probeState(): ProbeState {
  const events = new EventEmitter();
  return { ready: true, closed: [], events, release: () => void events.emit('release') };
}

export interface Got {
  readonly status: number;
  readonly body: string;
}

/** GET over a unix socket. */
export function getUnix(socketPath: string, path: string): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'local' }, agent: false }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

/** GET over TLS on 127.0.0.1 with the given CA and protocol bounds. */
export function getTls(
  port: number,
  path: string,
  ca: string,
  tls: { maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; minVersion?: 'TLSv1' | 'TLSv1.1' } = {},
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false, ...tls }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

function collect(res: IncomingMessage, resolve: (g: Got) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
}
