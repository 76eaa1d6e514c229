/**
 * `GET <prefix>/api/login?redirect_uri=http://127.0.0.1:<port>/…&code_challenge=…&code_challenge_method=S256[&state=…][&client_name=…]`:
 * a program's login (RFC 8252 style). A browser without a session runs the ordinary sign-in, whose
 * return is this very URL; with its session, the user is asked to approve the program (RFC 8252
 * §8.6: no silent approval, since any local process can name a loopback address) — a form POST to
 * the same path carrying a token bound to their session and to this request (CSRF). Approved, the
 * browser goes back to the program's loopback address with a one-time code (`codes.ts`) and the
 * program's `state`; refused, with `error=access_denied`. The code is redeemed at
 * `<prefix>/api/token` with the PKCE verifier for a program credential (`credential.ts`). A
 * refused request is a page that says why — the browser never goes to an address that is not loopback.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Decision } from '../../judge/decision.js';
import { deny } from '../../judge/decision.js';
import type { AuthnOutcome } from '../../judge/ports.js';
import type { JudgeRequest } from '../../judge/request.js';
import type { Session } from '../../sessions/session.js';
import { absolute, HTML, NO_STORE, type FlowDeps } from '../flow.js';
import type { Login } from '../login.js';
import { NO_EXTRAS } from '../login-params.js';
import { issueCode } from './codes.js';
import { clientName, programSession } from './credential.js';
import type { FormHandler, FormReply } from './http.js';
import { challengeProblem, loopbackRedirect } from './loopback.js';
import { requestOf } from './node-request.js';

/** The session authenticator's lookup: the outcome and the session that vouched. */
export type FindSession = (req: JudgeRequest) => Promise<{ readonly outcome: AuthnOutcome; readonly session?: Session }>;

export interface ConsentPage {
  readonly program: string;
  readonly user: string;
  /** Where the program receives its credential (the loopback address). */
  readonly from: string;
  /** The login's query, carried through the form. */
  readonly request: string;
  readonly csrf: string;
  readonly formAction: string;
}

export interface ProgramLoginDeps {
  readonly flow: FlowDeps;
  readonly pages: {
    programConsent(p: ConsentPage): string;
    notice(title: string, message: string, action?: { readonly href: string; readonly label: string }): string;
    unavailable(): string;
  };
  readonly login: Login;
  readonly find: FindSession;
  /** `PROGRAM_SESSION_MAX_AGE` (seconds); 0: program logins are off. */
  readonly maxAgeSeconds: number;
}

/**
 * This page's URL as the browser must see it: under the prefix, also when the request reached the
 * web server without it (Istio's VirtualService rewrites `<prefix>/` to `/`).
 */
export function canonical(path: string, req: JudgeRequest): string {
  const q = req.path.indexOf('?');
  return absolute(path + (q < 0 ? '' : req.path.slice(q)), req);
}

/** The browser session (from the cookie, never a program credential) and its id, or why there is none. */
export async function signedIn(find: FindSession, req: JudgeRequest): Promise<{ session: Session; id: string } | 'none' | 'unavailable'> {
  const { outcome, session } = await find(req);
  if (outcome.kind === 'unavailable') return 'unavailable';
  if (outcome.kind !== 'ok' || session === undefined || outcome.identity.method !== 'cookie' || outcome.identity.sessionId === undefined) return 'none';
  return { session, id: outcome.identity.sessionId };
}

/** A form token bound to the browser session and to what the form answers. */
export function formToken(purpose: string, sessionId: string, subject: string): string {
  return hash('sha256', `oidc-judge/${purpose}-csrf\0${sessionId}\0${subject}`, 'base64url');
}

export function sameToken(a: string | null, b: string): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

interface LoginRequest {
  readonly redirect: URL;
  readonly challenge: string;
  readonly state: string | null;
  readonly client: string;
}

