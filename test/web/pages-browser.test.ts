import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { deny, type Decision } from '../../src/judge/decision.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses } from '../../src/judge/responses.js';
import { silentLogger } from '../../src/obs/log.js';
import { projectRoot, templatesDir } from '../../src/paths.js';
import { createWebApp, type WebApp } from '../../src/web/app.js';
import { createPages, themeUrl } from '../../src/web/pages.js';
import { contrast, DESKTOP, launchBrowser, newContext, PHONE, watchProblems, screenshot } from '../helpers/browser.js';

const SCREENSHOTS = join(projectRoot, '.build', 'screenshots');
const HOSTILE = '<script>alert(1)</script>';
const HTML: [string, string] = ['content-type', 'text/html; charset=utf-8'];
const context = { ProviderURL: 'https://idp.example.com', ClientName: 'Kubeflow', ThemeURL: themeUrl('/authservice/', 'themes', 'kubeflow'), Frontend: {} };
const pages = createPages({ templateDirs: [join(templatesDir, 'default')], context, prefixPath: '/authservice/' });
const responses = createResponses(pages, { loginPath: '/authservice/login' });
/** The port of the web server under test, once it listens. */
let port = 0;

/** The pages the judge or the callback deliver, served here the way they reach a browser. */
function own(req: JudgeRequest): Promise<Decision | undefined> {
  const path = req.path.split('?')[0];
  if (path === '/app/forbidden') {
    const identity = { user: HOSTILE, groups: [], claims: {}, method: 'cookie' as const, authenticator: 'session' };
    return Promise.resolve(responses.forbidden(req, identity, 'Not allowed by access rule authzRules[0].', `Only for "admins" <b>bold</b>`));
  }
  if (path === '/authservice/oidc/callback')
    return Promise.resolve(deny(400, 'login-failed', pages.loginFailed('The sign-in link has expired or was already used.'), [HTML]));
  // The judge answers `/` with the login redirect to the provider, here another origin.
  if (path === '/') return Promise.resolve(deny(302, 'login', '', [['location', `http://localhost:${port}/authservice/site/after_logout`]]));
  if (path === '/app/unavailable') return Promise.resolve(deny(503, 'unavailable', pages.unavailable(), [HTML]));
  if (path === '/app/sign-in') return Promise.resolve(responses.unauthenticated(req));
  return Promise.resolve(undefined);
}

const PAGES: Record<string, { path: string; status: number; text: RegExp }> = {
  homepage: { path: '/authservice/site/homepage', status: 200, text: /Welcome to Kubeflow/ },
  after_logout: { path: '/authservice/site/after_logout', status: 200, text: /You have successfully logged out from Kubeflow/ },
  forbidden: { path: '/app/forbidden', status: 403, text: /Only for "admins"/ },
  login_failed: { path: '/authservice/oidc/callback?state=x', status: 400, text: /Sign-in failed/ },
  unavailable: { path: '/app/unavailable', status: 503, text: /Temporarily unavailable/ },
  not_found: { path: '/authservice/nope', status: 404, text: /Page not found/ },
  sign_in_required: { path: '/app/sign-in', status: 401, text: /Sign-in required/ },
  sign_out: { path: '/authservice/logout', status: 200, text: /Sign out of Kubeflow\?/ },
};

interface Layout {
  scrollWidth: number;
  viewport: number;
  bodyMargin: string;
  font: string;
  cardRadius: string | undefined;
  card: string;
  heading: string;
  text: string;
  button: string | undefined;
  buttonText: string | undefined;
  logoLoaded: number;
  scripts: number;
}

/** What the page looks like, measured in the page (a string: the tests compile without DOM types). */
function layout(page: Page): Promise<Layout> {
  return page.evaluate<Layout>(`(() => {
    const cs = (sel) => { const el = document.querySelector(sel); return el === null ? undefined : getComputedStyle(el); };
    const logo = document.querySelector('img.logo');
    return {
      scrollWidth: document.scrollingElement.scrollWidth,
      viewport: window.innerWidth,
      bodyMargin: getComputedStyle(document.body).margin,
      font: getComputedStyle(document.body).fontFamily,
      cardRadius: cs('.box')?.borderTopLeftRadius,
      card: cs('.box')?.backgroundColor ?? '',
      heading: cs('h1')?.color ?? '',
      text: cs('.box-text')?.color ?? '',
      button: cs('.button')?.backgroundColor,
      buttonText: cs('.button')?.color,
      logoLoaded: logo === null ? 0 : logo.naturalWidth,
      scripts: document.querySelectorAll('script').length,
    };
  })()`);
}

