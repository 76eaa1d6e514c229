/**
 * Browser navigation or API call? Only a top-level browser navigation may be sent to the login
 * page; everything else (an Authorization header, X-Requested-With, Accept without text/html,
 * a non-GET method, a fetch()/XHR per Sec-Fetch-Mode) gets a 401 it can act on.
 */
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
