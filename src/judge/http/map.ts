/**
 * Pure translation between HTTP check requests and the judge's types, for the three conventions
 * served on the judge port. The mode comes from the request path only, never from which headers
 * are present: a client behind Envoy can send any `X-Forwarded-*` / `X-Original-*` header it likes.
 *
 *   verify        nginx `auth_request`: `<verify path><original URI>`; allow → 204
 *   auth-only     oauth2-proxy's `/oauth2/auth` for nginx `auth_request`: the original URI from
 *                 `X-Original-URI` (trusted proxies), as the verify path without a suffix; allow → 202
 *   forward-auth  Traefik ForwardAuth: `X-Forwarded-Method/Proto/Host/Uri` from a trusted proxy; allow → 200
 *   http          Envoy `http_service` / Ambassador AuthService: the request itself minus the path
 *                 prefix; allow → 200 (the only status Envoy treats as allow)
 */
import { pathOf } from '../../net/url-path.js';
import { readHost } from '../host.js';
import { trustMatcher, type TrustMatcher } from '../../net/cidr.js';
import { TEXT, type HttpMode, type HttpReply } from '../reply.js';
import type { JudgeRequest } from '../request.js';
import { joinRawHeaders, requestIdOf, schemeOf } from '../node-request.js';

export { replyFor, type HttpMode, type HttpReply } from '../reply.js';

export interface HttpMapOptions {
  /** `VERIFY_AUTH_URL`: a path or an absolute URL; only its path is used. */
  readonly verifyPath: string;
  /** `FORWARD_AUTH_URL`: a path or an absolute URL; only its path is used. */
  readonly forwardAuthPath: string;
  /** `HTTP_CHECK_PATH_PREFIX`: '' or `/something` without a trailing slash. */
  readonly checkPathPrefix: string;
  /** oauth2-proxy's `/oauth2/auth` (`COMPAT_ENDPOINTS=oauth2-proxy`): judged like the verify path, allow → 202. */
  readonly authOnlyPath?: string;
  /** `TRUSTED_PROXIES`: addresses or CIDR ranges. */
  readonly trustedProxies: readonly string[];
}

/** What the mapper needs of a node `IncomingMessage`. */
export interface RawHttpRequest {
  readonly method: string | undefined;
  /** The request target as sent (`req.url`). */
  readonly url: string | undefined;
  /** `req.rawHeaders`: name, value, name, value, … as received (any case, repeats kept). */
  readonly rawHeaders: readonly string[];
  /** `socket.remoteAddress`. */
  readonly peer: string | undefined;
}

export type Mapped =
  | { readonly kind: 'judge'; readonly mode: HttpMode; readonly request: JudgeRequest }
  /** Answered without the judge (bad request, untrusted proxy). `untrustedPeer` is set for the latter. */
  | { readonly kind: 'reply'; readonly mode: HttpMode; readonly reply: HttpReply; readonly untrustedPeer?: string };

export interface HttpMap {
  readonly verifyPath: string;
  readonly forwardAuthPath: string;
  readonly trust: TrustMatcher;
  map(raw: RawHttpRequest): Mapped;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/;

function plain(status: number, body: string): HttpReply {
  return { status, headers: [TEXT], body };
}

/** A path setting reduced to what route matching needs: its path without trailing slashes. */
function routePath(setting: string, name: string): string {
  const p = pathOf(setting).replace(/\/+$/, '');
  if (!p.startsWith('/')) throw new Error(`${name}: ${JSON.stringify(setting)} must be a path or an absolute URL, and not "/"`);
  return p;
}

/** The first entry of a comma-separated header (the one the first proxy set), trimmed. */
function first(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  const s = (comma < 0 ? v : v.slice(0, comma)).trim();
  return s === '' ? undefined : s;
}

function scheme(v: string | undefined): string | undefined {
  const s = v?.toLowerCase();
  return s === 'http' || s === 'https' ? s : undefined;
}

/** `scheme://host/path?q#f` → its parts, path+query kept raw; undefined when not absolute. */
function splitAbsolute(url: string): { scheme: string; host: string; target: string } | undefined {
  const m = ABSOLUTE.exec(url);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  return { scheme: m[1]!.toLowerCase(), host: m[2]!.toLowerCase(), target: rest.startsWith('/') ? rest : `/${rest}` };
}

/** Whether `path` is `base` itself or below it (segment-aware: `/verifyx` is not below `/verify`). */
function under(path: string, base: string): boolean {
  return path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47) /* / */;
}

