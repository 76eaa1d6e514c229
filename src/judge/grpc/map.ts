/**
 * Pure conversion between Envoy ext_authz v3 messages (as @grpc/proto-loader decodes/encodes them with
 * `{keepCase:true, longs:String, enums:String, oneofs:true}`, with or without `defaults`: every field
 * read here may be absent or null) and the judge's own types.
 * No I/O, no policy. This is the gRPC hot path: constant parts of responses are built once.
 */
import { randomUUID } from 'node:crypto';
import { requestIdOf } from '../node-request.js';
import type { Decision, HeaderPair } from '../decision.js';
import type { JudgeRequest } from '../request.js';
import { candidate, CLEAN } from '../strip.js';

// ---- CheckRequest, as decoded (only what we read; everything may be null/absent) ----

interface SocketAddressMsg {
  readonly address?: string | null;
}
interface AddressMsg {
  readonly socket_address?: SocketAddressMsg | null;
  readonly pipe?: { readonly path?: string | null } | null;
}
interface PeerMsg {
  readonly address?: AddressMsg | null;
}
interface HeaderValueMsg {
  readonly key?: string | null;
  readonly value?: string | null;
  readonly raw_value?: Uint8Array | string | null;
}
export interface HttpRequestMsg {
  readonly id?: string | null;
  readonly method?: string | null;
  readonly headers?: Readonly<Record<string, string>> | null;
  readonly header_map?: { readonly headers?: readonly HeaderValueMsg[] | null } | null;
  readonly path?: string | null;
  readonly host?: string | null;
  readonly scheme?: string | null;
}
export interface CheckRequestMsg {
  readonly attributes?: {
    readonly source?: PeerMsg | null;
    readonly request?: { readonly http?: HttpRequestMsg | null } | null;
  } | null;
}

// ---- CheckResponse, as we encode it ----

export interface BoolValueMsg {
  readonly value: boolean;
}
export interface HeaderValueOptionMsg {
  readonly header: { readonly key: string; readonly value: string };
  readonly append: BoolValueMsg;
}
export interface OkHttpResponseMsg {
  readonly headers: readonly HeaderValueOptionMsg[];
  readonly headers_to_remove: readonly string[];
  readonly response_headers_to_add: readonly HeaderValueOptionMsg[];
}
export interface DeniedHttpResponseMsg {
  readonly status: { readonly code: number };
  readonly headers: readonly HeaderValueOptionMsg[];
  readonly body: string;
}
export type CheckResponseMsg =
  | { readonly status: { readonly code: 0 }; readonly ok_response: OkHttpResponseMsg }
  | { readonly status: { readonly code: number }; readonly denied_response: DeniedHttpResponseMsg };

export type GrpcVia = 'grpc' | 'grpc-v2';