describe('pages in Chromium', () => {
  let browser: Browser;
  let web: WebApp;
  const root = mkdtempSync(join(tmpdir(), 'oidc-judge-browser-'));

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    web = createWebApp({ pages, themesDir: join(templatesDir, 'themes'), prefixPath: '/authservice/', own, log: silentLogger });
    port = await web.listen('127.0.0.1', 0);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const [viewport, colorScheme] of [
    [DESKTOP, 'light'],
    [PHONE, 'light'],
    [DESKTOP, 'dark'],
    [PHONE, 'dark'],
  ] as const) {
    for (const [name, spec] of Object.entries(PAGES)) {
      it(`${name} at ${viewport.width}px, ${colorScheme}: styled, readable (WCAG AA), no problems, no horizontal overflow`, async () => {
        const ctx = await browser.newContext({ viewport, colorScheme });
        try {
          const page = await ctx.newPage();
          const problems = watchProblems(page);
          let dialogs = 0;
          page.on('dialog', (d) => void (dialogs++, d.dismiss()));
          const res = await page.goto(`http://127.0.0.1:${port}${spec.path}`, { waitUntil: 'load' });
          assert.equal(res?.status(), spec.status);
          assert.match((await page.locator('main').textContent()) ?? '', spec.text);
          const l = await layout(page);
          assert.equal(l.bodyMargin, '0px', 'the stylesheet applies');
          assert.match(l.font, /system-ui/);
          assert.notEqual(l.cardRadius, '0px');
          assert.ok(l.logoLoaded > 0, 'the logo loads');
          assert.ok(l.scrollWidth <= l.viewport, `no horizontal overflow: ${l.scrollWidth} > ${l.viewport}`);
          assert.ok(contrast(l.heading, l.card) >= 7, `heading contrast ${contrast(l.heading, l.card)}`);
          assert.ok(contrast(l.text, l.card) >= 4.5, `text contrast ${contrast(l.text, l.card)}`);
          if (l.button !== undefined) assert.ok(contrast(l.buttonText!, l.button) >= 4.5, `button contrast ${contrast(l.buttonText!, l.button)}`);
          assert.equal(l.scripts, 0);
          assert.equal(dialogs, 0);
          // Chromium logs the page's own error status; anything else is a problem.
          const own = `Failed to load resource: the server responded with a status of ${spec.status} `;
          assert.deepEqual(
            problems.consoleErrors.filter((e) => !e.startsWith(own)),
            [],
          );
          assert.deepEqual(problems.failedRequests, []);
          if (colorScheme === 'dark') assert.ok(contrast(l.card, 'rgb(255, 255, 255)') > 10, `a dark card: ${l.card}`);
          await screenshot(page, join(SCREENSHOTS, `${name}-${colorScheme}-${viewport.width}.png`));
        } finally {
          await ctx.close();
        }
      });
    }
  }

  it('the dark colour scheme keeps readable contrast', async () => {
    const ctx = await browser.newContext({ viewport: PHONE, colorScheme: 'dark' });
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      await page.goto(`http://127.0.0.1:${port}/app/forbidden`);
      const l = await layout(page);
      assert.ok(contrast(l.card, 'rgb(255, 255, 255)') > 10, `a dark card: ${l.card}`);
      assert.ok(contrast(l.heading, l.card) >= 7, `heading contrast ${contrast(l.heading, l.card)}`);
      assert.ok(contrast(l.text, l.card) >= 4.5, `text contrast ${contrast(l.text, l.card)}`);
      assert.ok(contrast(l.buttonText!, l.button!) >= 4.5, `button contrast ${contrast(l.buttonText!, l.button!)}`);
      assert.deepEqual(problems.failedRequests, []);
      await screenshot(page, join(SCREENSHOTS, `forbidden-dark-${PHONE.width}.png`));
    } finally {
      await ctx.close();
    }
  });

  it('shows a hostile user name on the 403 page as text', async () => {
    const ctx = await newContext(browser, PHONE);
    try {
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${port}/app/forbidden`);
      assert.equal(await page.locator('.box-text').textContent(), `Only for "admins" <b>bold</b>`);
      assert.equal(await page.locator('.box-text b').count(), 0);
      assert.equal(await page.locator('.detail strong').textContent(), HOSTILE);
      assert.equal(await page.locator('.detail script').count(), 0);
    } finally {
      await ctx.close();
    }
  });

  it('the Log in button is reachable by keyboard, shows a focus ring, and leads to / (even when / redirects off-site)', async () => {
    const ctx = await newContext(browser, DESKTOP);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      await page.goto(`http://127.0.0.1:${port}/authservice/site/homepage`);
      await page.keyboard.press('Tab');
      const focus = await page.evaluate<{ text: string; outline: string; width: string }>(
        '(() => { const el = document.activeElement, s = getComputedStyle(el); return { text: el.textContent, outline: s.outlineStyle, width: s.outlineWidth }; })()',
      );
      assert.deepEqual(focus, { text: 'Log in', outline: 'solid', width: '3px' });
      // `/` answered by the judge with a redirect to another origin (the provider): a link, unlike
      // a form, is not subject to CSP form-action, so the login is not blocked.
      const target = `http://localhost:${port}/authservice/site/after_logout`;
      await Promise.all([page.waitForURL(target), page.keyboard.press('Enter')]);
      assert.equal(page.url(), target);
      assert.deepEqual(problems.consoleErrors, []);
    } finally {
      await ctx.close();
    }
  });

  it('an oidc-authservice custom template (inline style, form to /) works under the CSP with formActions', async () => {
    const custom = join(root, 'legacy');
    mkdirSync(custom);
    writeFileSync(
      join(custom, 'homepage.html'),
      [
        '{{ template "header.html" . }}',
        '<body><div class="wrapper"><header class="header"><img src="{{ .ThemeURL }}/logo.svg" /></header>',
        '<main class="main" style="background-image:url({{ .ThemeURL }}/bg.svg);"><div class="box">',
        '<div class="box-content">Welcome to {{ .ClientName }}</div>',
        '<form class="button-wrapper" action="/" method="get" target="_self"><input class="button uppercase" type="submit" value="Log in" /></form>',
        '</div></main></div></body>',
        '{{ template "footer.html" . }}',
      ].join('\n'),
    );
    const target = `http://localhost:${port}/authservice/site/after_logout`;
    const legacy = createWebApp({
      pages: createPages({ templateDirs: [join(templatesDir, 'default'), custom], context, prefixPath: '/authservice/' }),
      themesDir: join(templatesDir, 'themes'),
      prefixPath: '/authservice/',
      own: async (req) => (req.path.startsWith('/?') || req.path === '/' ? deny(302, 'login', '', [['location', target]]) : undefined),
      formActions: [`http://localhost:${port}`],
      log: silentLogger,
    });
    const legacyPort = await legacy.listen('127.0.0.1', 0);
    const ctx = await newContext(browser, PHONE);
    try {
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      await page.goto(`http://127.0.0.1:${legacyPort}/site/homepage`);
      const bg = await page.evaluate<string>("getComputedStyle(document.querySelector('main')).backgroundImage");
      assert.match(bg, /bg\.svg/);
      const l = await layout(page);
      assert.ok(l.scrollWidth <= l.viewport);
      await screenshot(page, join(SCREENSHOTS, `legacy-homepage-${PHONE.width}.png`));
      await Promise.all([page.waitForURL(target), page.click('input[type=submit]')]);
      assert.deepEqual(problems.consoleErrors, []);
      assert.deepEqual(problems.failedRequests, []);
    } finally {
      await ctx.close();
      await legacy.close();
    }
  });
});
