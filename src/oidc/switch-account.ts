/**
 * "Sign in with another account", the 403 page's button: `POST <prefix>/switch-account?rd=<path>`.
 * A refused user keeps their session (unless REVOKE_SESSION_ON_FORBIDDEN); to become someone else
 * they end it here and go straight to the provider with `prompt=select_account` (when the
 * provider's discovery lists it in `prompt_values_supported`) or `prompt=login` (defined by OIDC
 * Core, so without that list the safe choice), returning to `rd` — validated like every
 * after-login target; anything unsafe returns to the site root. A plain "log in again" link would
 * only land the same user on the same 403, the provider's session signing them in silently.
 *
 * It ends a session, so it is a protected logout: a POST from a page of the same origin only
 * (`sameOriginPost`, as the browser logout); a cross-site one gets 403 and changes nothing.
 */
import { deny, type Decision, type HeaderPair } from '../judge/decision.js';
import type { JudgeRequest } from '../judge/request.js';
import { isWellFormedId } from '../sessions/ticket.js';
import { absolute, clearSessionCookie, JSON_TYPE, NO_STORE, requestOrigin, sessionCookies, type FlowDeps } from './flow.js';
import { rdOf, type Login } from './login.js';
import { sameOriginPost, type SessionEnder } from './logout.js';
import { safeRedirect } from './redirects.js';

export type SwitchAccount = (req: JudgeRequest) => Promise<Decision>;

const CROSS_SITE = JSON.stringify({ error: 'forbidden', message: 'Switching accounts needs a same-origin request' });
const UNAVAILABLE = JSON.stringify({ error: 'unavailable', message: 'Service unavailable, try again shortly' });

/** `select_account` when the provider says it supports it, else `login`. */
export function switchPrompt(metadata: Readonly<Record<string, unknown>> | undefined): 'select_account' | 'login' {
  const supported = metadata?.['prompt_values_supported'];
  return Array.isArray(supported) && supported.includes('select_account') ? 'select_account' : 'login';
}

export function createSwitchAccount(deps: FlowDeps, login: Login, end: SessionEnder): SwitchAccount {
  const { config, client } = deps;
  return async function switchAccount(req) {
    if (!sameOriginPost(req)) return deny(403, 'switch-account-cross-site', CROSS_SITE, [JSON_TYPE, NO_STORE]);
    try {
      for (const id of sessionCookies(config, req).filter(isWellFormedId)) await end(id);
    } catch {
      return deny(503, 'switch-account-unavailable', UNAVAILABLE, [JSON_TYPE, NO_STORE, ['retry-after', '5']]);
    }
    const q = req.path.indexOf('?');
    const rd = rdOf(q < 0 ? '' : req.path.slice(q + 1));
    const returnTo = (rd === null ? undefined : safeRedirect(rd, requestOrigin(req), deps.policy)) ?? absolute('/', req);
    const started = await login.startWith(req, returnTo, { prompt: switchPrompt(client.metadata) });
    if (started.kind !== 'deny' || started.status !== 302) return started;
    // The dead session cookie is cleared where we write the response ourselves, or when the login
    // sets no cookie of its own: through a proxy a deny keeps to one Set-Cookie (the stale cookie
    // finds no session, and the callback replaces it).
    const ownResponse = req.via === 'web' || req.via === 'forwarder';
    const headers: HeaderPair[] = [...started.headers];
    if (ownResponse || !headers.some(([name]) => name === 'set-cookie')) headers.push(clearSessionCookie(config));
    return deny(started.status, 'switch-account', started.body, headers);
  };
}