/** google.rpc.Code values we answer with. */
export const RpcCode = { OK: 0, PERMISSION_DENIED: 7, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

const APPEND_FALSE: BoolValueMsg = Object.freeze({ value: false });
const APPEND_TRUE: BoolValueMsg = Object.freeze({ value: true });
const NONE: readonly never[] = Object.freeze([]);
const STATUS_OK = Object.freeze({ code: RpcCode.OK });
const STATUS_PERMISSION_DENIED = Object.freeze({ code: RpcCode.PERMISSION_DENIED });
const STATUS_UNAVAILABLE = Object.freeze({ code: RpcCode.UNAVAILABLE });
const STATUS_UNAUTHENTICATED = Object.freeze({ code: RpcCode.UNAUTHENTICATED });

/** HttpStatus objects, one per HTTP status number, created on first use. */
const httpStatuses = new Map<number, { readonly code: number }>();
function httpStatus(code: number): { readonly code: number } {
  let s = httpStatuses.get(code);
  if (s === undefined) {
    s = Object.freeze({ code });
    httpStatuses.set(code, s);
  }
  return s;
}

/** The google.rpc code that goes with an HTTP deny status (Envoy only looks at "non-zero"). */
export function rpcCodeFor(httpStatusCode: number): number {
  if (httpStatusCode === 401 || httpStatusCode === 302 || httpStatusCode === 303 || httpStatusCode === 307) {
    return RpcCode.UNAUTHENTICATED;
  }
  if (httpStatusCode >= 500) return RpcCode.UNAVAILABLE;
  return RpcCode.PERMISSION_DENIED;
}

function rpcStatusFor(httpStatusCode: number): { readonly code: number } {
  const code = rpcCodeFor(httpStatusCode);
  return code === RpcCode.UNAUTHENTICATED ? STATUS_UNAUTHENTICATED : code === RpcCode.UNAVAILABLE ? STATUS_UNAVAILABLE : STATUS_PERMISSION_DENIED;
}

function options(pairs: readonly HeaderPair[], appendFor: (name: string) => BoolValueMsg): readonly HeaderValueOptionMsg[] {
  if (pairs.length === 0) return NONE;
  const out: HeaderValueOptionMsg[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!;
    out[i] = { header: { key, value }, append: appendFor(key) };
  }
  return out;
}

const alwaysSet = (): BoolValueMsg => APPEND_FALSE;
/** Response headers: several `set-cookie` must coexist, everything else is set. */
const responseAppend = (name: string): BoolValueMsg => (name === 'set-cookie' ? APPEND_TRUE : APPEND_FALSE);

interface OkRemembered {
  readonly remove: readonly string[];
  readonly add: readonly HeaderPair[];
  readonly msg: CheckResponseMsg;
}

/**
 * OK responses by the (frozen, shared) list of upstream headers of the allow: a cached session or
 * token allows check after check with the very same lists (`IdentityHeaders.forAllow`), so the
 * response is built once — and, being frozen, encoded once (see grpc.ts).
 */
const okResponses = new WeakMap<readonly HeaderPair[], OkRemembered>();

function okResponse(upstream: readonly HeaderPair[], remove: readonly string[], add: readonly HeaderPair[]): CheckResponseMsg {
  return {
    status: STATUS_OK,
    ok_response: {
      headers: options(upstream, alwaysSet),
      headers_to_remove: remove,
      response_headers_to_add: options(add, responseAppend),
    },
  };
}

/**
 * Decision → CheckResponse: `status.code` always a number, exactly one `http_response` member.
 * A response returned frozen is shared between checks (the same decision content gives the same
 * object); one returned unfrozen belongs to this check alone.
 */
export function toCheckResponse(decision: Decision): CheckResponseMsg {
  if (decision.kind === 'allow') {
    const { upstreamHeaders: upstream, removeHeaders: remove, responseHeaders: add } = decision;
    if (!Object.isFrozen(upstream) || !Object.isFrozen(remove) || !Object.isFrozen(add)) return okResponse(upstream, remove, add);
    const r = okResponses.get(upstream);
    if (r !== undefined && r.remove === remove && r.add === add) return r.msg;
    const msg = deepFreeze(okResponse(upstream, remove, add));
    okResponses.set(upstream, { remove, add, msg });
    return msg;
  }
  return {
    status: rpcStatusFor(decision.status),
    denied_response: { status: httpStatus(decision.status), headers: options(decision.headers, alwaysSet), body: decision.body },
  };
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The answer when the judge failed: a 503 deny (never an allow, never a gRPC error that fail-open could turn into one). */
export const UNAVAILABLE_RESPONSE: CheckResponseMsg = Object.freeze({
  status: STATUS_UNAVAILABLE,
  denied_response: Object.freeze({ status: httpStatus(503), headers: NONE, body: 'Service unavailable' }),
});

/** The answer to a check that carries no HTTP request (the TCP network filter): 403 without a body. */
export const NO_HTTP_RESPONSE: CheckResponseMsg = Object.freeze({
  status: STATUS_PERMISSION_DENIED,
  denied_response: Object.freeze({ status: httpStatus(403), headers: NONE, body: '' }),
});

/**
 * The answer to bytes that are no CheckRequest: 403, like any check we cannot read — a gRPC error
 * here would be turned into an allow by Envoy's `failure_mode_allow: true`.
 */
export const MALFORMED_RESPONSE: CheckResponseMsg = Object.freeze({
  status: STATUS_PERMISSION_DENIED,
  denied_response: Object.freeze({ status: httpStatus(403), headers: NONE, body: 'Forbidden' }),
});

// ---- CheckRequest → JudgeRequest ----

function lowerCaseCopy(src: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let clean = true;
  for (const key in src) {
    const value = src[key];
    if (typeof value !== 'string') continue;
    const name = key.toLowerCase();
    out[name] = value;
    if (clean && candidate(name)) clean = false;
  }
  if (clean) (out as Record<symbol, unknown>)[CLEAN] = true;
  return out;
}

const utf8 = new TextDecoder();

function fromHeaderMap(list: readonly HeaderValueMsg[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let clean = true;
  for (const h of list) {
    if (!h.key) continue;
    const key = h.key.toLowerCase();
    const raw = h.raw_value;
    const value = raw && raw.length > 0 ? (typeof raw === 'string' ? raw : utf8.decode(raw)) : (h.value ?? '');
    const prev = out[key];
    out[key] = prev === undefined ? value : prev + (key === 'cookie' ? '; ' : ', ') + value;
    if (clean && candidate(key)) clean = false;
  }
  if (clean) (out as Record<symbol, unknown>)[CLEAN] = true;
  return out;
}

function hasKeys(map: object): boolean {
  for (const _key in map) return true;
  return false;
}

/** `headers`, or — when Envoy sent raw headers (`encode_raw_headers`) — the same shape built from `header_map`. */
function headersOf(http: HttpRequestMsg): Record<string, string> {
  const map = http.headers;
  if (map && hasKeys(map)) return lowerCaseCopy(map);
  const raw = http.header_map?.headers;
  return raw && raw.length > 0 ? fromHeaderMap(raw) : (Object.create(null) as Record<string, string>);
}

function firstToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const comma = value.indexOf(',');
  return (comma < 0 ? value : value.slice(0, comma)).trim().toLowerCase() || undefined;
}

function peerOf(check: CheckRequestMsg): string {
  const address = check.attributes?.source?.address;
  return address?.socket_address?.address || address?.pipe?.path || '';
}

/**
 * CheckRequest → JudgeRequest, or `undefined` when the check carries no HTTP request (TCP network
 * filter), which the server denies without asking the judge. `fallbackPeer` is used when Envoy sent
 * no source address (e.g. the transport peer of the call).
 */
export function toJudgeRequest(check: CheckRequestMsg, via: GrpcVia, fallbackPeer = ''): JudgeRequest | undefined {
  const http = check.attributes?.request?.http;
  if (!http) return undefined;
  const headers = headersOf(http);
  return {
    method: (http.method || headers[':method'] || 'GET').toUpperCase(),
    scheme: http.scheme?.toLowerCase() || firstToken(headers['x-forwarded-proto']) || 'http',
    host: (http.host || headers[':authority'] || headers['host'] || '').toLowerCase(),
    path: http.path || headers[':path'] || '/',
    headers,
    peer: peerOf(check) || fallbackPeer,
    requestId: requestIdOf(headers['x-request-id'] || http.id || undefined, randomUUID),
    denyStyle: 'redirect',
    via,
  };
}
