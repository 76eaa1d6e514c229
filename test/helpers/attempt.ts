/**
 * Reads a login attempt the way the callback does: from the attempt cookie a login start set,
 * opened with the app's key. For tests that check what a login start remembered (the return URL).
 */
import assert from 'node:assert/strict';
import { openAttempt, type Attempt } from '../../src/oidc/attempt.js';
import type { BrowserLogin } from '../../src/app/browser-login.js';

/** The attempt sealed in a login start's `Set-Cookie` (exactly one expected). */
export async function attemptFromSetCookie(browser: Pick<BrowserLogin, 'attemptKey'>, setCookie: string | string[] | undefined): Promise<Attempt> {
  const all = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  assert.equal(all.length, 1, `one Set-Cookie expected, got ${all.length}`);
  const m = /^(?:__Host-)?oidc_state_csrf_([A-Za-z0-9_-]{8})=([^;]*)/.exec(all[0]!);
  assert.ok(m, `not an attempt cookie: ${all[0]!.slice(0, 40)}`);
  const attempt = openAttempt(await browser.attemptKey.get(), m[1]!, m[2]!);
  assert.ok(attempt, 'the attempt cookie opens');
  return attempt;
}