export function createHttpMap(options: HttpMapOptions, newId: () => string): HttpMap {
  const verifyPath = routePath(options.verifyPath, 'VERIFY_AUTH_URL');
  const forwardAuthPath = routePath(options.forwardAuthPath, 'FORWARD_AUTH_URL');
  const prefix = options.checkPathPrefix.replace(/\/+$/, '');
  const authOnlyPath = options.authOnlyPath === undefined ? undefined : routePath(options.authOnlyPath, 'COMPAT_ENDPOINTS');
  const trust = trustMatcher(options.trustedProxies);

  const bad = (mode: HttpMode, what: string): Mapped => ({ kind: 'reply', mode, reply: plain(400, `Bad request: ${what}`) });

  // Every JudgeRequest below is one object literal with the same keys in the same order (as in
  // grpc/map.ts), so the judge's code sees one object shape whichever front door built it.
  function map(raw: RawHttpRequest): Mapped {
    // Origin-form is what proxies send; absolute-form is accepted and reduced to its path.
    let target = raw.url ?? '';
    let absHost: string | undefined;
    if (target.charCodeAt(0) !== 0x2f /* / */) {
      const abs = splitAbsolute(target);
      if (abs === undefined) return { kind: 'reply', mode: 'http', reply: plain(400, 'Bad request: request target') };
      target = abs.target;
      absHost = abs.host;
    }
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const mode: HttpMode = under(path, verifyPath)
      ? 'verify'
      : path === authOnlyPath
        ? 'auth-only'
        : path === forwardAuthPath || path === `${forwardAuthPath}/`
          ? 'forward-auth'
          : 'http';

    const headers = Object.create(null) as Record<string, string>;
    if (joinRawHeaders(raw.rawHeaders, headers) > 1) {
      return { kind: 'reply', mode, reply: plain(400, 'Bad request: more than one Host header') };
    }
    const peer = raw.peer ?? '';
    const trusted = trust.trusts(peer);
    const requestId = requestIdOf(headers['x-request-id'], newId);
    const hostHeader = (headers['host'] ?? '').toLowerCase();

    if (mode === 'verify' || mode === 'auth-only') {
      const xou = trusted ? headers['x-original-url'] : undefined;
      const originalUrl = xou === undefined ? undefined : splitAbsolute(xou);
      // The original URI is what follows the verify path; never the verify path itself (defect #1).
      let judged = mode === 'auth-only' || path.slice(verifyPath.length) === '' ? undefined : target.slice(verifyPath.length);
      if (judged === undefined) {
        const uri = trusted ? headers['x-original-uri'] : undefined;
        judged = uri?.startsWith('/') ? uri : (originalUrl?.target ?? '/');
      }
      const method = (trusted ? headers['x-original-method'] : undefined) ?? 'GET';
      if (!TOKEN.test(method)) return bad(mode, 'X-Original-Method');
      const host = (trusted ? first(headers['x-forwarded-host']) : undefined) ?? originalUrl?.host ?? hostHeader;
      const proto = (trusted ? scheme(first(headers['x-forwarded-proto'])) : undefined) ?? scheme(originalUrl?.scheme) ?? 'http';
      return {
        kind: 'judge',
        mode,
        request: {
          method: method.toUpperCase(),
          scheme: proto,
          host: host.toLowerCase(),
          path: judged,
          headers,
          peer,
          requestId,
          denyStyle: 'status-only',
          via: 'verify',
        },
      };
    }

    if (mode === 'forward-auth') {
      // Without trust the X-Forwarded-* headers are the client's own words, and there is nothing
      // else to judge: fail closed instead of judging the forward-auth path.
      if (!trusted) return { kind: 'reply', mode, reply: plain(403, 'Forbidden: untrusted proxy'), untrustedPeer: peer };
      const uri = headers['x-forwarded-uri'];
      if (uri === undefined) return bad(mode, 'missing X-Forwarded-Uri');
      if (!uri.startsWith('/')) return bad(mode, 'X-Forwarded-Uri');
      const method = headers['x-forwarded-method'] ?? 'GET';
      if (!TOKEN.test(method)) return bad(mode, 'X-Forwarded-Method');
      // Traefik (and Caddy) set X-Forwarded-Host to the client's Host, never append to it: the whole
      // value is the host judged, so `a, b` stays unreadable (judge/host.ts) instead of becoming `a`.
      const host = headers['x-forwarded-host'] ?? hostHeader;
      return {
        kind: 'judge',
        mode,
        request: {
          method: method.toUpperCase(),
          scheme: scheme(first(headers['x-forwarded-proto'])) ?? 'http',
          host: host.toLowerCase(),
          path: uri,
          headers,
          peer,
          requestId,
          denyStyle: 'redirect',
          via: 'forward-auth',
        },
      };
    }

    // A server reads an absolute-form target's host instead of Host (RFC 9112 §3.2.2): they must name one host.
    if (absHost !== undefined && hostHeader !== '' && readHost(absHost)?.hostname !== readHost(hostHeader)?.hostname) {
      return bad(mode, 'the request target and Host name different hosts');
    }
    let judged = target;
    if (prefix !== '') {
      if (!target.startsWith(prefix)) return bad(mode, `path outside HTTP_CHECK_PATH_PREFIX ${prefix}`);
      const rest = target.slice(prefix.length);
      if (rest === '' || rest.startsWith('?')) judged = `/${rest}`;
      else if (rest.startsWith('/')) judged = rest;
      else return bad(mode, `path outside HTTP_CHECK_PATH_PREFIX ${prefix}`);
    }
    return {
      kind: 'judge',
      mode,
      request: {
        method: (raw.method ?? 'GET').toUpperCase(),
        scheme: schemeOf(headers, trusted, false),
        host: hostHeader,
        path: judged,
        headers,
        peer,
        requestId,
        denyStyle: 'redirect',
        via: 'http',
      },
    };
  }

  return { verifyPath, forwardAuthPath, trust, map };
}
