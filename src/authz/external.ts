/**
 * `EXTERNAL_AUTHZ_URL`: every authenticated request is POSTed there as JSON, in oidc-authservice's
 * shape — `timestamp` (RFC 3339), `user` {`name`, `id`, `groups`, `extra` {"auth-method": […]},
 * `claims`: the *unverified* payload of the `Authorization` bearer when it is a JWT, else null},
 * `request` {`host`, `port`, `path`, `method`} — and the answer maps as there: 2xx allows, 401/403
 * denies with the response body (bounded text) as the reason the 403 page shows, escaped.
 * Different on purpose: `path` is the original request's (normalized) path, never the verify
 * path — and an ambiguous request is asked about once per reading (`/admin/../x` as `/x` and as
 * `/admin/../x`, see judge/target.ts), all of which must be allowed; `port` comes from the Host header, else the scheme (443 for https, not always 80);
 * `groups` is always a list; any other status, a network error, a redirect, an oversized body or
 * no answer within `EXTERNAL_AUTHZ_TIMEOUT` is an `error` (fail closed, 403), never an allow;
 * `CA_BUNDLE` is trusted (the HttpClient given carries it).
 */
import type { Clock } from '../clock.js';
import type { Identity } from '../judge/ports.js';
import { header, type JudgeRequest } from '../judge/ports.js';
import { loggableUrl, type HttpClient } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import { bearerFrom } from '../judge/ports.js';
import { ALLOW, type Authorizer, type AuthzOutcome, type Target } from '../judge/ports.js';

/** Longest deny reason kept from the authorizer's body, in characters. */
export const MAX_REASON_LENGTH = 1000;
/** Largest response body read from the authorizer, in bytes (a larger one is an error). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface ExternalAuthzBody {
  readonly timestamp: string;
  readonly user: {
    readonly name: string;
    readonly id: string;
    readonly groups: readonly string[];
    readonly extra: Readonly<Record<string, readonly string[]>>;
    readonly claims: Readonly<Record<string, unknown>> | null;
  };
  readonly request: { readonly host: string; readonly port: number; readonly path: string; readonly method: string };
}

/** Go's `time.RFC3339` in UTC: `2026-01-01T12:00:00Z` (no fractional seconds). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The unverified payload of a JWT-shaped value (≥ 3 dot-separated parts, a JSON object in the second), as oidc-authservice read it. */
export function unverifiedClaims(token: string | undefined): Record<string, unknown> | null {
  if (token === undefined) return null;
  const parts = token.split('.');
  if (parts.length < 3 || parts[1] === undefined || !/^[A-Za-z0-9_-]*$/.test(parts[1])) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The port of the original request: from the Host header (`h:8443`, `[::1]:8443`), else the scheme's default. */
export function portOf(host: string, scheme: string): number {
  const m = host.startsWith('[') ? /^\[[^\]]*\]:(\d{1,5})$/.exec(host) : /^[^:]*:(\d{1,5})$/.exec(host);
  const n = m ? Number(m[1]) : NaN;
  if (n >= 1 && n <= 65535) return n;
  return scheme.toLowerCase() === 'https' ? 443 : 80;
}

export function externalAuthzBody(identity: Identity, target: Target, req: JudgeRequest, nowMs: number): ExternalAuthzBody {
  return {
    timestamp: rfc3339(nowMs),
    user: {
      name: identity.user,
      id: identity.uid ?? '',
      groups: identity.groups,
      extra: { 'auth-method': [identity.method] },
      claims: unverifiedClaims(bearerFrom(header(req, 'authorization'))),
    },
    request: { host: target.hostname, port: portOf(req.host, req.scheme), path: target.path, method: req.method },
  };
}

/** A deny reason from a response body: UTF-8 text, at most `MAX_REASON_LENGTH` characters. */
export function reasonFrom(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text === '') return 'denied by the external authorizer';
  const chars = Array.from(text);
  return chars.length > MAX_REASON_LENGTH ? `${chars.slice(0, MAX_REASON_LENGTH).join('')}…` : text;
}

export interface ExternalAuthzOptions {
  /** `EXTERNAL_AUTHZ_URL`. */
  readonly url: string;
  /** Built with `EXTERNAL_AUTHZ_TIMEOUT`, `CA_BUNDLE` and `MAX_RESPONSE_BYTES`. */
  readonly http: Pick<HttpClient, 'request'>;
  readonly clock: Clock;
  readonly log: Logger;
}

export function externalAuthorizer(opts: ExternalAuthzOptions): Authorizer {
  const where = loggableUrl(opts.url);
  const error = (reason: string): AuthzOutcome => {
    opts.log.warn({ url: where, reason }, 'external authorizer failed: request refused');
    return { kind: 'error', reason };
  };
  return {
    name: 'external',
    /** Every reading of an ambiguous request is asked about (judge/target.ts): all must allow. */
    async authorize(identity, target, req) {
      const out = await ask(identity, target, req);
      if (out.kind !== 'allow' || target.readings === undefined) return out;
      for (const r of target.readings) {
        const other = await ask(identity, { method: target.method, hostname: r.hostname, path: r.path, ambiguous: true }, req);
        if (other.kind !== 'allow') return other;
      }
      return out;
    },
  };

  /** One call: 2xx allows, 401/403 deny with the body as the reason, anything else is an error. */
  async function ask(identity: Identity, target: Target, req: JudgeRequest): Promise<AuthzOutcome> {
    const body = JSON.stringify(externalAuthzBody(identity, target, req, opts.clock.now()));
    let res;
    try {
      res = await opts.http.request(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/plain, application/json;q=0.9, */*;q=0.8' },
        body,
        span: 'authz.external',
      });
    } catch (e) {
      return error(`external authorizer: ${(e as { code?: string }).code ?? (e as Error).name}`);
    }
    if (res.status >= 200 && res.status <= 299) return ALLOW;
    if (res.status === 401 || res.status === 403) {
      // The authorizer's body is written for the person refused: it is shown as it is (escaped).
      const reason = reasonFrom(res.body);
      return { kind: 'deny', reason, message: reason };
    }
    return error(`external authorizer answered ${res.status}`);
  }
}
