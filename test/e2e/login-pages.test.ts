/**
 * The service's pages as users reach them in the real login flow — "sign-in failed" (cancelled
 * at the provider), "access denied" (a user outside GROUPS_ALLOWLIST) and "logged out" (the app's
 * Sign out button, through the provider) — at desktop and phone widths: themed, no console errors,
 * no failed sub-resources, nothing wider than the screen. Screenshots go to .build/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { projectRoot } from '../../src/paths.js';
import { DESKTOP, launchBrowser, newContext, PHONE, watchProblems, type PageProblems, screenshot } from '../helpers/browser.js';
import { AFTER_LOGOUT_PATH, ALICE, BOB, CALLBACK_PATH, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

const SCREENSHOTS = join(projectRoot, '.build', 'screenshots');

describe('login flow pages in Chromium, desktop and phone', () => {
  let stack: LoginStack;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startLoginStack({ env: { GROUPS_ALLOWLIST: 'admins', LOGOUT_AT_PROVIDER: 'true' } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A fresh browser at this width, watched for problems from the first request on. */
  async function open(viewport: { width: number; height: number }): Promise<{ page: Page; problems: PageProblems }> {
    const page = await (await newContext(browser, viewport)).newPage();
    return { page, problems: watchProblems(page) };
  }

  /** The page is themed, fits the screen, loaded everything it asked for; then it is photographed. */
  async function check(page: Page, problems: PageProblems, name: string, width: number, status: number): Promise<void> {
    await page.waitForLoadState('load');
    const facts = await page.evaluate<{ stylesheets: number; logo: boolean; overflow: number; font: string }>(`(() => {
      const logo = document.querySelector('img.logo');
      return {
        stylesheets: document.styleSheets.length,
        logo: logo !== null && logo.complete && logo.naturalWidth > 0,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        font: getComputedStyle(document.body).fontFamily,
      };
    })()`);
    assert.ok(facts.stylesheets >= 1, 'the theme stylesheet is applied');
    assert.ok(facts.logo, 'the theme logo loaded');
    assert.ok(facts.overflow <= 0, `${name} is ${facts.overflow}px wider than the ${width}px screen`);
    assert.notEqual(facts.font, 'Times New Roman', 'styled, not the browser default');
    // Chromium reports the document's own error status on the console; anything else is a problem.
    const own = `Failed to load resource: the server responded with a status of ${status} (`;
    assert.deepEqual(
      problems.consoleErrors.filter((e) => !e.startsWith(own)),
      [],
      `${name}: console errors`,
    );
    assert.deepEqual(problems.failedRequests, [], `${name}: failed sub-resources`);
    await screenshot(page, join(SCREENSHOTS, `login-flow-${name}-${width}.png`));
  }

  for (const viewport of [DESKTOP, PHONE]) {
    const w = viewport.width;

    it(`sign-in failed (cancelled at the provider), ${w}px`, async () => {
      const { page, problems } = await open(viewport);
      await page.goto(stack.url('/reports'));
      const callback = page.waitForResponse((r) => new URL(r.url()).pathname === CALLBACK_PATH);
      await page.getByRole('button', { name: 'Cancel sign-in' }).click();
      assert.equal((await callback).status(), 403);
      await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
      await check(page, problems, 'login_failed', w, 403);
    });

    it(`access denied (bob is not in an allowed group), ${w}px`, async () => {
      const { page, problems } = await open(viewport);
      await page.goto(stack.url('/reports'));
      const landing = await signIn(page, BOB, stack.url('/reports'));
      assert.equal(landing.status(), 403);
      await page.getByRole('heading', { name: 'Access denied' }).waitFor();
      const text = await page.locator('main').innerText();
      assert.match(text, /Your account does not have access to this page\./);
      assert.match(text, /You are signed in as bob@example\.com\./);
      await check(page, problems, 'forbidden', w, 403);
    });

    it(`logged out (the app's Sign out button, through the provider), ${w}px`, async () => {
      const { page, problems } = await open(viewport);
      await page.goto(stack.url('/'));
      await signIn(page, ALICE, stack.url('/'));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(stack.url(AFTER_LOGOUT_PATH));
      await page.getByRole('heading', { name: /successfully logged out/ }).waitFor();
      await check(page, problems, 'after_logout', w, 200);
    });
  }
});
