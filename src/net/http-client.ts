/**
 * A small HTTP client for calls to identity providers (discovery, JWKS, later token and userinfo):
 * node:http / node:https with a deadline, extra trusted CAs, a response-size limit and redirects
 * that never change scheme. Every failure is an `HttpClientError` with a stable `code`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { JudgeError } from '../errors.js';
import { activeTracing } from '../obs/trace/port.js';

export type HttpClientErrorCode = 'bad-url' | 'timeout' | 'network' | 'too-large' | 'redirect' | 'status' | 'bad-json';

export class HttpClientError extends JudgeError<HttpClientErrorCode> {
  override readonly name = 'HttpClientError';
  /** The HTTP status, for `status` errors. */
  readonly status: number | undefined;
  constructor(code: HttpClientErrorCode, message: string, extra: { status?: number; cause?: unknown } = {}) {
    super(code, message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.status = extra.status;
  }
}

export interface HttpClientOptions {
  /** Deadline for one request, redirects included, in milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Extra trusted CA certificates (PEM, e.g. the content of `CA_BUNDLE`), added to Node's default roots. */
  readonly caPem?: string;
  /** Largest response body accepted, in bytes (default 1 MiB). */
  readonly maxBytes?: number;
  /** Redirects followed for GET and HEAD, same scheme only (default 3; 0 returns the 3xx response). */
  readonly maxRedirects?: number;
  readonly userAgent?: string;
  /**
   * An idle kept-alive connection is closed after this many milliseconds (default 4000), or one
   * second before the server's `Keep-Alive: timeout=N`, whichever comes first — so a request is
   * not sent on a connection the server is closing (Node's servers close idle ones after 5 s).
   * A POST that hits that race (the token endpoint at the login callback) is not sent twice, so it
   * must not meet it: without this, a callback 5 s after the previous provider call got a 503.
   */
  readonly idleSocketMs?: number;
}

export interface HttpRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The name of the call's span when tracing is on (`oidc.token`, `oidc.jwks`, …); default `http.client`. */
  readonly span?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly json: unknown;
}

/** What discovery and the JWKS cache need; tests and other transports can provide it too. */
export interface JsonGetter {
  getJson(url: string, span?: string): Promise<JsonResponse>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL without credentials, query or fragment: safe to log and to put in error messages. */
export function loggableUrl(u: string | URL): string {
  try {
    const url = typeof u === 'string' ? new URL(u) : u;
    return url.origin + url.pathname;
  } catch {
    return '(invalid URL)';
  }
}

export class HttpClient implements JsonGetter {
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #maxRedirects: number;
  readonly #userAgent: string;
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(opts: HttpClientOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.#maxRedirects = opts.maxRedirects ?? 3;
    this.#userAgent = opts.userAgent ?? 'oidc-judge';
    const ca = opts.caPem?.trim() ? [...rootCertificates, opts.caPem] : undefined;
    // Node's agent applies `timeout` to idle sockets and shortens it to the server's keep-alive hint.
    const timeout = opts.idleSocketMs ?? 4000;
    this.#http = new HttpAgent({ keepAlive: true, timeout });
    this.#https = new HttpsAgent({ keepAlive: true, timeout, ...(ca ? { ca } : {}) });
  }

  /** GET a JSON document; anything but a 2xx answer with a JSON body is an error. */
  async getJson(url: string, span?: string): Promise<JsonResponse> {
    const res = await this.request(url, { headers: { accept: 'application/json' }, ...(span !== undefined ? { span } : {}) });
    if (res.status < 200 || res.status > 299) {
      throw new HttpClientError('status', `GET ${loggableUrl(res.url)} answered ${res.status}`, { status: res.status });
    }
    try {
      return { status: res.status, headers: res.headers, json: JSON.parse(res.body.toString('utf8')) as unknown };
    } catch (cause) {
      throw new HttpClientError('bad-json', `GET ${loggableUrl(res.url)} did not return JSON`, { cause });
    }
  }

  /**
   * One request with the client's limits; any status is returned, only transport problems throw.
   * With tracing on, a child span of the active one: method, host, path (never the query) and status.
   */
  async request(url: string | URL, init: HttpRequestInit = {}): Promise<HttpResponse> {
    const tracing = activeTracing();
    if (tracing === undefined) return this.#request(url, init);
    const target = parseUrl(url);
    const attributes = { 'http.request.method': (init.method ?? 'GET').toUpperCase(), 'server.address': target.host, 'url.path': target.pathname };
    return tracing.call(init.span ?? 'http.client', attributes, async (span) => {
      const res = await this.#request(target, init);
      span.set('http.response.status_code', res.status);
      return res;
    });
  }

  async #request(url: string | URL, init: HttpRequestInit): Promise<HttpResponse> {
    let target = parseUrl(url);
    const method = (init.method ?? 'GET').toUpperCase();
    const deadline = Date.now() + this.#timeoutMs;
    for (let hop = 0; ; hop++) {
      const res = await this.#once(target, method, init, deadline);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || location === undefined || (method !== 'GET' && method !== 'HEAD') || this.#maxRedirects === 0) return res;
      if (hop >= this.#maxRedirects) throw new HttpClientError('redirect', `too many redirects from ${loggableUrl(url)}`);
      const next = parseUrl(new URL(location, target));
      if (next.protocol !== target.protocol) {
        throw new HttpClientError('redirect', `redirect from ${loggableUrl(target)} to another scheme (${next.protocol}) refused`);
      }
      target = next;
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  /**
   * One request/response. `retryStale`: a GET or HEAD sent on a reused keep-alive connection that
   * the server had already closed (reset before any response — the race Node documents for
   * `request.reusedSocket`) is sent once more, on a new connection, within the same deadline.
   */
  #once(url: URL, method: string, init: HttpRequestInit, deadline: number, retryStale = method === 'GET' || method === 'HEAD'): Promise<HttpResponse> {
    const where = `${method} ${loggableUrl(url)}`;
    const max = this.#maxBytes;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: HttpClientError | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(res!);
      };
      const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...init.headers };
      if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const agent = url.protocol === 'https:' ? this.#https : this.#http;
      let responded = false;
      const req = send(url, { method, headers, agent }, (res) => {
        responded = true;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > max) {
          res.destroy();
          finish(new HttpClientError('too-large', `${where}: response larger than ${max} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > max) {
            res.destroy();
            finish(new HttpClientError('too-large', `${where}: response larger than ${max} bytes`));
          } else chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: url.href }));
        res.on('error', (cause) => finish(new HttpClientError('network', `${where}: ${cause.message}`, { cause })));
      });
      const timer = setTimeout(
        () => finish(new HttpClientError('timeout', `${where}: no answer within ${this.#timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
      timer.unref();
      req.on('error', (cause) => {
        if (retryStale && !settled && !responded && req.reusedSocket && (cause as NodeJS.ErrnoException).code === 'ECONNRESET') {
          settled = true;
          clearTimeout(timer);
          this.#once(url, method, init, deadline, false).then(resolve, reject);
          return;
        }
        finish(new HttpClientError('network', `${where}: ${cause.message}`, { cause }));
      });
      req.end(init.body);
    });
  }
}

function parseUrl(u: string | URL): URL {
  let url: URL;
  try {
    url = new URL(u);
  } catch (cause) {
    throw new HttpClientError('bad-url', 'invalid URL', { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpClientError('bad-url', `unsupported URL scheme ${url.protocol}`);
  return url;
}
