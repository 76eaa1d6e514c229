/**
 * Serving a public JSON document (OIDC discovery, a JWKS) the way caches and relying parties
 * expect: `Content-Type: application/json`, `Cache-Control: public, max-age=N`, `Expires`, a strong
 * `ETag` (the quoted hex SHA-256 of the exact body, so every replica gives the same value for the
 * same bytes), `304 Not Modified` for a matching `If-None-Match`, `HEAD` without a body, and
 * `405` with `Allow: GET, HEAD` for other methods. Used by the metadata gateway and for our own
 * published keys (egress signer).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface JsonDocument {
  readonly body: Buffer;
  /** Strong entity tag: `"<hex sha-256 of body>"`. */
  readonly etag: string;
}

export interface ServedJsonDocument extends JsonDocument {
  /** `Cache-Control: public, max-age=<this>` and `Expires` = now + this. */
  readonly maxAgeSeconds: number;
  /** Now, in milliseconds since the epoch (from the caller's clock). */
  readonly nowMs: number;
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('hex')}"`;
}

/** The document for a value: 2-space indented when `pretty` (key order kept), else compact. */
export function jsonDocument(value: unknown, pretty = true): JsonDocument {
  const body = Buffer.from(JSON.stringify(value, null, pretty ? 2 : undefined) ?? 'null', 'utf8');
  return { body, etag: etagOf(body) };
}

/** The document for bytes served as they are (already valid JSON). */
export function jsonDocumentOf(body: Buffer): JsonDocument {
  return { body, etag: etagOf(body) };
}

/**
 * True when an `If-None-Match` value matches `etag`: `*`, or one of the listed tags by the weak
 * comparison RFC 9110 §13.1.2 prescribes for this header (a `W/` prefix is ignored).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  for (const part of header.split(',')) {
    const t = part.trim();
    if (t === '*' || t.replace(/^W\//, '') === bare) return true;
  }
  return false;
}

/** Answers `req` with the document (200, 304 or, for methods other than GET and HEAD, 405). */
export function serveJsonDocument(req: IncomingMessage, res: ServerResponse, doc: ServedJsonDocument): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'content-length': 18 }).end('Method not allowed');
    return;
  }
  const maxAge = Math.max(0, Math.floor(doc.maxAgeSeconds));
  // A 304 carries the validators and freshness a 200 would (RFC 9110 §15.4.5), no content headers.
  const headers: Record<string, string | number> = {
    'cache-control': `public, max-age=${maxAge}`,
    expires: new Date(doc.nowMs + maxAge * 1000).toUTCString(),
    etag: doc.etag,
  };
  if (ifNoneMatchMatches(req.headers['if-none-match'], doc.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  headers['content-type'] = 'application/json';
  headers['x-content-type-options'] = 'nosniff';
  headers['content-length'] = doc.body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : doc.body);
}
