/**
 * Admin revocation on the health port: `POST /admin/sessions/revoke` with a JSON or form body
 * `{"sub": …}` or `{"sid": …}` (and optionally `"iss"`, default `OIDC_PROVIDER`, or `"provider"`: a
 * `providers:` id, standing for its issuer), behind
 * `Authorization: Bearer <ADMIN_TOKEN>`. Ends the sessions everywhere (store, this process's cache,
 * the other processes' through the revocation feed) and answers `{"ended": n}`.
 *
 * `ADMIN_TOKEN` empty: the endpoint does not exist (404). A missing or wrong token: 401 with
 * `WWW-Authenticate: Bearer` (compared in constant time; never logged). 405 for other methods,
 * 415 for other bodies, 400 for a bad one, 503 when the store does not answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { codeOf } from '../errors.js';
import type { Logger } from './log.js';

export const ADMIN_REVOKE_PATH = '/admin/sessions/revoke';

export interface AdminDeps {
  /** `ADMIN_TOKEN`; empty turns the endpoint off. */
  readonly token: string;
  /** The issuer `sub`/`sid` belong to unless the request names one (`OIDC_PROVIDER`). */
  readonly issuer: string;
  /** The issuer of each provider id (`providers:`, and `default`): a request may name the provider instead of `iss`. */
  readonly providerIssuers?: ReadonlyMap<string, string>;
  /** Ends the sessions; resolves with how many ended; rejects when the store is down. */
  readonly revoke: (target: { iss: string; sub?: string; sid?: string }) => Promise<number>;
  readonly log: Logger;
}

const MAX_BODY = 8 * 1024;
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function reply(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...extra }).end(text);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

/** The request's fields from a JSON object or a form; a string describing the problem otherwise. */
function fieldsOf(body: string, contentType: string): Record<string, unknown> | string {
  if (contentType === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(body));
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : 'the body must be a JSON object';
  } catch {
    return 'the body is not valid JSON';
  }
}

function targetOf(
  fields: Record<string, unknown>,
  issuer: string,
  providers: ReadonlyMap<string, string> | undefined,
): { iss: string; sub?: string; sid?: string } | string {
  const known = providers === undefined ? ['sub', 'sid', 'iss'] : ['sub', 'sid', 'iss', 'provider'];
  const unknown = Object.keys(fields).filter((k) => !known.includes(k));
  if (unknown.length > 0) return `unknown field(s): ${unknown.join(', ')}`;
  for (const k of known) if (fields[k] !== undefined && (typeof fields[k] !== 'string' || fields[k] === '')) return `"${k}" must be a non-empty string`;
  const { sub, sid, iss, provider } = fields as { sub?: string; sid?: string; iss?: string; provider?: string };
  if ((sub === undefined) === (sid === undefined)) return 'give exactly one of "sub" and "sid"';
  if (iss !== undefined && provider !== undefined) return 'give at most one of "iss" and "provider"';
  const ofProvider = provider === undefined ? undefined : providers?.get(provider);
  if (provider !== undefined && ofProvider === undefined) return `no provider "${provider}"`;
  return { iss: iss ?? ofProvider ?? issuer, ...(sub !== undefined ? { sub } : {}), ...(sid !== undefined ? { sid } : {}) };
}

/** The route for the health server: true when it took the request. */
export function adminRoute(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = deps.token === '' ? undefined : digest(deps.token);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== ADMIN_REVOKE_PATH) return false;
    if (expected === undefined) {
      reply(res, 404, { error: 'not_found' });
      return true;
    }
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      deps.log.warn({ peer: req.socket.remoteAddress, path }, 'admin request refused: missing or wrong bearer token');
      reply(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="oidc-judge admin"' });
      return true;
    }
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
      return true;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/x-www-form-urlencoded') {
      reply(res, 415, { error: 'unsupported_media_type', error_description: 'send application/json or application/x-www-form-urlencoded' });
      return true;
    }
    void readBody(req).then(async (body) => {
      if (body === undefined) return reply(res, 400, { error: 'invalid_request', error_description: 'the body is too large' }, { connection: 'close' });
      const fields = fieldsOf(body, type);
      const target = typeof fields === 'string' ? fields : targetOf(fields, deps.issuer, deps.providerIssuers);
      if (typeof target === 'string') return reply(res, 400, { error: 'invalid_request', error_description: target });
      try {
        const ended = await deps.revoke(target);
        deps.log.info(
          { ended, by: target.sid !== undefined ? 'sid' : 'sub', ...(target.sub !== undefined ? { sub: target.sub } : {}), iss: target.iss, via: 'admin' },
          'sessions revoked',
        );
        reply(res, 200, { ended });
      } catch (e) {
        deps.log.error({ err: { name: (e as Error).name, code: codeOf(e) } }, 'admin revocation failed: the session store is unavailable');
        reply(res, 503, { error: 'unavailable', error_description: 'the session store is unavailable; try again' });
      }
    });
    return true;
  };
}
