/**
 * The sign-in chooser in real Chromium, at desktop and phone widths: a host two providers serve
 * (`providers:`) shows one link per provider, themed, reachable by keyboard with accessible
 * names; choosing one signs in at that provider and lands on the page first asked for; the choice
 * is remembered (the next visit goes straight to the app).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startApp, type App } from '../../src/app/start.js';
import { silentLogger } from '../../src/obs/log.js';
import { testConfig, untilReady } from '../helpers/app.js';
import { DESKTOP, launchBrowser, newContext, PHONE, watchProblems } from '../helpers/browser.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { opLogin } from '../helpers/op-login.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** The DOM as far as these tests reach into it (the tests compile without the DOM library). */
interface InPage {
  readonly ownerDocument: { readonly activeElement: unknown; readonly defaultView: { getComputedStyle(el: unknown): { readonly backgroundColor: string } } };
}
/** In the page: whether the element has the keyboard focus. */
const FOCUSED = (el: unknown): boolean => (el as InPage).ownerDocument.activeElement === el;
/** In the page: the element's computed background colour. */
const STYLE_BG = (el: unknown): string => (el as InPage).ownerDocument.defaultView.getComputedStyle(el).backgroundColor;

describe('the sign-in chooser in Chromium', () => {
  let ops: TestOp[];
  let upstream: Upstream;
  let app: App;
  let browser: Browser;
  let origin: string;

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    const op = (name: string) =>
      startOp({
        ...opLogin({ redirectUris: [`${origin}/authservice/oidc/${name}/callback`] }).options,
        clientId: `client-${name}`,
        clientSecret: `secret-${name}-0123456789`,
      });
    ops = await Promise.all([op('a'), op('b'), startOp()]);
    upstream = await startUpstream();
    const [a, b, other] = ops as [TestOp, TestOp, TestOp];
    const entry = (id: string, op: TestOp, name: string) =>
      `  - { id: ${id}, issuer: "${op.issuer}", clientId: client-${id}, clientSecret: secret-${id}-0123456789, clientName: "${name}", scopes: [openid, email], hosts: [localhost] }`;
    const config = testConfig(other.issuer, {
      env: { INGRESS_PORT: String(port), INGRESS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
      yaml: `providers:\n${entry('a', a, 'Team A')}\n${entry('b', b, 'Partner B <&>')}\n`,
    });
    app = await startApp(config, { log: silentLogger });
    await untilReady(app.readiness);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.all([...(ops ?? []).map((o) => o.stop()), upstream?.close()]);
  });

  for (const [name, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`lists the providers, themed and usable by keyboard, and signs in with the one chosen (${name})`, async () => {
      const context = await newContext(browser, viewport);
      const page = await context.newPage();
      const problems = watchProblems(page);
      const res = await page.goto(`${origin}/app/page?x=1`);
      assert.equal(res?.status(), 401);
      await page.getByRole('heading', { name: 'Choose how to sign in' }).waitFor();
      const linkA = page.getByRole('link', { name: 'Sign in with Team A' });
      const linkB = page.getByRole('link', { name: 'Sign in with Partner B <&>' });
      assert.equal(await linkA.count(), 1);
      assert.equal(await linkB.count(), 1);
      // Themed: the theme's stylesheet applies (the buttons are styled), nothing failed to load.
      assert.notEqual((await linkB.evaluate(STYLE_BG)) as string, 'rgba(0, 0, 0, 0)');
      assert.deepEqual(problems.failedRequests, []);
      // Chromium reports the page's own 401 on the console; nothing else may be there.
      assert.deepEqual(
        problems.consoleErrors.filter((e) => !/status of 401/.test(e)),
        [],
      );
      // Fits the width, with targets large enough to tap.
      assert.ok(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'));
      for (const link of [linkA, linkB]) {
        const box = await link.boundingBox();
        assert.ok(box !== null && box.height >= 44 && box.x >= 0 && box.x + box.width <= viewport.width, JSON.stringify(box));
      }
      // By keyboard: Tab to "Partner B", Enter.
      for (let i = 0; i < 10 && !(await linkB.evaluate(FOCUSED)); i++) await page.keyboard.press('Tab');
      assert.ok(await linkB.evaluate(FOCUSED), 'the link is reachable with Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.origin === origin && u.pathname === '/app/page');
      const echo = JSON.parse((await page.textContent('body')) ?? '{}') as { headers: Record<string, string[]> };
      assert.equal(echo.headers['kubeflow-userid']?.[0], 'alice@example.com');
      const cookies = await context.cookies(origin);
      assert.equal(cookies.find((c) => c.name === 'authservice_session-provider')?.value, 'b');
      assert.ok(cookies.some((c) => c.name === 'authservice_session_b'));
      // Remembered: the next visit goes straight to the app.
      const again = await page.goto(`${origin}/app/other`);
      assert.equal(again?.status(), 200);
      await context.close();
    });
  }
});
