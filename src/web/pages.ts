/**
 * The service's HTML pages, rendered from the template set (built-in templates, overridden by
 * TEMPLATE_PATH): homepage, after-logout, error pages, and the browser bodies the judge sends
 * (403, sign-in required). `createPages(...)` is also the judge's `Pages` port
 * (src/judge/responses.ts): `createResponses(createPages(...))`.
 */
import { createCsp, originOf, SECURITY_HEADERS } from './csp.js';
import type { DevicePage } from '../oidc/programs/device-page.js';
import type { ConsentPage } from '../oidc/programs/login.js';
import { loadTemplateSet, type FieldSchema, type TemplateSet } from './template.js';

/** What every template sees, as in oidc-authservice. */
export interface BaseContext {
  /** `OIDC_PROVIDER`. */
  readonly ProviderURL: string;
  /** `CLIENT_NAME`. */
  readonly ClientName: string;
  /** Where the theme's assets are: `themeUrl(...)`. */
  readonly ThemeURL: string;
  /** `TEMPLATE_CONTEXT_<KEY>` values by KEY: `{{ index .Frontend "KEY" }}`. */
  readonly Frontend: Readonly<Record<string, string>>;
}

/** Every field a template may name; anything else fails at start-up. */
export const PAGE_FIELDS: FieldSchema = {
  ProviderURL: 'value',
  ClientName: 'value',
  ThemeURL: 'value',
  Frontend: 'map',
  HomepageURL: 'value',
  Status: 'value',
  Title: 'value',
  Message: 'value',
  Detail: 'value',
  Action: { Href: 'value', Label: 'value' },
  User: 'value',
  Reason: 'value',
  SwitchAccount: 'value',
  SignOut: 'value',
  Program: 'value',
  From: 'value',
  Agent: 'value',
  UserCode: 'value',
  Csrf: 'value',
  FormAction: 'value',
  Request: 'value',
};

/** The templates the pages render; each must exist after overrides. */
export const PAGE_TEMPLATES = ['homepage.html', 'after_logout.html', 'error.html', 'forbidden.html', 'sign_out.html', 'device.html', 'program.html'] as const;

export interface ErrorPage {
  readonly status: number;
  readonly title: string;
  readonly message: string;
  readonly detail?: string;
  readonly action?: { readonly href: string; readonly label: string };
}

export interface PagesOptions {
  /** Template directories, the built-in one first; later ones override files by name. */
  readonly templateDirs: readonly string[];
  readonly context: BaseContext;
  /** The service prefix path, e.g. `/authservice/`. */
  readonly prefixPath: string;
  /** `HOMEPAGE_URL`: the "log in again" link of the 403 page. Default `<prefix>site/homepage`. */
  readonly homepageUrl?: string;
  /** Origins the pages' forms may post to besides their own (the provider's, for its logout). */
  readonly formActions?: readonly string[];
}

export interface WebPages {
  homepage(): string;
  afterLogout(): string;
  /** `GET <prefix>/logout`: "Sign out of …?" with a button posting to `action` (the logout route) and Cancel. */
  signOut(action: string): string;
  error(p: ErrorPage): string;
  /**
   * The judge's 403 body: `reason` in plain words (a rule's description, or a generic sentence)
   * and who is signed in, escaped;
   * with `switchAccount`, a "Sign in with another account" form posting there.
   */
  forbidden(user: string, reason: string, switchAccount?: string): string;
  /** The judge's 401 body for a browser it cannot redirect (a form post, no login flow); `signIn`: the "Sign in" button's target. */
  unauthenticated(signIn?: string): string;
  /**
   * The login callback failed (bad state, provider error …) with `status` (default 400);
   * `message` is shown, escaped; "Try again" goes to `retryHref` (default: the homepage).
   */
  loginFailed(message: string, retryHref?: string, status?: number): string;
  /** 503: the provider or the session store cannot be reached; "Try again" goes to `retry` (default: the homepage). */
  unavailable(retry?: string): string;
  /** The security headers and the content security policy of a page of ours (the judge's deny pages send them too). */
  headersFor(html: string): readonly (readonly [string, string])[];
  /** The device login's page (oidc/programs/device-page.ts): enter a code, or approve the program it names. */
  device(p: DevicePage): string;
  /** The loopback program login's consent page (oidc/programs/login.ts). */
  programConsent(p: ConsentPage): string;
  /** A page that only says something (no error): `title`, `message`, and a link to go on. */
  notice(title: string, message: string, action?: { readonly href: string; readonly label: string }): string;
  readonly themeUrl: string;
  readonly templates: TemplateSet;
}

