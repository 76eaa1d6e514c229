import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loggedReason } from '../../src/errors.js';
import { isNavigation } from '../../src/judge/browser.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createResponses } from '../../src/judge/responses.js';

const req = (method: string, headers: Record<string, string>): JudgeRequest => ({
  method,
  scheme: 'https',
  host: 'app.example.com',
  path: '/',
  headers,
  peer: '127.0.0.1',
  requestId: 'r1',
  denyStyle: 'redirect',
  via: 'http',
});
const html = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

describe('browser vs API', () => {
  it('treats only top-level GET navigations accepting HTML as browser navigations', () => {
    assert.equal(isNavigation(req('GET', { accept: html })), true);
    assert.equal(isNavigation(req('GET', { accept: html, 'sec-fetch-mode': 'navigate' })), true);
    assert.equal(isNavigation(req('GET', { accept: html, 'sec-fetch-mode': 'cors' })), false);
    assert.equal(isNavigation(req('GET', { accept: html, authorization: 'Bearer x' })), false);
    assert.equal(isNavigation(req('GET', { accept: html, 'x-requested-with': 'XMLHttpRequest' })), false);
    assert.equal(isNavigation(req('GET', { accept: 'application/json' })), false);
    assert.equal(isNavigation(req('GET', {})), false);
    assert.equal(isNavigation(req('POST', { accept: html })), false);
  });

  it('answers API clients with 401 JSON and a Bearer challenge', () => {
    const d = createResponses().unauthenticated(req('GET', { accept: 'application/json' }));
    assert.equal(d.status, 401);
    assert.deepEqual(JSON.parse(d.body), { error: 'unauthenticated', message: 'Authentication required' });
    assert.ok(d.headers.some(([k, v]) => k === 'www-authenticate' && v.startsWith('Bearer ')));
    assert.ok(d.headers.some(([k, v]) => k === 'content-type' && v === 'application/json'));
  });

  it('escapes the user and reason on the 403 page (oidc-authservice did not)', () => {
    const id = { user: '<script>alert(1)</script>', groups: [], claims: {}, method: 'cookie' as const, authenticator: 'session' };
    const d = createResponses().forbidden(req('GET', { accept: html }), id, 'reason with "<b>"');
    assert.equal(d.status, 403);
    assert.ok(!d.body.includes('<script>') && !d.body.includes('<b>'));
    assert.match(d.body, /&#60;script&#62;/);
    const api = createResponses().forbidden(req('GET', { accept: 'application/json' }), id, 'nope');
    assert.deepEqual(JSON.parse(api.body), { error: 'forbidden', message: 'nope' });
  });

  it('keeps quotes and newlines out of WWW-Authenticate', () => {
    const d = createResponses().invalidToken(req('GET', {}), 'access_token', 'bad "token"\r\nx: y');
    const challenge = d.headers.find(([k]) => k === 'www-authenticate')?.[1] ?? '';
    assert.match(challenge, /error="invalid_token", error_description="bad tokenx: y"$/);
  });

  it('answers 503 with Retry-After when it cannot decide', () => {
    const d = createResponses().unavailable(req('GET', {}), 'provider');
    assert.equal(d.status, 503);
    assert.ok(d.headers.some(([k]) => k === 'retry-after'));
  });

  it('answers a browser navigation that cannot be decided with the "unavailable" page, an API call with JSON; never the reason', () => {
    const reason = 'session store: StoreUnavailableError <redis://10.0.0.7:6379>';
    const nav = createResponses().unavailable(req('GET', { accept: html, 'sec-fetch-mode': 'navigate' }), reason);
    assert.equal(nav.status, 503);
    assert.equal(loggedReason(nav.reason, nav.detail), `unavailable:${reason}`, 'the reason stays in the decision (logs)');
    assert.deepEqual(
      nav.headers.find(([k]) => k === 'content-type'),
      ['content-type', 'text/html; charset=utf-8'],
    );
    assert.deepEqual(
      nav.headers.find(([k]) => k === 'retry-after'),
      ['retry-after', '5'],
    );
    assert.match(nav.body, /<h1>Temporarily unavailable<\/h1>/);
    assert.ok(!nav.body.includes('redis') && !nav.body.includes('StoreUnavailable'));
    for (const headers of [{ accept: 'application/json' }, { accept: html, 'sec-fetch-mode': 'cors' }, { accept: html, authorization: 'Bearer x' }]) {
      const api = createResponses().unavailable(req('GET', headers), reason);
      assert.equal(api.status, 503);
      assert.deepEqual(JSON.parse(api.body), { error: 'unavailable', message: 'Service unavailable, try again shortly' });
      assert.deepEqual(
        api.headers.find(([k]) => k === 'retry-after'),
        ['retry-after', '5'],
      );
    }
  });
});
