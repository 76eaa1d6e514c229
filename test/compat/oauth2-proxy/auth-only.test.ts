/**
 * oauth2-proxy's `/oauth2/auth` on the judge port (COMPAT_ENDPOINTS=oauth2-proxy): nginx
 * `auth_request` semantics with oauth2-proxy's statuses — 202 with the identity headers on allow,
 * 401 / 403 otherwise, never a redirect; the original URI from a trusted proxy's X-Original-URI.
 * Without the setting the path is an ordinary check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { send } from '../../helpers/http-send.js';
import { allowAlice, forbiddenHtml, start } from '../../helpers/http-judge.js';
import { deny } from '../../../src/judge/decision.js';

describe('/oauth2/auth on the judge port', () => {
  it('answers 202 with the identity headers on allow, judging X-Original-URI as a status-only check', async () => {
    const h = await start({ authOnlyPath: '/oauth2/auth' });
    h.decide = () => allowAlice;
    const r = await send(h.port, '/oauth2/auth', { headers: { 'x-original-uri': '/notebook/alice/?x=1', 'x-original-method': 'POST' } });
    assert.equal(r.status, 202);
    assert.equal(r.headers['kubeflow-userid'], 'alice@example.com');
    assert.equal(h.seen[0]!.path, '/notebook/alice/?x=1');
    assert.equal(h.seen[0]!.method, 'POST');
    assert.equal(h.seen[0]!.denyStyle, 'status-only');
  });

  it('passes 401 and 403 through, and turns any 2xx deny into 403', async () => {
    const h = await start({ authOnlyPath: '/oauth2/auth' });
    h.decide = () => deny(401, 'no-credentials', '{}', [['content-type', 'application/json']]);
    assert.equal((await send(h.port, '/oauth2/auth')).status, 401);
    h.decide = () => forbiddenHtml;
    assert.equal((await send(h.port, '/oauth2/auth')).status, 403);
    h.decide = () => deny(200, 'compat-userinfo', '{}');
    assert.equal((await send(h.port, '/oauth2/auth')).status, 403);
  });

  it('is an ordinary check (200 on allow) without the setting', async () => {
    const h = await start();
    h.decide = () => allowAlice;
    const r = await send(h.port, '/oauth2/auth');
    assert.equal(r.status, 200);
    assert.equal(h.seen[0]!.path, '/oauth2/auth');
  });
});
