/**
 * The development OpenID Provider's interaction routes (`/interaction/:uid`), served on plain
 * node:http in front of oidc-provider: the sign-in form and its submission, "cancel", and
 * consent granted automatically (the demo's clients are first-party).
 *
 * Which sign-in a request belongs to comes only from oidc-provider's interaction cookie (signed,
 * HttpOnly, SameSite=Lax, path-scoped to this interaction), so a form can only complete the
 * sign-in its own browser started; the uid in the URL must match the cookie's interaction.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loginPage, messagePage } from './login-page.js';
import { sendPage } from './html.js';
import { authenticate, type DemoUser } from './users.js';

/** The part of oidc-provider's interaction API used here (the package ships no types). */
export interface InteractionDetails {
  readonly uid: string;
  readonly prompt: { readonly name: string; readonly details: Readonly<Record<string, unknown>> };
  readonly params: Readonly<Record<string, unknown>>;
  readonly session?: { readonly accountId?: string };
  readonly grantId?: string;
}

export interface OpGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: readonly string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

export interface OpInteractions {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Readonly<Record<string, unknown>>,
    opts?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  readonly Grant: {
    new (init: { accountId: string; clientId: string }): OpGrant;
    find(id: string): Promise<OpGrant | undefined>;
  };
  readonly Client: { find(id: string): Promise<{ readonly clientId: string; readonly clientName?: string } | undefined> };
}

export interface InteractionEvents {
  /** A sign-in attempt: the username as typed (never the password), and whether it succeeded. */
  login(username: string, ok: boolean): void;
  failure(err: unknown): void;
}

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/abort)?$/;
const BODY_LIMIT = 16 * 1024;

/** Returns a handler answering the interaction routes; it resolves false for any other path. */
export function interactionHandler(
  op: OpInteractions,
  users: readonly DemoUser[],
  events: InteractionEvents,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const m = ROUTE.exec((req.url ?? '').split('?')[0] ?? '');
    if (!m) return false;
    const uid = m[1] ?? '';
    const abort = m[2] !== undefined;
    try {
      if (req.method === 'GET' && !abort) await show(op, users, uid, req, res);
      else if (req.method === 'POST' && !abort) await submit(op, users, uid, req, res, events);
      else if (req.method === 'POST' && abort) await cancel(op, uid, req, res);
      else {
        res.setHeader('allow', abort ? 'POST' : 'GET, POST');
        sendPage(res, 405, messagePage('Method not allowed', 'This page only answers the sign-in form.'));
      }
    } catch (err) {
      if (res.headersSent) return true;
      if (isSessionNotFound(err)) {
        sendPage(
          res,
          400,
          messagePage('Sign-in expired', 'This sign-in has expired or was started in another browser.', 'Go back to the application and sign in again.'),
        );
      } else if (err instanceof Mismatch) {
        sendPage(
          res,
          400,
          messagePage(
            'Sign-in mismatch',
            'This page belongs to a different sign-in than the one in progress in this browser.',
            'Go back to the application and sign in again.',
          ),
        );
      } else if (err instanceof TooLarge) {
        sendPage(res, 413, messagePage('Form too large', 'The sign-in form sent more than it should.'));
      } else {
        events.failure(err);
        sendPage(res, 500, messagePage('Something went wrong', 'The identity provider could not complete this step.'));
      }
    }
    return true;
  };
}

class Mismatch extends Error {}
class TooLarge extends Error {}

async function details(op: OpInteractions, uid: string, req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails> {
  const d = await op.interactionDetails(req, res);
  if (d.uid !== uid) throw new Mismatch('interaction uid does not match the cookie');
  return d;
}

async function show(op: OpInteractions, users: readonly DemoUser[], uid: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const d = await details(op, uid, req, res);
  if (d.prompt.name === 'login') {
    sendPage(res, 200, loginPage({ ...formTargets(uid), clientName: await clientName(op, d), users }));
  } else if (d.prompt.name === 'consent') {
    await autoConsent(op, d, req, res);
  } else {
    sendPage(res, 501, messagePage('Not supported', `The demo provider cannot ask for "${d.prompt.name}".`));
  }
}

async function submit(
  op: OpInteractions,
  users: readonly DemoUser[],
  uid: string,
  req: IncomingMessage,
  res: ServerResponse,
  events: InteractionEvents,
): Promise<void> {
  const form = await readForm(req);
  const d = await details(op, uid, req, res);
  if (d.prompt.name !== 'login') throw new Mismatch('no sign-in is expected for this interaction');
  const username = form.get('username') ?? '';
  const user = authenticate(users, username, form.get('password') ?? '');
  events.login(username, user !== undefined);
  if (!user) {
    const page = loginPage({ ...formTargets(uid), clientName: await clientName(op, d), users, error: 'Wrong email or password. Try again.', username });
    // 200, not 401: this is a form asking again, not an HTTP authentication challenge.
    sendPage(res, 200, page);
    return;
  }
  await op.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
}

async function cancel(op: OpInteractions, uid: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  await details(op, uid, req, res);
  await op.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
}

/** Grants what the consent prompt says is missing, as a user pressing "Allow" would. */
async function autoConsent(op: OpInteractions, d: InteractionDetails, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const accountId = d.session?.accountId;
  const clientId = d.params['client_id'];
  if (accountId === undefined || typeof clientId !== 'string') throw new Mismatch('consent without a signed-in user');
  const grant = (d.grantId !== undefined ? await op.Grant.find(d.grantId) : undefined) ?? new op.Grant({ accountId, clientId });
  const missing = d.prompt.details;
  const scope = missing['missingOIDCScope'];
  if (Array.isArray(scope)) grant.addOIDCScope(scope.join(' '));
  const claims = missing['missingOIDCClaims'];
  if (Array.isArray(claims)) grant.addOIDCClaims(claims.map(String));
  const resources = missing['missingResourceScopes'];
  if (resources && typeof resources === 'object') {
    for (const [indicator, s] of Object.entries(resources as Record<string, unknown>)) {
      if (Array.isArray(s)) grant.addResourceScope(indicator, s.join(' '));
    }
  }
  const grantId = await grant.save();
  await op.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

function formTargets(uid: string): { action: string; abortAction: string } {
  return { action: `/interaction/${uid}`, abortAction: `/interaction/${uid}/abort` };
}

async function clientName(op: OpInteractions, d: InteractionDetails): Promise<string> {
  const id = String(d.params['client_id'] ?? '');
  const client = await op.Client.find(id);
  return client?.clientName ?? id;
}

function isSessionNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'SessionNotFound';
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > BODY_LIMIT) throw new TooLarge('sign-in form too large');
    chunks.push(b);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
