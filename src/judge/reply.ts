/**
 * HTTP answers for the judge's decisions (see `replyFor`), in the three conventions the judge's
 * HTTP port serves (http/map.ts); the ingress forwarder answers its denials with the same mapping.
 * Allow replies for shared header lists are built once.
 */
import type { Decision, HeaderPair } from './decision.js';

/** `auth-only`: oauth2-proxy's `/oauth2/auth` (nginx `auth_request`), allow → 202 (COMPAT_ENDPOINTS). */
export type HttpMode = 'verify' | 'auth-only' | 'forward-auth' | 'http';

export interface HttpReply {
  readonly status: number;
  readonly headers: readonly HeaderPair[];
  readonly body: string;
}

export const TEXT: HeaderPair = ['content-type', 'text/plain; charset=utf-8'];

/** `list.join(', ')`, once per list: the lists to remove are built at start-up and shared by every allow. */
const joinedLists = new WeakMap<readonly string[], string>();
function joined(list: readonly string[]): string {
  let s = joinedLists.get(list);
  if (s === undefined) {
    s = list.join(', ');
    joinedLists.set(list, s);
  }
  return s;
}

function allowReply(
  mode: HttpMode,
  upstream: readonly HeaderPair[],
  remove: readonly string[],
  add: readonly HeaderPair[],
  echo?: readonly HeaderPair[],
): HttpReply {
  const headers: HeaderPair[] = [...upstream, ...add];
  if (mode === 'http' && remove.length > 0) headers.push(['x-envoy-auth-headers-to-remove', joined(remove)]);
  // nginx (`proxy_set_header Cookie $judge_cookie`) and Traefik (`Cookie` in authResponseHeaders)
  // replace the upstream's Cookie and Authorization with this answer's, whatever it is: echo what stays.
  if (mode !== 'http' && echo !== undefined) for (const e of echo) if (!upstream.some(([n]) => n === e[0])) headers.push(e);
  return { status: mode === 'verify' ? 204 : mode === 'auth-only' ? 202 : 200, headers, body: '' };
}

interface AllowRemembered {
  readonly remove: readonly string[];
  readonly add: readonly HeaderPair[];
  readonly reply: HttpReply;
}

const allowReplies: Record<HttpMode, WeakMap<readonly HeaderPair[], AllowRemembered>> = {
  verify: new WeakMap(),
  'auth-only': new WeakMap(),
  'forward-auth': new WeakMap(),
  http: new WeakMap(),
};

/** Whether a deny's status is unusable in `mode`: not a final status, or one the proxy reads as "allow". */
function unsafeDenyStatus(mode: HttpMode, status: number): boolean {
  if (!Number.isInteger(status) || status < 200 || status > 599) return true;
  return mode === 'http' ? status === 200 : status < 300;
}

/**
 * The answer for a decision. Allow: 204 (verify) or 200, with the headers to set upstream and the
 * client response headers (a refreshed cookie); Envoy also gets `x-envoy-auth-headers-to-remove`
 * (`cookie` among them when only the judge's cookies were in it), nginx and Traefik the `Cookie`
 * and `AUTH_HEADER` the upstream may see.
 * Deny: its status, headers and body verbatim — except that a deny whose status the proxy would
 * read as "allow" (a 200 for Envoy, any 2xx for nginx and Traefik), or that is no final status,
 * becomes 403: a denial never turns into an allow at the edge. A reply returned frozen is shared
 * between checks.
 */
export function replyFor(mode: HttpMode, decision: Decision): HttpReply {
  if (decision.kind === 'allow') {
    const { upstreamHeaders: upstream, removeHeaders: remove, responseHeaders: add, echo } = decision;
    if (mode !== 'http' && echo !== undefined && echo.length > 0) return allowReply(mode, upstream, remove, add, echo);
    if (!Object.isFrozen(upstream) || !Object.isFrozen(remove) || !Object.isFrozen(add)) return allowReply(mode, upstream, remove, add);
    // Shared lists (a cached session or token, see `IdentityHeaders.forAllow`): one frozen reply each.
    const r = allowReplies[mode].get(upstream);
    if (r !== undefined && r.remove === remove && r.add === add) return r.reply;
    const reply = allowReply(mode, upstream, remove, add);
    Object.freeze(reply.headers);
    allowReplies[mode].set(upstream, { remove, add, reply: Object.freeze(reply) });
    return reply;
  }
  const status = unsafeDenyStatus(mode, decision.status) ? 403 : decision.status;
  const hasType = decision.headers.some(([n]) => n.toLowerCase() === 'content-type');
  const headers = decision.body !== '' && !hasType ? [...decision.headers, TEXT] : decision.headers;
  return { status, headers, body: decision.body };
}
