/**
 * The deny responses the judge gives, in one place: JSON for API clients, a small escaped HTML
 * page for browser navigations (401, 403, 503). Themed pages replace `Pages` later; the statuses
 * and headers stay. No body ever carries internal detail (the reason goes to logs and metrics only).
 */
import type { Deny, HeaderPair, Identity } from './decision.js';
import type { StepUpNeed } from './ports.js';
import { deny } from './decision.js';
import type { JudgeRequest } from './request.js';
import { isBrowserDocument } from './browser.js';

export interface Pages {
  /**
   * Body of the 403 page for browsers. Must escape everything it shows. `switchAccount`: where a
   * "sign in with another account" form posts (a signed-in browser user whose login flow exists).
   */
  forbidden(user: string, reason: string, switchAccount?: string): string;
  /**
   * Body of the "please sign in" page for a browser that is not sent to the login page (a form
   * post, no login flow): with `signIn`, a button that starts a sign-in there.
   */
  unauthenticated(signIn?: string): string;
  /** Body of the 503 "temporarily unavailable" page for browsers: provider or store down, check timeout; `retry`: where "Try again" goes. */
  unavailable(retry?: string): string;
  /** The headers every page of ours carries (security headers, a CSP fitted to this page); absent: none. */
  headersFor?(html: string): readonly HeaderPair[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const plainPages: Pages = {
  forbidden: (user, reason, switchAccount) =>
    `<!doctype html><meta charset="utf-8"><title>Access denied</title><h1>Access denied</h1><p>${escapeHtml(reason)}</p><p>You are signed in as ${escapeHtml(user)}.</p>` +
    (switchAccount === undefined
      ? ''
      : `<form method="post" action="${escapeHtml(switchAccount)}"><button type="submit">Sign in with another account</button></form>`),
  unauthenticated: (signIn) =>
    '<!doctype html><meta charset="utf-8"><title>Sign-in required</title><h1>Sign-in required</h1><p>This page needs you to sign in.</p>' +
    (signIn === undefined ? '' : `<p><a href="${escapeHtml(signIn)}">Sign in</a></p>`),
  unavailable: (retry) =>
    '<!doctype html><meta charset="utf-8"><title>Temporarily unavailable</title><h1>Temporarily unavailable</h1><p>Please try again in a moment.</p>' +
    (retry === undefined ? '' : `<p><a href="${escapeHtml(retry)}">Try again</a></p>`),
};

/** What a person refused by a rule without a `description` reads on the 403 page. */
export const FORBIDDEN_WORDS = 'Your account does not have access to this page.';

const JSON_TYPE: HeaderPair = ['content-type', 'application/json'];
const HTML_TYPE: HeaderPair = ['content-type', 'text/html; charset=utf-8'];
const NO_STORE: HeaderPair = ['cache-control', 'no-store'];
const RETRY_AFTER: HeaderPair = ['retry-after', '5'];
const REALM = 'Bearer realm="oidc-judge"';

const json = (error: string, message: string): string => JSON.stringify({ error, message });

/** Strips what cannot go inside a quoted-string of WWW-Authenticate. */
const quoted = (s: string): string => s.replace(/["\\\r\n\x00-\x1f]/g, '').slice(0, 200);

export interface Responses {
  unauthenticated(req: JudgeRequest): Deny;
  invalidToken(req: JudgeRequest, authenticator: string, reason: string): Deny;
  /** `reason` is logged (the deny's detail) and told to API clients; a browser's page shows `message`, or plain words. */
  forbidden(req: JudgeRequest, identity: Identity, reason: string, message?: string): Deny;
  authzError(req: JudgeRequest, identity: Identity): Deny;
  unavailable(req: JudgeRequest, reason: string): Deny;
  /**
   * 401 `insufficient_user_authentication` (RFC 9470): what a stronger sign-in would need. A mode
   * without it (the forwarder's verify and kube modes, which have no access rules) answers 403.
   */
  insufficientAuthentication?(req: JudgeRequest, identity: Identity, need: StepUpNeed, reason: string): Deny;
}

export interface ResponsesOptions {
  /**
   * The login flow's "switch account" route (`<prefix>/switch-account`): a session user's 403 page
   * offers to sign in as someone else there, coming back to the refused page. Absent: no offer.
   */
  readonly switchAccountPath?: string;
  /** `<prefix>/login`: the "Sign in" button of the page a browser gets when it cannot be redirected (a form post). */
  readonly loginPath?: string;
}

/** A path a browser may be sent back to: absolute-path only (no `//host`, no backslash tricks). */
const localPath = (p: string): boolean => p.startsWith('/') && !p.startsWith('//') && !p.includes('\\');

/**
 * Where "Sign in" returns to: the page itself when it was a GET; after a form post, the page that
 * held the form when the browser said so (`Referer` on this host), else the site root.
 */
function returnPathOf(req: JudgeRequest): string {
  if (req.method === 'GET' || req.method === 'HEAD') return localPath(req.path) ? req.path : '/';
  const referer = req.headers['referer'];
  if (referer === undefined) return '/';
  try {
    const u = new URL(referer);
    return u.host === req.host && localPath(u.pathname) ? u.pathname + u.search : '/';
  } catch {
    return '/';
  }
}

/** The form action for `req`: the switch route, with the refused path and query as `rd` (validated there). */
function switchAccountAction(path: string | undefined, req: JudgeRequest, identity: Identity): string | undefined {
  if (path === undefined || identity.authenticator !== 'session' || !req.path.startsWith('/') || req.path.startsWith('//')) return undefined;
  return `${path}?rd=${encodeURIComponent(req.path)}`;
}

export function createResponses(pages: Pages = plainPages, opts: ResponsesOptions = {}): Responses {
  const unauthJson = json('unauthenticated', 'Authentication required');
  const unauthHeaders: readonly HeaderPair[] = [JSON_TYPE, NO_STORE, ['www-authenticate', REALM]];
  const unavailableBody = json('unavailable', 'Service unavailable, try again shortly');
  /** An HTML deny: the page's type and cache headers, then the security headers every page of ours has. */
  const page = (body: string, ...headers: HeaderPair[]): HeaderPair[] => [HTML_TYPE, NO_STORE, ...headers, ...(pages.headersFor?.(body) ?? [])];
  const signInOf = (req: JudgeRequest): string | undefined =>
    opts.loginPath === undefined ? undefined : `${opts.loginPath}?rd=${encodeURIComponent(returnPathOf(req))}`;
  return {
    unauthenticated(req) {
      if (isBrowserDocument(req)) {
        const body = pages.unauthenticated(signInOf(req));
        return deny(401, 'no-credentials', body, page(body, ['www-authenticate', REALM]));
      }
      return deny(401, 'no-credentials', unauthJson, unauthHeaders);
    },
    invalidToken(_req, authenticator, reason) {
      return deny(
        401,
        'invalid-token',
        json('invalid_token', reason),
        [JSON_TYPE, NO_STORE, ['www-authenticate', `${REALM}, error="invalid_token", error_description="${quoted(reason)}"`]],
        { authenticator },
      );
    },
    forbidden(req, identity, reason, message) {
      const extra = { identity, authenticator: identity.authenticator, detail: reason };
      if (isBrowserDocument(req)) {
        // People read plain words (a rule's description); which rule refused is in the log.
        const body = pages.forbidden(identity.user, message ?? FORBIDDEN_WORDS, switchAccountAction(opts.switchAccountPath, req, identity));
        return deny(403, 'forbidden', body, page(body), extra);
      }
      return deny(403, 'forbidden', json('forbidden', message ?? reason), [JSON_TYPE, NO_STORE], extra);
    },
    authzError(_req, identity) {
      return deny(403, 'authz-error', json('forbidden', 'Authorization could not be completed'), [JSON_TYPE, NO_STORE], {
        identity,
        authenticator: identity.authenticator,
      });
    },
    insufficientAuthentication(_req, identity, need, reason) {
      let challenge = `${REALM}, error="insufficient_user_authentication", error_description="${quoted(reason)}"`;
      if (need.acrValues !== undefined) challenge += `, acr_values="${quoted(need.acrValues.join(' '))}"`;
      if (need.maxAge !== undefined) challenge += `, max_age="${need.maxAge}"`;
      return deny(401, 'step-up', json('insufficient_user_authentication', reason), [JSON_TYPE, NO_STORE, ['www-authenticate', challenge]], {
        identity,
        authenticator: identity.authenticator,
        detail: need.missing.join(','),
      });
    },
    unavailable(req, reason) {
      if (isBrowserDocument(req)) {
        const body = pages.unavailable(returnPathOf(req));
        return deny(503, 'unavailable', body, page(body, RETRY_AFTER), { detail: reason });
      }
      return deny(503, 'unavailable', unavailableBody, [JSON_TYPE, NO_STORE, RETRY_AFTER], { detail: reason });
    },
  };
}
