import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { banner, startDemo, type Demo } from '../../src/demo/run.js';
import { silentLogger } from '../../src/obs/log.js';
import { untilReady } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { send } from '../helpers/http-send.js';
import { submitLogin } from './rp.js';
import { freePort } from '../helpers/net.js';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('npm run demo (startDemo)', () => {
  let demo: Demo;
  before(async () => {
    demo = await startDemo({ port: await freePort(), log: silentLogger });
    await untilReady(demo.app.readiness);
  });
  after(() => demo.stop());

  it('prints the URL and both demo users with their passwords', () => {
    const text = banner(demo);
    assert.ok(text.includes(demo.url));
    assert.match(text, /alice@example\.com\s+password alice-demo/);
    assert.match(text, /bob@example\.com\s+password bob-demo/);
  });

  it('the forwarder sends a browser to the development provider, and API calls get 401', async () => {
    const nav = await get(`${demo.url}/`, { accept: 'text/html', 'sec-fetch-mode': 'navigate' });
    assert.equal(nav.status, 302);
    assert.ok(nav.location?.startsWith(`${demo.provider.issuer}/auth?`), nav.location);
    const api = await get(`${demo.url}/`, { accept: 'application/json' });
    assert.equal(api.status, 401);
  });

  it('serves the themed pages under the prefix through the forwarder', async () => {
    const home = await get(`${demo.url}/authservice/site/homepage`);
    assert.equal(home.status, 200);
    assert.match(home.body, /Welcome to oidc-judge demo/);
  });

  // Issue 14: the demo app routes the raw path (`/admin/../` starts with `/admin/`), so the forwarder
  // must send it the path the judge judged. Before the fix bob saw the admin page this way.
  it('bob (guests) never sees the admin page through a dot-segment path', async () => {
    const browser = await launchBrowser();
    try {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      await page.goto(`${demo.url}/`);
      await submitLogin(page, 'bob', 'bob-demo');
      await page.waitForURL(`${demo.url}/`);
      await page.locator('#user').waitFor();
      const sid = (await ctx.cookies()).find((c) => c.name === 'authservice_session')?.value;
      assert.ok(sid, 'signed in');
      const port = Number(new URL(demo.url).port);
      const as = { headers: { cookie: `authservice_session=${sid}`, accept: 'text/html' } };
      for (const path of ['/admin/../', '/admin/%2e%2e/', '/admin/./../', '//admin/../']) {
        const r = await send(port, path, as);
        assert.equal(r.status, 200, path);
        assert.doesNotMatch(r.body, /Admin area<\/h1>/, path);
        assert.match(r.body, /bob@example\.com/, path);
      }
      assert.equal((await send(port, '/admin%2f..%2f', as)).status, 400);
      // Last: a 403 ends the session today (issue 14 item 4).
      assert.equal((await send(port, '//admin', as)).status, 403);
    } finally {
      await browser.close();
    }
  });
});
