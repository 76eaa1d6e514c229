/**
 * The device login's page, `<prefix>/api/device/verify` on the judge's own (themed) pages: a
 * signed-in user enters the code their program shows (or arrives with it in the link), sees which
 * program asks and from where, and approves or refuses it with a form POST carrying a token bound
 * to their session and the code (CSRF; the session cookie is SameSite=Lax too). Wrong codes are
 * counted per user (RFC 8628 §5.1: 10 per 10 minutes). An approval stores, with the request, the
 * program credential made from the user's browser session (`credential.ts`).
 */
import { deny, type Decision, type HeaderPair } from '../../judge/decision.js';
import type { JudgeRequest } from '../../judge/request.js';
import { HTML, NO_STORE, type FlowDeps } from '../flow.js';
import type { Login } from '../login.js';
import { NO_EXTRAS } from '../login-params.js';
import { programSession } from './credential.js';
import { type DeviceGrants, displayCode, normalizeUserCode } from './device.js';
import type { FormHandler } from './http.js';
import { WindowLimit } from './limits.js';
import { canonical, type FindSession, formToken, sameToken, signedIn } from './login.js';
import { requestOf } from './node-request.js';

export interface DevicePage {
  readonly title: string;
  readonly message?: string;
  /** Where the form goes: `<prefix>/api/device/verify`. */
  readonly formAction: string;
  /** With a program: the approval form for it (else: the form to enter a code). */
  readonly program?: {
    readonly name: string;
    readonly from: string;
    readonly agent: string;
    readonly userCode: string;
    readonly csrf: string;
    readonly user: string;
  };
}

export interface DevicePages {
  device(p: DevicePage): string;
  notice(title: string, message: string): string;
  unavailable(): string;
}

export interface DevicePageDeps {
  readonly flow: FlowDeps;
  readonly pages: DevicePages;
  readonly login: Login;
  readonly find: FindSession;
  readonly grants: DeviceGrants;
  readonly maxAgeSeconds: number;
  /** `<prefix>/api/device/verify`: the forms' action, and where a sign-in returns. */
  readonly path: string;
}

const WRONG_CODES = 10;
const WRONG_WINDOW_MS = 10 * 60_000;

const csrfOf = (sessionId: string, userCode: string): string => formToken('device', sessionId, userCode);

export function createDevicePage(deps: DevicePageDeps): { readonly page: (req: JudgeRequest) => Promise<Decision>; readonly answer: FormHandler } {
  const { clock } = deps.flow;
  const { pages } = deps;
  const wrong = new WindowLimit(WRONG_CODES, WRONG_WINDOW_MS);
  const headers: HeaderPair[] = [HTML, NO_STORE];
  const show = (status: 200 | 400 | 403 | 429, detail: string, html: string): Decision => deny(status, 'device-page', html, headers, { detail });
  const unavailable = (): Decision => deny(503, 'device-page', pages.unavailable(), [...headers, ['retry-after', '5']], { detail: 'store' });
  const enter = (status: 200 | 400 | 429, detail: string, message: string): Decision =>
    show(status, detail, pages.device({ title: 'Sign in a program', message, formAction: deps.path }));

  async function page(req: JudgeRequest): Promise<Decision> {
    const who = await signedIn(deps.find, req);
    if (who === 'unavailable') return unavailable();
    if (who === 'none') return deps.login.startWith(req, canonical(deps.path, req), NO_EXTRAS);
    const q = req.path.indexOf('?');
    const typed = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1)).get('user_code');
    if (typed === null) return enter(200, 'enter', 'Enter the code your program shows.');
    const now = clock.now();
    if (wrong.spent(who.session.user, now)) return enter(429, 'rate', 'Too many wrong codes. Wait a few minutes, then try again.');
    const userCode = normalizeUserCode(typed);
    let r;
    try {
      r = userCode === undefined ? undefined : await deps.grants.find(userCode);
    } catch {
      return unavailable();
    }
    if (userCode === undefined || r === undefined || r.status !== 'pending') {
      wrong.take(who.session.user, now);
      return enter(400, 'unknown-code', 'That code is unknown, has expired or was already used. Check it, or start the program’s login again.');
    }
    return show(
      200,
      'confirm',
      pages.device({
        title: 'Approve this program?',
        formAction: deps.path,
        program: { name: r.client, from: r.from, agent: r.agent, userCode: displayCode(userCode), csrf: csrfOf(who.id, userCode), user: who.session.user },
      }),
    );
  }

  const answer: FormHandler = async (form, incoming) => {
    const req = requestOf(incoming);
    const reply = (d: Decision) => (d.kind === 'deny' ? { status: d.status, headers: d.headers, body: d.body } : { status: 500, headers, body: '' });
    const who = await signedIn(deps.find, req);
    if (who === 'unavailable') return reply(unavailable());
    if (who === 'none') return reply(show(403, 'csrf', pages.notice('Sign in first', 'Open the link your program showed and sign in, then approve it.')));
    const userCode = normalizeUserCode(form.get('user_code'));
    if (userCode === undefined || !sameToken(form.get('csrf'), csrfOf(who.id, userCode)))
      return reply(show(403, 'csrf', pages.notice('Not approved', 'This form did not come from this page. Open the link your program showed again.')));
    const approve = form.get('action') === 'approve';
    let answered: boolean;
    try {
      answered = await deps.grants.decide(userCode, (r) =>
        approve ? programSession(who.session, r.client, 'device', clock.now(), deps.maxAgeSeconds) : undefined,
      );
    } catch {
      return reply(unavailable());
    }
    if (!answered) return reply(enter(400, 'unknown-code', 'That code has expired or was already answered. Start the program’s login again.'));
    return reply(
      approve
        ? show(200, 'approved', pages.notice('Program approved', `The program is now signed in as ${who.session.user}. You can close this page.`))
        : show(200, 'denied', pages.notice('Program refused', 'The program was refused. You can close this page.')),
    );
  };
  return { page, answer };
}
