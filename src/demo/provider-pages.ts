/**
 * oidc-provider's page hooks for the development provider (logout confirmation, signed out,
 * errors), rendered with our own pages instead of the package's defaults (which load web fonts).
 * Logout is confirmed automatically when the relying party proved the session with a valid
 * `id_token_hint`: the user already pressed "Sign out" in the application, and asking again is
 * noise in a demo. Without one (a bare link to the end-session endpoint) the user confirms.
 */
import { pageHeaders, type HtmlPage } from './html.js';
import { loggedOutPage, logoutAutoSubmitPage, logoutConfirmPage, messagePage } from './login-page.js';

/** The part of oidc-provider's Koa context these hooks use. */
interface KoaCtx {
  type: string;
  body: unknown;
  set(headers: Record<string, string>): void;
  readonly oidc: {
    readonly client?: { readonly clientId: string; readonly clientName?: string };
    readonly entities: Readonly<Record<string, unknown>>;
  };
}

function render(ctx: KoaCtx, page: HtmlPage): void {
  ctx.set(pageHeaders(page));
  ctx.type = 'html';
  ctx.body = page.html;
}

function clientName(ctx: KoaCtx): string | undefined {
  const c = ctx.oidc.client;
  return c === undefined ? undefined : (c.clientName ?? c.clientId);
}

export const providerPages = {
  logoutSource(ctx: KoaCtx, form: string): void {
    const proven = ctx.oidc.entities['IdTokenHint'] !== undefined;
    render(ctx, proven ? logoutAutoSubmitPage(form) : logoutConfirmPage(form, clientName(ctx)));
  },

  postLogoutSuccessSource(ctx: KoaCtx): void {
    render(ctx, loggedOutPage(clientName(ctx)));
  },

  renderError(ctx: KoaCtx, out: Readonly<Record<string, unknown>>): void {
    const code = typeof out['error'] === 'string' ? out['error'] : 'error';
    const description = typeof out['error_description'] === 'string' ? out['error_description'] : 'The request could not be completed.';
    render(ctx, messagePage('Something went wrong', description, `Error code: ${code}`));
  },
};
