/**
 * Real Chromium (Debian's `/usr/bin/chromium`) driven by `playwright-core`, headless, for the
 * browser tests. Each call starts a fresh browser with an empty profile; close it in `after`.
 * The flags keep Chromium off the network beyond loopback (this machine has none).
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** What a page did wrong while it rendered: console errors, failed or 4xx/5xx sub-resources. */
export interface PageProblems {
  readonly consoleErrors: string[];
  readonly failedRequests: string[];
}

/** Records console errors and failed sub-resource loads of a page (not the main navigation). */
export function watchProblems(page: Page): PageProblems {
  const problems: PageProblems = { consoleErrors: [], failedRequests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.consoleErrors.push(e.message));
  page.on('requestfailed', (r) => problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.failedRequests.push(`${r.url()} ${r.status()}`);
  });
  return problems;
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export async function newContext(browser: Browser, viewport: { width: number; height: number } = DESKTOP): Promise<BrowserContext> {
  return browser.newContext({ viewport, ignoreHTTPSErrors: false });
}

/** WCAG contrast ratio of two computed `rgb(…)` colours. */
export function contrast(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
  return (x! + 0.05) / (y! + 0.05);
}

/**
 * A full-page screenshot of `page` to `path`, for people to look at (the tests assert on the page
 * itself). Headless Chromium on a busy machine sometimes answers `Page.captureScreenshot` with
 * "Unable to capture screenshot" when no frame is ready yet; the capture is asked again, up to
 * three times, and any other error is thrown at once.
 */
export async function screenshot(page: Page, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path, fullPage: true });
      return;
    } catch (e) {
      if (attempt >= 3 || !/Unable to capture screenshot/.test((e as Error).message)) throw e;
    }
  }
}
