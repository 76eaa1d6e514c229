import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameOriginPost } from '../../src/oidc/logout.js';
import { judgeRequest } from '../helpers/request.js';

const post = (headers: Record<string, string>) => judgeRequest('/authservice/logout', { method: 'POST', headers });

describe('browser logout: only same-origin POSTs count', () => {
  it('accepts a same-origin form POST (Origin ours, or null under Referrer-Policy: no-referrer, with Sec-Fetch-Site same-origin)', () => {
    assert.equal(sameOriginPost(post({ origin: 'https://app.example.com', 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(sameOriginPost(post({ origin: 'null', 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(sameOriginPost(post({ 'sec-fetch-site': 'same-origin' })), true);
    assert.equal(sameOriginPost(post({ origin: 'https://app.example.com' })), true, 'older browsers: Origin alone');
  });

  it('refuses cross-site, same-site (another subdomain), null without fetch metadata, and requests without any browser header', () => {
    assert.equal(sameOriginPost(post({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })), false);
    assert.equal(sameOriginPost(post({ origin: 'https://other.example.com', 'sec-fetch-site': 'same-site' })), false);
    assert.equal(sameOriginPost(post({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' })), false, 'a lying Origin still refuses');
    assert.equal(sameOriginPost(post({ origin: 'null' })), false);
    assert.equal(sameOriginPost(post({ origin: 'http://app.example.com' })), false, 'scheme is part of the origin');
    assert.equal(sameOriginPost(post({})), false, "Go's http client (oidc-authservice's e2e) sends neither");
  });
});
