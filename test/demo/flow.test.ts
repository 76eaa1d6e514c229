import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext } from '../helpers/browser.js';
import type { BackchannelRecord, DevProvider } from '../../src/demo/provider.js';
import { discover, nextLogoutToken, signIn, startOpFor, startRp, CLIENT_ID, CLIENT_SECRET, type Rp } from './rp.js';

describe('development OpenID Provider: code flow with PKCE driven by openid-client and Chromium', () => {
  let rp: Rp;
  let op: DevProvider;
  let browser: Browser;

  before(async () => {
    rp = await startRp();
    op = await startOpFor(rp, { issuerHost: 'localhost' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await op?.stop();
    await rp?.stop();
  });

  async function withPage<T>(fn: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    const ctx = await newContext(browser);
    try {
      return await fn(await ctx.newPage());
    } finally {
      await ctx.close();
    }
  }

  it('signs alice in: ID token claims, userinfo, introspection, and a working refresh token', async () => {
    const config = await discover(op);
    const tokens = await withPage((page) => signIn(page, config, rp, 'alice@example.com', 'alice-demo'));
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims['email'], 'alice@example.com');
    assert.equal(claims['email_verified'], true);
    assert.equal(claims['name'], 'Alice Admin');
    assert.equal(claims['preferred_username'], 'alice');
    assert.deepEqual(claims['groups'], ['admins', 'staff']);
    assert.equal(typeof claims['sid'], 'string');
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'a refresh token without offline_access');

    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    assert.deepEqual(info['groups'], ['admins', 'staff']);
    assert.equal(info.email, 'alice@example.com');

    const intro = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, 'alice');
    assert.equal(intro.client_id, CLIENT_ID);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.deepEqual(refreshed.claims()?.['groups'], ['admins', 'staff']);
    // Without rotation the same refresh token keeps working.
    assert.ok((await client.refreshTokenGrant(config, tokens.refresh_token)).access_token);
    const grants = op.stats.tokenRequests.filter((r) => r.clientId === CLIENT_ID).map((r) => `${r.grantType}:${r.ok}`);
    assert.deepEqual(grants.slice(-3), ['authorization_code:true', 'refresh_token:true', 'refresh_token:true']);
  });

  it('signs bob in by username, with his own groups, using client_secret_post when registered so', async () => {
    const postOp = await startOpFor(rp, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [rp.redirectUri], token_endpoint_auth_method: 'client_secret_post' }],
    });
    try {
      const config = await discover(postOp, client.ClientSecretPost(CLIENT_SECRET));
      const tokens = await withPage((page) => signIn(page, config, rp, 'bob', 'bob-demo'));
      assert.equal(tokens.claims()?.['email'], 'bob@example.com');
      assert.deepEqual(tokens.claims()?.['groups'], ['guests']);
    } finally {
      await postOp.stop();
    }
  });

  it('rotates refresh tokens when asked to: the old one is then refused', async () => {
    const rotating = await startOpFor(rp, { rotateRefreshTokens: true });
    try {
      const config = await discover(rotating);
      const tokens = await withPage((page) => signIn(page, config, rp, 'alice', 'alice-demo'));
      const next = await client.refreshTokenGrant(config, tokens.refresh_token ?? '');
      assert.ok(next.refresh_token);
      assert.notEqual(next.refresh_token, tokens.refresh_token);
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token ?? ''), (e: Error & { error?: string }) => e.error === 'invalid_grant');
    } finally {
      await rotating.stop();
    }
  });

  it('revokes a refresh token (RFC 7009): refresh and introspection then fail', async () => {
    const config = await discover(op);
    const tokens = await withPage((page) => signIn(page, config, rp, 'alice@example.com', 'alice-demo'));
    await client.tokenRevocation(config, tokens.refresh_token ?? '');
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token ?? ''), (e: Error & { error?: string }) => e.error === 'invalid_grant');
    // Revoking the refresh token revokes its grant, and with it the access token.
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
    const last = op.stats.tokenRequests.at(-1);
    assert.deepEqual(last, { grantType: 'refresh_token', clientId: CLIENT_ID, ok: false, error: 'invalid_grant' });
    assert.ok((op.stats.requests.get('/token/revocation') ?? 0) >= 1);
  });

  it('logs out with id_token_hint without asking, back to post_logout_redirect_uri, and sends a back-channel logout', async () => {
    const config = await discover(op);
    await withPage(async (page) => {
      const tokens = await signIn(page, config, rp, 'alice@example.com', 'alice-demo');
      const sid = tokens.claims()?.['sid'];
      const logoutsBefore = op.stats.logouts;
      const delivered = nextLogoutToken(rp);
      // The provider records the delivery once it has the RP's answer: after the RP saw the token.
      const recorded = new Promise<BackchannelRecord>((resolve) => op.events.once('backchannel', resolve));
      const end = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: rp.postLogoutUri, state: 'bye' });
      await page.goto(end.href);
      await page.waitForURL((u) => u.href.startsWith(rp.postLogoutUri));
      assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
      assert.equal(op.stats.logouts, logoutsBefore + 1);

      const logoutToken = await delivered;
      const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri ?? ''));
      const { payload } = await jwtVerify(logoutToken, jwks, { issuer: op.issuer, audience: CLIENT_ID });
      assert.equal(payload.sub, 'alice');
      assert.equal(payload['sid'], sid);
      assert.ok(payload['events'] && typeof payload['events'] === 'object' && 'http://schemas.openid.net/event/backchannel-logout' in payload['events']);
      assert.equal((await recorded).ok, true);

      // Logout revoked the grant, and the refresh token with it.
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token ?? ''));
    });
  });

  it('asks before logging out when the request carries no id_token_hint', async () => {
    const config = await discover(op);
    await withPage(async (page) => {
      const tokens = await signIn(page, config, rp, 'bob@example.com', 'bob-demo');
      assert.equal(decodeJwt(tokens.id_token ?? '').sub, 'bob');
      const end = new URL(config.serverMetadata().end_session_endpoint ?? '');
      end.searchParams.set('client_id', CLIENT_ID);
      await page.goto(end.href);
      await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
      assert.match(await page.locator('body').innerText(), /sign out from Demo App/);
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    });
  });
});