const withSlash = (p: string): string => (p.endsWith('/') ? p : `${p}/`);
const ABSOLUTE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\//;

/**
 * `ThemeURL`: `THEMES_URL/THEME`. An absolute THEMES_URL (`https://cdn…`, `//cdn…`) is used as is;
 * a relative one is relative to `<prefix>site/` as in oidc-authservice, but made an absolute path
 * (`/authservice/site/themes/kubeflow`), because the judge's pages appear under any app path.
 */
export function themeUrl(prefixPath: string, themesUrl: string, theme: string): string {
  const base = themesUrl.replace(/\/+$/, '');
  if (ABSOLUTE.test(base)) return `${base}/${theme}`;
  const site = new URL(`${withSlash(prefixPath.startsWith('/') ? prefixPath : `/${prefixPath}`)}site/`, 'http://site.invalid');
  return new URL(`${base === '' ? '.' : base}/${theme}`, site).pathname;
}

/** Loads and compiles the templates (throws `TemplateError` naming file:line on a broken one). */
export function createPages(opts: PagesOptions): WebPages {
  const templates = loadTemplateSet(opts.templateDirs, PAGE_FIELDS);
  const missing = PAGE_TEMPLATES.filter((t) => !templates.has(t));
  if (missing.length > 0) throw new Error(`templates missing from ${opts.templateDirs.join(', ')}: ${missing.join(', ')}`);
  const homepageUrl = opts.homepageUrl ?? `${withSlash(opts.prefixPath)}site/homepage`;
  const assetOrigin = originOf(opts.context.ThemeURL);
  const csp = createCsp({ formActions: opts.formActions ?? [], assetOrigins: assetOrigin === undefined ? [] : [assetOrigin] });
  const policies = new Map<string, string>();
  const base = { ...opts.context, HomepageURL: homepageUrl };
  const render = (name: string, more: Record<string, unknown> = {}): string => templates.render(name, { ...base, ...more });
  const error = (p: ErrorPage): string =>
    render('error.html', {
      Status: p.status,
      Title: p.title,
      Message: p.message,
      Detail: p.detail ?? '',
      Action: p.action === undefined ? undefined : { Href: p.action.href, Label: p.action.label },
    });
  return {
    themeUrl: opts.context.ThemeURL,
    templates,
    homepage: () => render('homepage.html'),
    afterLogout: () => render('after_logout.html', { Title: 'Logged out' }),
    signOut: (action) => render('sign_out.html', { Title: 'Sign out', SignOut: action }),
    error,
    forbidden: (user, reason, switchAccount) =>
      render('forbidden.html', {
        Status: 403,
        Title: 'Access denied',
        User: user,
        Reason: reason,
        SwitchAccount: switchAccount ?? '',
        Action: { Href: homepageUrl, Label: 'Log in again' },
      }),
    unauthenticated: (signIn) =>
      error({
        status: 401,
        title: 'Sign-in required',
        message: 'You need to sign in to see this page. Sign in, then open the page again.',
        ...(signIn !== undefined ? { action: { href: signIn, label: 'Sign in' } } : {}),
      }),
    loginFailed: (message, retryHref = homepageUrl, status = 400) =>
      error({ status, title: 'Sign-in failed', message, action: { href: retryHref, label: 'Try again' } }),
    unavailable: (retry = homepageUrl) =>
      error({
        status: 503,
        title: 'Temporarily unavailable',
        message: 'Sign-in is not available right now. Please try again in a moment.',
        action: { href: retry, label: 'Try again' },
      }),
    headersFor(html) {
      let policy = policies.get(html);
      if (policy === undefined) {
        policy = csp.forPage(html);
        // A 403 page names its user: remember a few pages, not every user's.
        if (policies.size < 64) policies.set(html, policy);
      }
      return [...SECURITY_HEADERS, ['content-security-policy', policy]];
    },
    device: (p) =>
      render('device.html', {
        Title: p.title,
        Message: p.message ?? '',
        FormAction: p.formAction,
        Program: p.program?.name ?? '',
        From: p.program?.from ?? '',
        Agent: p.program?.agent ?? '',
        UserCode: p.program?.userCode ?? '',
        Csrf: p.program?.csrf ?? '',
        User: p.program?.user ?? '',
      }),
    programConsent: (p) =>
      render('program.html', { Program: p.program, User: p.user, From: p.from, Request: p.request, Csrf: p.csrf, FormAction: p.formAction }),
    notice: (title, message, action) =>
      render('error.html', {
        Status: '',
        Title: title,
        Message: message,
        Detail: '',
        Action: action === undefined ? undefined : { Href: action.href, Label: action.label },
      }),
  };
}
