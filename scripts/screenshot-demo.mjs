#!/usr/bin/env node
// Takes the README's picture of the demo (docs/img/demo-whoami.png): starts the demo on a free
// loopback port, signs alice in with real Chromium (playwright-core, as the browser tests do), and
// captures the who-am-I page she lands on, light theme, 1280 px wide. Run after `npm run build`:
// `node scripts/screenshot-demo.mjs [out.png]`.
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startDemo } from '../dist/src/demo/run.js';
import { silentLogger } from '../dist/src/obs/log.js';
import { launchBrowser } from '../dist/test/helpers/browser.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/img/demo-whoami.png', import.meta.url));

/** A port the kernel just handed out on 127.0.0.1 (the demo takes a port number, not 0). */
const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** Resolves once the judge is ready (OIDC discovery done), by its readiness events. */
const ready = (readiness) =>
  readiness.ready
    ? Promise.resolve()
    : new Promise((resolve) => {
        const on = (ok) => {
          if (!ok) return;
          readiness.off('change', on);
          resolve();
        };
        readiness.on('change', on);
      });

const demo = await startDemo({ port: await freePort(), log: silentLogger });
const browser = await launchBrowser();
try {
  await ready(demo.app.readiness);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = await ctx.newPage();
  await page.goto(`${demo.url}/`);
  await page.getByLabel('Email or username').fill('alice@example.com');
  await page.getByLabel('Password').fill('alice-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${demo.url}/`);
  await page.locator('#user').waitFor();
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await demo.stop();
}
