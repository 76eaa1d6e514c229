/**
 * Reads a signed-in user's groups from Microsoft Graph with the user's own (delegated) access
 * token: `GET /v1.0/me/transitiveMemberOf?$select=id,displayName`, following `@odata.nextLink`
 * (only to the configured Graph origin, so the token never goes elsewhere), bounded in pages and
 * groups. Only `#microsoft.graph.group` members count (not directory roles or administrative
 * units), by object id — what Entra ID puts in the `groups` claim. Every failure is a
 * `GraphGroupsError` (`groups-unavailable`) naming Graph's status and error code, never the token;
 * callers answer 503, never "no groups".
 */
import { JudgeError } from '../../errors.js';
import { HttpClientError, type HttpRequestInit, type HttpResponse } from '../../net/http-client.js';

export class GraphGroupsError extends JudgeError<'groups-unavailable'> {
  override readonly name = 'GraphGroupsError';
  constructor(
    message: string,
    /** Seconds Graph asked us to wait (`Retry-After` on 429/503), if it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super('groups-unavailable', message);
  }
}

export interface GraphGroupsOptions {
  /** Graph's base URL, e.g. `https://graph.microsoft.com`. */
  readonly baseUrl: string;
  readonly maxGroups: number;
  readonly maxPages: number;
  readonly http: { request(url: string | URL, init?: HttpRequestInit): Promise<HttpResponse> };
}

interface Page {
  readonly value?: unknown;
  readonly '@odata.nextLink'?: unknown;
}

/** `Retry-After` in seconds (delta form; an HTTP date is read too). */
export function retryAfterSeconds(v: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(v) ? v[0] : v;
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Graph's error body `{"error":{"code","message"}}`: the code, if it is one. */
function graphErrorCode(res: HttpResponse): string {
  try {
    const code = (JSON.parse(res.body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code.slice(0, 64) : 'no error code';
  } catch {
    return 'no error body';
  }
}

/** The user's group object ids, in Graph's order. Throws `GraphGroupsError`. */
export async function readGraphGroups(accessToken: string, opts: GraphGroupsOptions, nowMs: number): Promise<readonly string[]> {
  const base = new URL(opts.baseUrl.replace(/\/+$/, '') + '/');
  let next: URL | undefined = new URL('v1.0/me/transitiveMemberOf?$select=id,displayName&$top=999', base);
  const groups: string[] = [];
  for (let page = 0; next !== undefined; page++) {
    if (page >= opts.maxPages) throw new GraphGroupsError(`more than GRAPH_MAX_PAGES (${opts.maxPages}) pages of groups`);
    let res: HttpResponse;
    try {
      res = await opts.http.request(next, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, span: 'entra.graph' });
    } catch (e) {
      throw new GraphGroupsError(`Graph could not be reached (${e instanceof HttpClientError ? e.code : (e as Error).name})`);
    }
    if (res.status !== 200) {
      const wait = res.status === 429 || res.status >= 500 ? retryAfterSeconds(res.headers['retry-after'], nowMs) : undefined;
      throw new GraphGroupsError(`Graph answered ${res.status} ${graphErrorCode(res)}`, wait);
    }
    let body: Page;
    try {
      body = JSON.parse(res.body.toString('utf8')) as Page;
    } catch {
      throw new GraphGroupsError('Graph answered 200 without JSON');
    }
    if (!Array.isArray(body.value)) throw new GraphGroupsError('Graph answered 200 without a "value" list');
    for (const m of body.value as unknown[]) {
      const o = m as { '@odata.type'?: unknown; id?: unknown } | null;
      if (o?.['@odata.type'] === '#microsoft.graph.group' && typeof o.id === 'string' && o.id !== '') groups.push(o.id);
    }
    if (groups.length > opts.maxGroups) throw new GraphGroupsError(`more than GRAPH_MAX_GROUPS (${opts.maxGroups}) groups`);
    const link = body['@odata.nextLink'];
    if (link === undefined || link === null) next = undefined;
    else {
      let u: URL | undefined;
      try {
        u = typeof link === 'string' ? new URL(link) : undefined;
      } catch {
        u = undefined;
      }
      // The token goes to Graph only: a next link elsewhere is refused, not followed.
      if (u === undefined || u.origin !== base.origin) throw new GraphGroupsError('Graph’s @odata.nextLink points away from GRAPH_URL');
      next = u;
    }
  }
  return Object.freeze([...new Set(groups)]);
}