export function createProgramLogin(deps: ProgramLoginDeps & { readonly path: string }): {
  readonly start: (req: JudgeRequest) => Promise<Decision>;
  readonly answer: FormHandler;
} {
  const { sessions, clock, log } = deps.flow;
  const { pages } = deps;
  const unavailable = (): Decision => deny(503, 'program-login-refused', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']], { detail: 'store' });

  /** The login a query asks for, or the page refusing it. */
  function parse(query: URLSearchParams, req: JudgeRequest): LoginRequest | Decision {
    const refuse = (message: string, detail: string): Decision =>
      deny(400, 'program-login-refused', deps.flow.pages.loginFailed(message, absolute('/', req), 400), [HTML, NO_STORE], { detail });
    if (deps.maxAgeSeconds === 0) return refuse('Program logins are turned off on this site.', 'off');
    const redirect = loopbackRedirect(query.get('redirect_uri'));
    if (typeof redirect === 'string') return refuse(`This program login cannot start: ${redirect}`, 'redirect_uri');
    const challenge = query.get('code_challenge');
    const problem = challengeProblem(challenge, query.get('code_challenge_method'));
    if (problem !== undefined || challenge === null) return refuse(`This program login cannot start: ${problem}`, 'code_challenge');
    return { redirect, challenge, state: query.get('state'), client: clientName(query.get('client_name')) };
  }

  /** Back to the program: its `redirect_uri` with `params` and its `state`. */
  function back(r: LoginRequest, params: Record<string, string>, detail: string): Decision {
    const url = new URL(r.redirect.href);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    if (r.state !== null) url.searchParams.set('state', r.state.slice(0, 256));
    // CSP's form-action cannot name [::1] (no IPv6 literals): a link, which it does not govern.
    if (r.redirect.hostname === '[::1]')
      return deny(
        200,
        'program-login',
        pages.notice('Back to the program', 'Continue to hand the program your answer.', { href: url.href, label: 'Continue' }),
        [HTML, NO_STORE],
        {
          detail,
        },
      );
    return deny(303, 'program-login', '', [['location', url.href], NO_STORE], { detail });
  }

  async function start(req: JudgeRequest): Promise<Decision> {
    const q = req.path.indexOf('?');
    const raw = q < 0 ? '' : req.path.slice(q + 1);
    const r = parse(new URLSearchParams(raw), req);
    if (!('redirect' in r)) return r;
    const who = await signedIn(deps.find, req);
    if (who === 'unavailable') return unavailable();
    // Not signed in: the ordinary sign-in, coming back here.
    if (who === 'none') return deps.login.startWith(req, canonical(deps.path, req), NO_EXTRAS);
    const page = pages.programConsent({
      program: r.client,
      user: who.session.user,
      from: r.redirect.host,
      request: raw,
      csrf: formToken('program-login', who.id, raw),
      formAction: deps.path,
    });
    return deny(200, 'program-login', page, [HTML, NO_STORE], { detail: 'consent' });
  }

  const answer: FormHandler = async (form, incoming) => {
    const req = requestOf(incoming);
    const reply = (d: Decision): FormReply =>
      d.kind === 'deny' ? { status: d.status, headers: d.headers, body: d.body } : { status: 500, headers: [], body: '' };
    const raw = form.get('request') ?? '';
    const r = parse(new URLSearchParams(raw), req);
    if (!('redirect' in r)) return reply(r);
    const who = await signedIn(deps.find, req);
    if (who === 'unavailable') return reply(unavailable());
    if (who === 'none' || !sameToken(form.get('csrf'), formToken('program-login', who.id, raw)))
      return reply(
        deny(
          403,
          'program-login',
          deps.flow.pages.loginFailed('This approval did not come from this site’s page. Start the program’s login again.', absolute('/', req), 403),
          [HTML, NO_STORE],
          { detail: 'csrf' },
        ),
      );
    if (form.get('action') !== 'approve') {
      log.info({ user: who.session.user, client: r.client }, 'program login refused by the user');
      return reply(back(r, { error: 'access_denied' }, 'denied'));
    }
    const session = programSession(who.session, r.client, 'loopback', clock.now(), deps.maxAgeSeconds);
    let code: string;
    try {
      code = await issueCode(sessions.store, clock, { session, challenge: r.challenge, redirectUri: r.redirect.href });
    } catch {
      return reply(unavailable());
    }
    log.info({ user: who.session.user, client: r.client }, 'program login: code issued');
    return reply(back(r, { code }, 'approved'));
  };

  return { start, answer };
}
