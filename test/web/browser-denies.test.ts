/**
 * Browsers never see raw JSON: a browser document of any method (a form post too) gets a themed
 * page — a sign-in action when it has no session, "Try again" when the service is unavailable —
 * with the security headers and CSP every page of ours carries; scripts still get JSON.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Deny } from '../../src/judge/decision.js';
import { createResponses } from '../../src/judge/responses.js';
import { templatesDir } from '../../src/paths.js';
import { createPages } from '../../src/web/pages.js';
import { judgeRequest } from '../helpers/request.js';

const pages = createPages({
  templateDirs: [join(templatesDir, 'default')],
  context: { ProviderURL: 'https://idp.example.com', ClientName: 'Kubeflow', ThemeURL: '/authservice/site/themes/kubeflow', Frontend: {} },
  prefixPath: '/authservice/',
  formActions: ['https://idp.example.com'],
});
const responses = createResponses(pages, { loginPath: '/authservice/login', switchAccountPath: '/authservice/switch-account' });

const FORM = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const header = (d: Deny, name: string): string | undefined => d.headers.find(([n]) => n === name)?.[1];
/** The href of the page's action button. */
const action = (html: string): string | undefined => /<a class="button[^"]*" href="([^"]*)"/.exec(html)?.[1];

describe('deny pages for browsers', () => {
  it('a form post without a session: a themed 401 page whose Sign in returns to the page that held the form', () => {
    const post = judgeRequest('/notebooks/save', { method: 'POST', headers: { ...FORM, referer: 'https://app.example.com/notebooks/edit?id=7' } });
    const d = responses.unauthenticated(post);
    assert.equal(d.status, 401);
    assert.match(header(d, 'content-type') ?? '', /^text\/html/);
    assert.match(d.body, /Sign-in required/);
    assert.equal(action(d.body), `/authservice/login?rd=${encodeURIComponent('/notebooks/edit?id=7')}`.replace(/&/g, '&amp;'));
  });

  it('a referer from another site is not followed: Sign in returns to the root; a GET returns to itself', () => {
    const foreign = judgeRequest('/x', { method: 'POST', headers: { ...FORM, referer: 'https://evil.example.net/phish' } });
    assert.equal(action(responses.unauthenticated(foreign).body), '/authservice/login?rd=%2F');
    const get = judgeRequest('/reports?q=1', { headers: FORM });
    assert.equal(action(responses.unauthenticated(get).body), `/authservice/login?rd=${encodeURIComponent('/reports?q=1')}`);
  });

  it('scripts still get JSON: fetch/XHR, an Authorization header, an API Accept', () => {
    for (const headers of [
      { accept: 'text/html', 'sec-fetch-mode': 'cors' },
      { accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' },
      { accept: 'text/html', authorization: 'Bearer x' },
      { accept: 'application/json' },
    ]) {
      const d = responses.unauthenticated(judgeRequest('/api', { method: 'POST', headers }));
      assert.equal(header(d, 'content-type'), 'application/json', JSON.stringify(headers));
    }
  });

  it('503 for a browser: a themed page with Try again back to the page, and Retry-After', () => {
    const d = responses.unavailable(judgeRequest('/reports?q=1', { headers: FORM }), 'session store: down');
    assert.equal(d.status, 503);
    assert.equal(header(d, 'retry-after'), '5');
    assert.match(d.body, />Try again</);
    assert.equal(action(d.body), '/reports?q=1');
  });

  it('every page the judge sends carries the security headers and a CSP of its own, as the web server pages do', () => {
    const identity = { user: 'bob', groups: [], claims: {}, method: 'cookie' as const, authenticator: 'session' };
    const nav = judgeRequest('/admin', { headers: FORM });
    for (const d of [responses.forbidden(nav, identity, 'rule'), responses.unauthenticated(nav), responses.unavailable(nav, 'x')]) {
      assert.equal(header(d, 'x-content-type-options'), 'nosniff', String(d.status));
      assert.equal(header(d, 'x-frame-options'), 'DENY');
      assert.equal(header(d, 'referrer-policy'), 'no-referrer');
      assert.equal(header(d, 'cross-origin-opener-policy'), 'same-origin');
      const csp = header(d, 'content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /form-action 'self' https:\/\/idp\.example\.com/);
    }
  });
});
