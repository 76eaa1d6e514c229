/**
 * Reaching a forwarder's upstream through an HTTP forward proxy (`HTTP_PROXY`/`HTTPS_PROXY`, as
 * oidc-proxy's Go transport does): which proxy applies to an upstream (`NO_PROXY` honoured;
 * loopback and unix-socket upstreams never proxied), and the agents — plain requests to an http
 * upstream go to the proxy in absolute form, an https upstream is reached by a `CONNECT` tunnel
 * with TLS to the upstream inside it (the proxy sees no plaintext). Proxy credentials in the URL
 * become `Proxy-Authorization: Basic`.
 */
import { Agent as HttpAgent, request as httpRequest, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';

export interface Via {
  readonly url: URL;
  /** `Basic …` for credentials in the proxy URL. */
  readonly authorization?: string;
}

/** Parses `http://[user:pass@]host:port`; throws a message for anything else. */
export function parseVia(spec: string): Via {
  let url: URL;
  try {
    url = new URL(spec.includes('://') ? spec : `http://${spec}`);
  } catch {
    throw new Error(`proxy ${spec}: not a URL`);
  }
  if (url.protocol !== 'http:') throw new Error(`proxy ${url.protocol}//${url.host}: only http:// forward proxies are supported`);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return { url, ...(user !== '' || pass !== '' ? { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } : {}) };
}

const env1 = (env: Readonly<Record<string, string | undefined>>, name: string): string | undefined => {
  const v = env[name] ?? env[name.toLowerCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
};

function loopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || (isIP(h) === 4 && h.startsWith('127.')) || h === '::1';
}

/** Whether `NO_PROXY` (comma list of hosts, `.domain`/`domain` suffixes, optional `:port`, or `*`) covers the upstream. */
export function noProxy(list: string | undefined, upstream: URL): boolean {
  if (list === undefined) return false;
  const host = upstream.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = upstream.port || (upstream.protocol === 'https:' ? '443' : '80');
  for (const raw of list.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const name = m[1]!.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (m[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy the environment names for this upstream, if any. */
export function proxyFromEnv(upstream: URL, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (loopback(upstream.hostname) || noProxy(env1(env, 'NO_PROXY'), upstream)) return undefined;
  return upstream.protocol === 'https:' ? env1(env, 'HTTPS_PROXY') : env1(env, 'HTTP_PROXY');
}

type Callback = (err: Error | null, socket?: Duplex) => void;

/** An https agent whose connections are TLS inside a CONNECT tunnel through `via`. */
class TunnelAgent extends HttpsAgent {
  constructor(
    private readonly via: Via,
    private readonly connectMs: number,
    options: HttpsAgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: ConnectionOptions & { host?: string; port?: number }, cb: Callback): undefined {
    const target = `${options.host?.includes(':') ? `[${options.host}]` : options.host}:${options.port ?? 443}`;
    const req = httpRequest({
      host: this.via.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.via.url.port || 80,
      method: 'CONNECT',
      path: target,
      agent: false,
      headers: { host: target, ...(this.via.authorization !== undefined ? { 'proxy-authorization': this.via.authorization } : {}) },
    });
    const timer = setTimeout(() => req.destroy(new Error('proxy CONNECT timed out')), this.connectMs);
    req.once('connect', (res, socket) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        return cb(Object.assign(new Error(`proxy CONNECT answered ${res.statusCode}`), { code: 'EPROXY' }));
      }
      const { host: _host, port: _port, ...tls } = options;
      cb(null, tlsConnect({ ...tls, socket }));
    });
    req.once('error', (e) => {
      clearTimeout(timer);
      cb(e);
    });
    req.end();
    return undefined;
  }
}

/** The agent for an upstream reached through `via`. */
export function viaAgent(via: Via, secure: boolean, connectMs: number, options: AgentOptions & HttpsAgentOptions): HttpAgent {
  return secure ? new TunnelAgent(via, connectMs, options) : new HttpAgent(options);
}
