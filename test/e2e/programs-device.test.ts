/**
 * Device login end to end (RFC 8628, issue 19): the real `oidc-judge login --device` process polls
 * the running judge while a real Chromium signs in at the development provider and approves the
 * program on the judge's page, which names the program and where it asked from. Also: refusing it
 * (`access_denied`), user codes single use, `authorization_pending` / `slow_down` to polls, the
 * approval's CSRF token, and `expired_token` once the request expired (the judge's clock moved).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Clock } from '../../src/clock.js';
import { launchBrowser, newContext, type PageProblems, watchProblems } from '../helpers/browser.js';
import { ALICE, API, signIn, startLoginStack, type LoginStack } from '../helpers/login-stack.js';
import { cli, runCli } from '../helpers/program-cli.js';

const DEVICE = '/authservice/api/device';
const TOKEN = '/authservice/api/token';
const VERIFY = '/authservice/api/device/verify';
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...API };

/** Real time, moved forward by hand. */
class SkewClock implements Clock {
  skew = 0;
  now(): number {
    return Date.now() + this.skew;
  }
}

interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

describe('program login (device)', () => {
  let stack: LoginStack;
  let browser: Browser;
  let home: string;
  const clock = new SkewClock();
  before(async () => {
    stack = await startLoginStack({ clock });
    browser = await launchBrowser();
    home = mkdtempSync(join(tmpdir(), 'oidc-judge-cli-'));
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    stack.send(path, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(form).toString() });
  const start = async (client: string): Promise<DeviceStart> => {
    const res = await post(DEVICE, { client_name: client }, { 'user-agent': 'e2e-agent/1.0' });
    assert.equal(res.status, 200, res.body);
    return JSON.parse(res.body) as DeviceStart;
  };
  const poll = async (deviceCode: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await post(TOKEN, { grant_type: GRANT, device_code: deviceCode });
    return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
  };
  /** A new browser, signed in through the verification link. */
  async function approvalPage(link: string): Promise<Page> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(link);
    await signIn(page, ALICE, link);
    return page;
  }

  /** The themed page loaded whole: its stylesheet and logo, no console error, no failed sub-resource. */
  async function themed(page: Page, problems: PageProblems): Promise<void> {
    const facts = await page.evaluate<{ sheets: number; logo: boolean }>(`(() => {
      const logo = document.querySelector('img.logo');
      return { sheets: document.styleSheets.length, logo: logo !== null && logo.complete && logo.naturalWidth > 0 };
    })()`);
    assert.ok(facts.sheets >= 1 && facts.logo, 'the theme is applied');
    assert.deepEqual(problems.consoleErrors, []);
    // A load the browser cancelled itself by navigating on (ERR_ABORTED) is not a failure of the page.
    assert.deepEqual(
      problems.failedRequests.filter((r) => !r.endsWith('net::ERR_ABORTED')),
      [],
    );
  }

  it('the CLI polls while a browser signs in and approves; the credential is judged as a program', async () => {
    const run = runCli(['login', '--device', '--url', stack.origin, '--client-name', 'ci runner'], home);
    const [, uri, code, complete] = await run.waitFor(/open (\S+) in any browser and enter the code (\S+)\n\(or open (\S+)\)/);
    assert.equal(uri, stack.url(VERIFY));
    assert.match(code ?? '', /^[B-Z]{4}-[B-Z]{4}$/);
    const page = await approvalPage(complete ?? '');
    // Watched from a fresh load: the first document's own loads are done (a reload would abort them).
    await page.waitForLoadState('load');
    const problems = watchProblems(page);
    await page.reload();
    await assert.doesNotReject(page.locator('#program', { hasText: 'ci runner' }).waitFor());
    await themed(page, problems);
    assert.match(await page.locator('#origin').innerText(), /127\.0\.0\.1.*node/);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Program approved' }).waitFor();
    await themed(page, problems);
    const login = await run.done;
    assert.equal(login.code, 0, login.stderr);

    const token = await cli(['token', '--url', stack.origin], home);
    assert.equal(token.code, 0, token.stderr);
    const res = await stack.send('/api/who', { headers: { ...API, authorization: `Bearer ${token.stdout.trim()}` } });
    assert.equal(res.status, 200);
    assert.deepEqual((JSON.parse(res.body) as { headers: Record<string, string[]> }).headers['auth-method'], ['program']);
    const stored = await stack.app.sessions.load(token.stdout.trim(), { fresh: true });
    assert.deepEqual(stored?.program, { client: 'ci runner', via: 'device' });

    // The code was used: entering it again finds nothing.
    await page.goto(complete ?? '');
    await page.getByText('That code is unknown').waitFor();
  });

  it('polls: authorization_pending, slow_down when too fast; a refusal is access_denied, once', async () => {
    const d = await start('nightly job');
    assert.equal(d.interval, 5);
    assert.equal(d.expires_in, 600);
    assert.deepEqual((await poll(d.device_code)).body, { error: 'authorization_pending' });
    assert.deepEqual((await poll(d.device_code)).body, { error: 'slow_down' });
    const page = await approvalPage(d.verification_uri_complete);
    await page.locator('#program', { hasText: 'nightly job' }).waitFor();
    assert.match(await page.locator('#origin').innerText(), /e2e-agent\/1\.0/);
    await page.getByRole('button', { name: 'Refuse' }).click();
    await page.getByRole('heading', { name: 'Program refused' }).waitFor();
    clock.skew += 30_000;
    const refused = await poll(d.device_code);
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'access_denied');
    assert.equal((await poll(d.device_code)).body['error'], 'expired_token');
  });

  it('the approval needs its form token and the session it was made for', async () => {
    const d = await start('sneaky');
    const page = await approvalPage(d.verification_uri_complete);
    await page.locator('#program').waitFor();
    const cookie = (await page.context().cookies(stack.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const forged = await post(VERIFY, { user_code: d.user_code, action: 'approve', csrf: 'A'.repeat(43) }, { cookie, accept: 'text/html' });
    assert.equal(forged.status, 403);
    const csrf = await page.locator('input[name=csrf]').getAttribute('value');
    const noSession = await post(VERIFY, { user_code: d.user_code, action: 'approve', csrf: csrf ?? '' }, { accept: 'text/html' });
    assert.equal(noSession.status, 403);
    clock.skew += 30_000;
    assert.equal((await poll(d.device_code)).body['error'], 'authorization_pending', 'nothing was approved');
  });

  it('wrong device codes are refused, and a request expires', async () => {
    assert.equal((await poll('nonsense')).body['error'], 'invalid_grant');
    const d = await start('late');
    clock.skew += 601_000;
    assert.equal((await poll(d.device_code)).body['error'], 'expired_token');
  });

  it('rate limits: wrong user codes per user, device requests per address', async () => {
    const page = await approvalPage(stack.url(VERIFY));
    const cookie = (await page.context().cookies(stack.origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push((await stack.send(`${VERIFY}?user_code=BBBB-BBB${'BCDFGHJKLMN'[i]}`, { headers: { cookie, accept: 'text/html' } })).status);
    assert.deepEqual(statuses, [...Array(10).fill(400), 429]);
    let accepted = 0;
    while ((await post(DEVICE, { client_name: 'flood' })).status === 200) accepted++;
    assert.ok(accepted <= 20, `${accepted} device requests accepted`);
    assert.equal((await post(DEVICE, { client_name: 'flood' })).status, 429);
  });
});
