import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createResponses } from '../../src/judge/responses.js';
import { templatesDir } from '../../src/paths.js';
import { createPages, themeUrl, type PagesOptions } from '../../src/web/pages.js';
import { TemplateError } from '../../src/web/template.js';
import { judgeRequest } from '../helpers/request.js';

const BUILT_IN = join(templatesDir, 'default');

const CONTEXT: PagesOptions['context'] = {
  ProviderURL: 'https://idp.example.com',
  ClientName: 'Kubeflow',
  ThemeURL: '/authservice/site/themes/kubeflow',
  Frontend: { SUPPORT: 'ops@example.com' },
};

const pages = createPages({ templateDirs: [BUILT_IN], context: CONTEXT, prefixPath: '/authservice/' });
const HOSTILE = `<script>alert("x")</script>`;

describe('themeUrl', () => {
  it('makes a relative THEMES_URL an absolute path under <prefix>site/', () => {
    assert.equal(themeUrl('/authservice/', 'themes', 'kubeflow'), '/authservice/site/themes/kubeflow');
    assert.equal(themeUrl('/authservice', 'themes/', 'kubeflow'), '/authservice/site/themes/kubeflow');
    assert.equal(themeUrl('/a/b/', 'assets/themes', 'dark'), '/a/b/site/assets/themes/dark');
    assert.equal(themeUrl('/authservice/', '../static', 'kubeflow'), '/authservice/static/kubeflow');
  });

  it('keeps an absolute path or URL as it is', () => {
    assert.equal(themeUrl('/authservice/', '/static/themes', 'kubeflow'), '/static/themes/kubeflow');
    assert.equal(themeUrl('/authservice/', 'https://cdn.example.com/themes/', 'kubeflow'), 'https://cdn.example.com/themes/kubeflow');
    assert.equal(themeUrl('/authservice/', '//cdn.example.com/themes', 'kubeflow'), '//cdn.example.com/themes/kubeflow');
  });
});

