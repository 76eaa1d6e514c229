/** The span names of openid-client's calls (oidc/client.ts `callName`): which provider endpoint, and a refresh told from a code exchange. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callName } from '../../src/oidc/client.js';

const md = {
  issuer: 'https://op.example',
  jwks_uri: 'https://op.example/jwks',
  token_endpoint: 'https://op.example/token',
  userinfo_endpoint: 'https://op.example/me',
  introspection_endpoint: 'https://op.example/introspect',
  revocation_endpoint: 'https://op.example/revoke',
};

describe('callName', () => {
  it('names the endpoint a call goes to', () => {
    assert.equal(callName('https://op.example/token', 'grant_type=authorization_code&code=x', md), 'oidc.token');
    assert.equal(callName('https://op.example/token', 'client_id=a&grant_type=refresh_token', md), 'oidc.refresh');
    assert.equal(callName('https://op.example/me', undefined, md), 'oidc.userinfo');
    assert.equal(callName('https://op.example/me?schema=openid', undefined, md), 'oidc.userinfo');
    assert.equal(callName('https://op.example/introspect', 'token=t', md), 'oidc.introspection');
    assert.equal(callName('https://op.example/revoke', 'token=t', md), 'oidc.revocation');
    assert.equal(callName('https://elsewhere.example/x', undefined, md), 'oidc.call');
    assert.equal(callName('https://op.example/token', undefined, undefined), 'oidc.call');
  });
});
