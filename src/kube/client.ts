/**
 * A small JSON client for a Kubernetes API server over `KubeCredentials`: HTTPS with the cluster
 * CA (replacing the system roots when one is given, as client-go does), an optional client
 * certificate, and the bearer token re-read from its file on every call (cheap when the file did
 * not change). A 401 is retried once when re-reading the token file gives a different token (it
 * rotated between two reads). Each request has a deadline and a response-size limit; failures are
 * `HttpClientError`s whose messages name the method and path, never a token.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HttpClientError } from '../net/http-client.js';
import type { KubeCredentials } from './credentials.js';

export { HttpClientError };

export interface KubeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The parsed body, or undefined when it is empty or not JSON (see `body`). */
  readonly json: unknown;
  /** The raw body. */
  readonly body: Buffer;
}

export interface KubeRequestOptions {
  /** Deadline for the whole exchange (default: the client's, 10 000 ms). */
  readonly timeoutMs?: number;
  /** Largest response body accepted (default: the client's, 4 MiB); larger → `too-large` error. */
  readonly maxBytes?: number;
  /** Extra request headers (never `authorization`, which comes from the credentials). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface KubeClientOptions {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly userAgent?: string;
}

export class KubeClient {
  readonly credentials: KubeCredentials;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #userAgent: string;
  readonly #agent: HttpAgent | HttpsAgent;

  constructor(credentials: KubeCredentials, opts: KubeClientOptions = {}) {
    this.credentials = credentials;
    this.#base = new URL(credentials.server);
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
    this.#userAgent = opts.userAgent ?? 'oidc-judge';
    this.#agent =
      this.#base.protocol === 'https:'
        ? new HttpsAgent({
            keepAlive: true,
            ...(credentials.ca !== undefined ? { ca: credentials.ca } : {}),
            ...(credentials.cert !== undefined ? { cert: credentials.cert } : {}),
            ...(credentials.key !== undefined ? { key: credentials.key } : {}),
            rejectUnauthorized: credentials.insecureSkipTlsVerify !== true,
          })
        : new HttpAgent({ keepAlive: true });
  }

  get(path: string, opts: KubeRequestOptions = {}): Promise<KubeResponse> {
    return this.request('GET', path, undefined, opts);
  }

  post(path: string, body: unknown, opts: KubeRequestOptions = {}): Promise<KubeResponse> {
    return this.request('POST', path, body, opts);
  }

  /** One call; any status is returned, only transport problems (and oversize bodies) throw. */
  async request(method: string, path: string, body: unknown, opts: KubeRequestOptions = {}): Promise<KubeResponse> {
    const url = new URL(this.#base.href.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const first = this.credentials.authorization();
    const res = await this.#once(method, url, payload, first, opts);
    if (res.status !== 401 || first === undefined) return res;
    const again = this.credentials.authorization(true);
    return again === first || again === undefined ? res : this.#once(method, url, payload, again, opts);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #once(method: string, url: URL, payload: Buffer | undefined, authorization: string | undefined, opts: KubeRequestOptions): Promise<KubeResponse> {
    const where = `${method} ${url.pathname}`;
    const max = opts.maxBytes ?? this.#maxBytes;
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const headers: Record<string, string> = { ...opts.headers, accept: 'application/json', 'user-agent': this.#userAgent };
    if (authorization !== undefined) headers['authorization'] = authorization;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<KubeResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: HttpClientError | undefined, res?: KubeResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(res!);
      };
      const req = send(url, { method, headers, agent: this.#agent }, (res) => {
        const tooLarge = (): void => {
          res.destroy();
          finish(new HttpClientError('too-large', `${where}: response larger than ${max} bytes`));
        };
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > max) return tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) tooLarge();
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, json: parseJson(raw), body: raw });
        });
        res.on('error', (cause) => finish(new HttpClientError('network', `${where}: ${cause.message}`, { cause })));
      });
      const timer = setTimeout(() => finish(new HttpClientError('timeout', `${where}: no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      req.on('error', (cause) => finish(new HttpClientError('network', `${where}: ${cause.message}`, { cause })));
      req.end(payload);
    });
  }
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
