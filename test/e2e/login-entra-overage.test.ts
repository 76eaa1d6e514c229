/**
 * Entra ID group overage, end to end in Chromium: the real provider (oidc-provider) issues
 * Entra-shaped tokens (v2 issuer with the tenant, `oid`/`tid`, `roles`, no `email`); Adele is in
 * too many groups, so her ID token carries `_claim_names`/`_claim_sources` instead of `groups`.
 * After she signs in, the judge reads her groups from the Graph double (three pages) with her
 * access token, and the upstream receives them; a groups allow-list naming one of them lets her
 * in. Megan's groups are in her token: Graph is never asked. With Graph down, the login completes
 * but her check is 503 until Graph answers again; a token refresh reads them again (the service's
 * clock is injected).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startApp, type App } from '../../src/app/start.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/obs/log.js';
import { testConfig, untilReady } from '../helpers/app.js';
import { launchBrowser, newContext } from '../helpers/browser.js';
import { manyGroups, startGraph, type GraphDouble } from '../helpers/graph.js';
import { CALLBACK_PATH, signIn } from '../helpers/login-stack.js';
import { freePort } from '../helpers/net.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { ADELE, ENTRA_TENANT, MEGAN, entraOpOptions } from '../helpers/shapes-entra.js';
import { startUpstream, type Echo, type Upstream } from '../helpers/upstream.js';

const GRAPH_GROUPS = manyGroups(250, 'kubeflow');
const ALLOWED = GRAPH_GROUPS[217]!.id; // on Graph's third page
const MEGAN_ALLOWED = '0000002a-0000-4000-8000-000000000000';

describe('Entra ID group overage through Chromium: groups from Microsoft Graph reach the upstream', () => {
  const clock = new ManualClock(Date.now());
  let op: TestOp;
  let graph: GraphDouble;
  let upstream: Upstream;
  let app: App;
  let browser: Browser;
  let origin: string;

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    [op, graph, upstream] = await Promise.all([startOp(entraOpOptions([origin + CALLBACK_PATH])), startGraph(), startUpstream()]);
    graph.members.set(ADELE.sub, GRAPH_GROUPS);
    const config = testConfig(op.issuer, {
      env: {
        CLIENT_ID: op.clientId,
        CLIENT_SECRET: op.clientSecret,
        OIDC_SCOPES: 'openid,profile,User.Read',
        CLAIMS_SOURCE: 'id_token',
        USERID_CLAIM: 'preferred_username',
        GROUPS_ALLOWLIST: `${ALLOWED},${MEGAN_ALLOWED}`,
        GRAPH_URL: graph.url,
        GRAPH_RETRY_INTERVAL: '5',
        // The provider's access tokens live 300 s: due for a refresh 60 s (injected) after login.
        TOKEN_REFRESH_MARGIN: '240',
        INGRESS_PORT: String(port),
        INGRESS_UPSTREAM: upstream.url,
        CLAIM_HEADERS: 'tid:x-tenant,oid:x-object-id',
      },
    });
    app = await startApp(config, { log: silentLogger, clock });
    await untilReady(app.readiness);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
    await Promise.all([op?.stop(), graph?.close(), upstream?.close()]);
  });

  /** Signs in at `path` in a fresh browser; the page and the document it landed on. */
  async function signedIn(user: typeof ADELE, path: string): Promise<{ page: Page; status: number; echo: () => Promise<Echo> }> {
    const page = await (await newContext(browser)).newPage();
    await page.goto(origin + path);
    assert.equal(new URL(page.url()).origin, new URL(op.issuer).origin, 'at the provider’s sign-in');
    const res = await signIn(page, user);
    assert.equal(res.url(), origin + path);
    return { page, status: res.status(), echo: async () => JSON.parse(await page.locator('body').innerText()) as Echo };
  }

  it('Adele (overage): her groups are read from Graph, paged, and the upstream receives them', async () => {
    graph.requests.length = 0;
    const { status, echo } = await signedIn(ADELE, '/notebooks/adele');
    assert.equal(status, 200);
    const seen = await echo();
    assert.equal(seen.headers['kubeflow-userid']?.[0], ADELE.preferredUsername);
    const groups = seen.headers['kubeflow-groups']?.[0]?.split(',') ?? [];
    assert.deepEqual(
      groups,
      GRAPH_GROUPS.map((g) => g.id),
    );
    assert.equal(seen.headers['x-tenant']?.[0], ENTRA_TENANT);
    assert.equal(seen.headers['x-object-id']?.[0], ADELE.oid);
    assert.equal(graph.requests.length, 3, 'three pages, once, at login');
  });

  it('Megan (groups in her token): Graph is never asked', async () => {
    graph.requests.length = 0;
    const { status, echo } = await signedIn(MEGAN, '/notebooks/megan');
    assert.equal(status, 200);
    assert.equal((await echo()).headers['kubeflow-groups']?.[0], MEGAN.groups.join(','));
    assert.equal(graph.requests.length, 0);
  });

  it('Graph down at login: the check is 503, not "no groups"; once Graph is back (after its Retry-After) she gets in', async () => {
    graph.mode = 'down';
    graph.retryAfter = 7;
    const { page, status } = await signedIn(ADELE, '/notebooks/down');
    assert.equal(status, 503);
    graph.mode = 'ok';
    const early = await page.reload();
    assert.equal(early?.status(), 503, 'Graph is not asked again before Retry-After');
    clock.advance(7_000);
    const later = await page.reload();
    assert.equal(later?.status(), 200);
    const seen = JSON.parse(await page.locator('body').innerText()) as Echo;
    assert.ok(seen.headers['kubeflow-groups']?.[0]?.split(',').includes(ALLOWED));
  });

  it('a token refresh reads the groups again with the new access token: a group Graph no longer lists stops counting', async () => {
    const { page, status } = await signedIn(ADELE, '/notebooks/refresh');
    assert.equal(status, 200);
    graph.members.set(
      ADELE.sub,
      GRAPH_GROUPS.filter((g) => g.id !== ALLOWED),
    );
    graph.requests.length = 0;
    const still = await page.reload();
    assert.equal(still?.status(), 200, 'no refresh yet: the groups kept with the session count');
    assert.equal(graph.requests.length, 0);
    clock.advance(61_000);
    const after = await page.reload();
    assert.equal(after?.status(), 403, 'refreshed, and Graph no longer lists the allowed group');
    assert.equal(graph.requests.length, 3);
    graph.members.set(ADELE.sub, GRAPH_GROUPS);
  });
});
