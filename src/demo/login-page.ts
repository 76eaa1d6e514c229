/**
 * The development OpenID Provider's pages: sign-in form (with the demo accounts in a hint box),
 * logout confirmation and its auto-submitting variant, "signed out", and errors. Pure functions
 * from values to an `HtmlPage`; every value is escaped here.
 */
import { esc, layout, type HtmlPage } from './html.js';
import type { DemoUser } from './users.js';

const BRAND = 'Demo Identity Provider';

export interface LoginPageOptions {
  /** Where the form posts (the interaction URL, bound to the browser by its cookie). */
  readonly action: string;
  /** Where the "Cancel" button posts. */
  readonly abortAction: string;
  /** The application asking for the sign-in (client name or id). */
  readonly clientName: string;
  /** Accounts shown in the hint box. */
  readonly users: readonly DemoUser[];
  /** Shown above the form after a failed attempt. */
  readonly error?: string;
  /** Pre-fills the username after a failed attempt. */
  readonly username?: string;
}

export function loginPage(o: LoginPageOptions): HtmlPage {
  const alert = o.error === undefined ? '' : `<div class="alert" role="alert" id="login-error">${esc(o.error)}</div>`;
  const accounts = o.users
    .map(
      (u) =>
        `<li><strong>${esc(u.name)}</strong> <span class="muted">(${esc(u.groups.join(', '))})</span><br>` +
        `<code>${esc(u.email)}</code> / <code>${esc(u.password)}</code></li>`,
    )
    .join('');
  const focusUser = o.username === undefined || o.username === '';
  const body = `<div class="card">
<h1>Sign in</h1>
<p class="sub">to continue to <strong>${esc(o.clientName)}</strong></p>
${alert}
<form method="post" action="${esc(o.action)}" autocomplete="on">
<label for="username">Email or username</label>
<input type="text" id="username" name="username" inputmode="email" autocapitalize="none" autocorrect="off" spellcheck="false" autocomplete="username" required value="${esc(o.username ?? '')}"${focusUser ? ' autofocus' : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${focusUser ? '' : ' autofocus'}>
<button type="submit" class="block">Sign in</button>
</form>
<form method="post" action="${esc(o.abortAction)}" class="cancel">
<p class="muted">Changed your mind? <button type="submit" class="link">Cancel sign-in</button></p>
</form>
</div>
<div class="card hint" role="note">
<h2>Demo accounts</h2>
<ul>${accounts}</ul>
</div>`;
  return layout({ title: `Sign in · ${BRAND}`, brand: BRAND, body });
}

/** A page with a heading and a message (errors, expired sign-ins). */
export function messagePage(title: string, message: string, detail?: string): HtmlPage {
  const more = detail === undefined ? '' : `<p class="muted">${esc(detail)}</p>`;
  return layout({
    title: `${title} · ${BRAND}`,
    brand: BRAND,
    body: `<div class="card"><h1>${esc(title)}</h1><p>${esc(message)}</p>${more}</div>`,
  });
}

/**
 * The RP-initiated logout confirmation. `form` is oidc-provider's own hidden form (id
 * `op.logoutForm`, carrying its xsrf value), which our buttons submit.
 */
export function logoutConfirmPage(form: string, clientName: string | undefined): HtmlPage {
  const from = clientName === undefined ? '' : ` from <strong>${esc(clientName)}</strong>`;
  return layout({
    title: `Sign out · ${BRAND}`,
    brand: BRAND,
    body: `<div class="card">
<h1>Sign out?</h1>
<p class="sub">You asked to sign out${from}. This ends your session at the identity provider.</p>
${form}
<div class="row">
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="ghost">Stay signed in</button>
</div>
</div>`,
  });
}

/**
 * The logout confirmation answered automatically (the relying party proved the session with an
 * `id_token_hint`): the provider's form is submitted with `logout=yes` on load; without
 * JavaScript the user presses the button.
 */
export function logoutAutoSubmitPage(form: string): HtmlPage {
  const withYes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
  return layout({
    title: `Signing out · ${BRAND}`,
    brand: BRAND,
    body: `<div class="card">
<h1>Signing you out…</h1>
${withYes}
<noscript><p>JavaScript is off: press the button to finish.</p></noscript>
<button type="submit" form="op.logoutForm" class="block">Continue</button>
</div>`,
    script: "document.getElementById('op.logoutForm').submit();",
  });
}

export function loggedOutPage(clientName: string | undefined): HtmlPage {
  const from = clientName === undefined ? '' : ` of ${clientName}`;
  return messagePage('You are signed out', `You have signed out${from}. You can close this page.`);
}
