/**
 * The provider goes away between the login start and the callback: the browser gets the themed
 * "unavailable" page with 503 (try again later), not a login failure, and no session.
 * Regression: openid-client wraps our transport error as the `cause` of a ClientError, which
 * used to be answered 500 "Sign-in could not be completed".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { ALICE, callbackUrlFor, sessionCookie, startLoginStack, type LoginStack } from '../helpers/login-stack.js';

describe('the provider is down when the browser comes back to the callback', () => {
  let stack: LoginStack;
  let browser: Browser;
  before(async () => {
    stack = await startLoginStack();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('answers 503 with the themed unavailable page, and creates no session', async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(stack.url('/later'));
    const callback = await callbackUrlFor(page, ALICE);
    await stack.provider.stop();
    const res = await page.goto(callback.href);
    assert.equal(res?.status(), 503);
    assert.equal(res?.headers()['retry-after'], '5');
    assert.doesNotMatch(await page.content(), /Sign-in could not be completed|\n\s+at /);
    assert.equal(await sessionCookie(page.context(), stack.origin), undefined);
  });
});
