/**
 * Browser navigation or API call? Only a top-level browser navigation may be sent to the login
 * page; everything else (an Authorization header, X-Requested-With, Accept without text/html,
 * a non-GET method, a fetch()/XHR per Sec-Fetch-Mode) gets a 401 it can act on.
 */
import { fullMatch } from './regex.js';
import type { JudgeRequest } from './request.js';

export function isNavigation(req: JudgeRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const h = req.headers;
  if (h['authorization'] !== undefined || h['x-requested-with'] !== undefined) return false;
  const mode = h['sec-fetch-mode'];
  if (mode !== undefined && mode !== 'navigate') return false;
  const accept = h['accept'];
  return accept?.includes('text/html') === true;
}

/**
 * A document a browser will show, of any method (a form post too): it gets an HTML page, never JSON.
 * Only a navigation (`isNavigation`, GET and HEAD) may be redirected to the login page.
 */
export function isBrowserDocument(req: JudgeRequest): boolean {
  const h = req.headers;
  if (h['authorization'] !== undefined || h['x-requested-with'] !== undefined) return false;
  const mode = h['sec-fetch-mode'];
  if (mode !== undefined && mode !== 'navigate') return false;
  return h['accept']?.includes('text/html') === true;
}

/**
 * `API_ROUTES`: whether a request's path and query (as received) match one of the patterns, so it
 * gets 401 instead of a login redirect. Undefined when there are none.
 */
export function apiRoutesTest(patterns: readonly string[]): ((req: JudgeRequest) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const res = patterns.map(fullMatch);
  return (req) => res.some((re) => re.test(req.path));
}
