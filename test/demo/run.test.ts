import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { banner, startDemo, type Demo } from '../../src/demo/run.js';
import { silentLogger } from '../../src/obs/log.js';
import { untilReady } from '../helpers/app.js';
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
});
