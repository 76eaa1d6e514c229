import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface Sent {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  /** Header values may repeat (a list), e.g. two `Set-Cookie` or two `Authorization`. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string;
  /** A keep-alive agent to reuse connections; default: a fresh connection closed afterwards. */
  readonly agent?: Agent;
}

/** One HTTP/1.1 request to 127.0.0.1:`port`; resolves with status, headers and the body as text. */
export function send(port: number, path: string, opts: SendOptions = {}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const headers: [string, string][] = [];
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      for (const one of typeof v === 'string' ? [v] : v) headers.push([k, one]);
    }
    // With a header list node adds no Host of its own.
    if (!headers.some(([k]) => k.toLowerCase() === 'host')) headers.unshift(['host', `127.0.0.1:${port}`]);
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: opts.method ?? 'GET',
      agent: opts.agent ?? false,
      // A flat list keeps repeated headers repeated on the wire.
      headers: headers.flat(),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(opts.body);
  });
}