describe('pages', () => {
  it("homepage: oidc-authservice's welcome text and a Log in button to /", () => {
    const html = pages.homepage();
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>Kubeflow<\/title>/);
    assert.match(html, /Welcome to Kubeflow<\/h1>/);
    assert.match(html, /<a class="button" href="\/">Log in<\/a>/);
    assert.match(html, /<link rel="stylesheet" href="\/authservice\/site\/themes\/kubeflow\/styles\.css">/);
    assert.match(html, /<\/html>\n*$/);
  });

  it('after_logout: the logged-out text and a Log in button to /', () => {
    const html = pages.afterLogout();
    assert.match(html, /You have successfully logged out from Kubeflow<\/h1>/);
    assert.match(html, /<a class="button" href="\/">Log in<\/a>/);
    assert.match(html, /<title>Logged out · Kubeflow<\/title>/);
  });

  it('forbidden: the reason in plain words and who is signed in, escaped, with a link to the homepage', () => {
    const html = pages.forbidden(HOSTILE, `Only "admins" & <others>`);
    assert.ok(html.includes('<p class="box-text">Only &#34;admins&#34; &amp; &lt;others&gt;</p>'));
    assert.ok(html.includes('You are signed in as <strong>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</strong>.'));
    assert.ok(!html.includes('<script>'));
    assert.match(html, /href="\/authservice\/site\/homepage">Log in again<\/a>/);
  });

  it('forbidden with a switch-account route: a same-origin POST form "Sign in with another account" instead of "Log in again"', () => {
    const html = pages.forbidden('bob', 'no', '/authservice/switch-account?rd=%2Fadmin%3Fa%3D1%26b%3D"x"');
    assert.match(html, /<form class="button-wrapper" method="post" action="\/authservice\/switch-account\?rd=%2Fadmin%3Fa%3D1%26b%3D%22x%22">/);
    assert.match(html, /<button class="button button-secondary" type="submit">Sign in with another account<\/button>/);
    assert.doesNotMatch(html, /Log in again/);
  });

  it("the judge's 403 offers the switch to a session user's browser only, back to the refused path and query", () => {
    const responses = createResponses(pages, { switchAccountPath: '/authservice/switch-account' });
    const nav = judgeRequest('/admin/x?y=1&z=%20', { headers: { accept: 'text/html' } });
    const session = { user: 'bob', groups: [], claims: {}, method: 'cookie' as const, authenticator: 'session' };
    assert.match(responses.forbidden(nav, session, 'no').body, /action="\/authservice\/switch-account\?rd=%2Fadmin%2Fx%3Fy%3D1%26z%3D%2520"/);
    const bearer = { ...session, method: 'header' as const, authenticator: 'access-token' };
    assert.doesNotMatch(responses.forbidden(nav, bearer, 'no').body, /switch-account/, 'a bearer token is not signed out by a form');
    const api = responses.forbidden(judgeRequest('/admin', { headers: { accept: 'application/json' } }), session, 'no');
    assert.equal(api.body, JSON.stringify({ error: 'forbidden', message: 'no' }));
    assert.doesNotMatch(createResponses(pages).forbidden(nav, session, 'no').body, /switch-account/, 'no login flow: no offer');
  });

  it('forbidden links to HOMEPAGE_URL when set', () => {
    const p = createPages({ templateDirs: [BUILT_IN], context: CONTEXT, prefixPath: '/authservice/', homepageUrl: 'https://portal.example.com/' });
    assert.match(p.forbidden('alice', 'no'), /href="https:\/\/portal\.example\.com\/">Log in again/);
  });

  it('error pages: status, title, message, detail and action, all escaped; an unsafe action URL is neutralised', () => {
    const html = pages.error({
      status: 404,
      title: 'Not <here>',
      message: 'Gone & lost',
      detail: 'id <1>',
      action: { href: 'javascript:alert(1)', label: 'Back <home>' },
    });
    assert.match(html, /Error 404/);
    assert.match(html, /<title>Not &lt;here&gt; · Kubeflow<\/title>/);
    assert.match(html, /<h1 class="box-content" id="title">Not &lt;here&gt;<\/h1>/);
    assert.match(html, /<p class="box-text">Gone &amp; lost<\/p>/);
    assert.match(html, /<p class="detail">id &lt;1&gt;<\/p>/);
    assert.match(html, /<a class="button" href="#ZgotmplZ">Back &lt;home&gt;<\/a>/);
    const bare = pages.error({ status: 500, title: 'Oops', message: 'm' });
    assert.ok(!bare.includes('class="detail"'));
    assert.ok(!bare.includes('class="button"'));
  });

  it('unauthenticated, loginFailed and unavailable', () => {
    assert.match(pages.unauthenticated(), /Sign-in required<\/h1>/);
    const failed = pages.loginFailed(`state mismatch ${HOSTILE}`);
    assert.match(failed, /Sign-in failed<\/h1>/);
    assert.ok(failed.includes('state mismatch &lt;script&gt;'));
    assert.match(failed, /Error 400/);
    assert.match(failed, /<a class="button" href="\/authservice\/site\/homepage">Try again<\/a>/, 'no target known: the homepage');
    const cancelled = pages.loginFailed('x', 'https://app.example.com/reports?q=1', 403);
    assert.match(cancelled, /Error 403/);
    assert.doesNotMatch(cancelled, /Error 400/);
    assert.match(cancelled, /href="https:\/\/app.example.com\/reports\?q=1">Try again/);
    assert.match(pages.unavailable(), /Error 503/);
    assert.match(pages.unavailable(), /Temporarily unavailable<\/h1>/);
  });

  it("plugs into the judge's responses as its Pages port", () => {
    const responses = createResponses(pages);
    const nav = judgeRequest('/app', { headers: { accept: 'text/html' } });
    const identity = { user: HOSTILE, groups: [], claims: {}, method: 'cookie' as const, authenticator: 'session' };
    const d = responses.forbidden(nav, identity, 'Not allowed by access rule authzRules[3].');
    assert.equal(d.status, 403);
    assert.ok(d.headers.some(([k, v]) => k === 'content-type' && v.startsWith('text/html')));
    // People read plain words; which rule refused is the deny's detail (the decision log), never the page.
    assert.ok(d.body.includes('<p class="box-text">Your account does not have access to this page.</p>'));
    assert.ok(!d.body.includes('authzRules'));
    assert.equal(d.kind === 'deny' ? d.detail : undefined, 'Not allowed by access rule authzRules[3].');
    const described = responses.forbidden(nav, identity, 'Not allowed by access rule authzRules[3].', 'Reports are for the finance team.');
    assert.ok(described.body.includes('<p class="box-text">Reports are for the finance team.</p>'));
    const api = responses.forbidden(judgeRequest('/app', { headers: { accept: 'application/json' } }), identity, 'Not allowed by access rule authzRules[3].');
    assert.deepEqual(
      JSON.parse(api.body),
      { error: 'forbidden', message: 'Not allowed by access rule authzRules[3].' },
      'API clients keep the technical reason',
    );
    assert.match(d.body, /\/authservice\/site\/themes\/kubeflow\/styles\.css/);
    assert.match(responses.unauthenticated(nav).body, /Sign-in required/);
    const down = responses.unavailable(nav, 'session store: StoreUnavailableError');
    assert.equal(down.status, 503);
    assert.match(down.body, /Error 503/);
    assert.match(down.body, /Temporarily unavailable<\/h1>/);
    assert.match(down.body, /\/authservice\/site\/themes\/kubeflow\/styles\.css/, 'themed');
    assert.ok(!down.body.includes('StoreUnavailable'));
  });

  describe('overrides through TEMPLATE_PATH', () => {
    const root = mkdtempSync(join(tmpdir(), 'oidc-judge-pages-'));
    after(() => rmSync(root, { recursive: true, force: true }));

    it('a custom homepage and header replace the built-in ones; .Frontend values reach them', () => {
      const custom = join(root, 'custom');
      mkdirSync(custom);
      writeFileSync(join(custom, 'homepage.html'), '{{ template "header.html" . }}<p>Ask {{ index .Frontend "SUPPORT" }}</p>');
      writeFileSync(join(custom, 'header.html'), '<h1>{{ .ClientName }} custom</h1>');
      const p = createPages({ templateDirs: [BUILT_IN, custom], context: CONTEXT, prefixPath: '/authservice/' });
      assert.equal(p.homepage(), '<h1>Kubeflow custom</h1><p>Ask ops@example.com</p>');
      assert.match(p.afterLogout(), /^<h1>Kubeflow custom<\/h1>/);
    });

    it('a broken override fails with its file and line', () => {
      const broken = join(root, 'broken');
      mkdirSync(broken);
      writeFileSync(join(broken, 'forbidden.html'), '<p>\n{{ .User | upper }}</p>');
      assert.throws(
        () => createPages({ templateDirs: [BUILT_IN, broken], context: CONTEXT, prefixPath: '/authservice/' }),
        (err: unknown) => err instanceof TemplateError && err.message.startsWith(`${join(broken, 'forbidden.html')}:2:`),
      );
    });

    it('a template directory without the pages is refused', () => {
      const empty = join(root, 'empty');
      mkdirSync(empty);
      assert.throws(
        () => createPages({ templateDirs: [empty], context: CONTEXT, prefixPath: '/authservice/' }),
        /templates missing from .*: homepage\.html, after_logout\.html, error\.html, forbidden\.html/,
      );
    });
  });
});
