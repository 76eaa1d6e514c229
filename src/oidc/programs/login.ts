/**
 * `GET <prefix>/api/login?redirect_uri=http://127.0.0.1:<port>/…&code_challenge=…&code_challenge_method=S256[&state=…][&client_name=…]`:
 * a program's login (RFC 8252 style). A browser without a session runs the ordinary sign-in, whose
 * return is this very URL; with its session, the browser is sent back to the program's loopback
 * address with a one-time code (`codes.ts`) and the program's `state`. The code is redeemed at
 * `<prefix>/api/token` with the PKCE verifier for a program credential (`credential.ts`). A refused
 * request is a page that says why — the browser never goes to an address that is not loopback.
 */
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
import { challengeProblem, loopbackRedirect } from './loopback.js';

/** The session authenticator's lookup: the outcome and the session that vouched. */
export type FindSession = (req: JudgeRequest) => Promise<{ readonly outcome: AuthnOutcome; readonly session?: Session }>;

export interface ProgramLoginDeps {
  readonly flow: FlowDeps;
  readonly login: Login;
  readonly find: FindSession;
  /** `PROGRAM_SESSION_MAX_AGE` (seconds); 0: program logins are off. */
  readonly maxAgeSeconds: number;
}

/** The browser session (from the cookie, never a program credential) that may approve a program, or why not. */
export async function browserSession(find: FindSession, req: JudgeRequest): Promise<Session | 'none' | 'unavailable'> {
  const { outcome, session } = await find(req);
  if (outcome.kind === 'unavailable') return 'unavailable';
  if (outcome.kind !== 'ok' || session === undefined || outcome.identity.method !== 'cookie') return 'none';
  return session;
}

export function createProgramLogin(deps: ProgramLoginDeps): (req: JudgeRequest) => Promise<Decision> {
  const { pages, sessions, clock, log } = deps.flow;
  const unavailable = (): Decision => deny(503, 'program-login-refused', pages.unavailable(), [HTML, NO_STORE, ['retry-after', '5']], { detail: 'store' });

  return async (req) => {
    const q = req.path.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1));
    const home = absolute('/', req);
    const refuse = (message: string, detail: string): Decision =>
      deny(400, 'program-login-refused', pages.loginFailed(message, home, 400), [HTML, NO_STORE], { detail });
    if (deps.maxAgeSeconds === 0) return refuse('Program logins are turned off on this site.', 'off');
    const redirect = loopbackRedirect(query.get('redirect_uri'));
    if (typeof redirect === 'string') return refuse(`This program login cannot start: ${redirect}`, 'redirect_uri');
    const challenge = query.get('code_challenge');
    const problem = challengeProblem(challenge, query.get('code_challenge_method'));
    if (problem !== undefined || challenge === null) return refuse(`This program login cannot start: ${problem}`, 'code_challenge');

    const found = await browserSession(deps.find, req);
    if (found === 'unavailable') return unavailable();
    // Not signed in: the ordinary sign-in, coming back here.
    if (found === 'none') return deps.login.startWith(req, absolute(req.path, req), NO_EXTRAS);

    const client = clientName(query.get('client_name'));
    const session = programSession(found, client, 'loopback', clock.now(), deps.maxAgeSeconds);
    let code: string;
    try {
      code = await issueCode(sessions.store, clock, { session, challenge, redirectUri: redirect.href });
    } catch {
      return unavailable();
    }
    log.info({ user: found.user, client }, 'program login: code issued');
    const back = new URL(redirect.href);
    back.searchParams.set('code', code);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state.slice(0, 256));
    return deny(302, 'program-login', '', [['location', back.href], NO_STORE]);
  };
}
