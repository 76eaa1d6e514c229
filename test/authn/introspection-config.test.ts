/** The settings of the opaque/introspection authenticators and the external authorizer: defaults, validation, errors naming the variable. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const REQUIRED = { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'c', CLIENT_SECRET: 's' };
const load = (env: Record<string, string>) => loadConfig({ env: { ...REQUIRED, ...env }, readFile: () => '' }).config;
const problems = (env: Record<string, string>): readonly string[] => {
  try {
    load(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('opaque token, introspection and external authorizer settings', () => {
  it('defaults', () => {
    const c = load({});
    assert.equal(c.accessTokenAuthn, 'jwt');
    assert.equal(c.introspectionUrl, '');
    assert.deepEqual(c.introspectionRequiredScopes, []);
    assert.deepEqual(c.introspectionAudiences, []);
    assert.equal(c.cacheEnabled, false);
    assert.equal(c.cacheExpirationMinutes, 5);
    assert.equal(c.externalAuthzUrl, '');
    assert.equal(c.externalAuthzTimeout, 2000);
    assert.ok(c.externalAuthzTimeout < c.checkTimeout, 'below CHECK_TIMEOUT by default');
  });

  it('ACCESS_TOKEN_AUTHN: jwt, opaque or introspection, case-sensitive as in oidc-authservice', () => {
    assert.equal(load({ ACCESS_TOKEN_AUTHN: 'introspection' }).accessTokenAuthn, 'introspection');
    assert.equal(load({ ACCESS_TOKEN_AUTHN: 'opaque' }).accessTokenAuthn, 'opaque');
    assert.match(problems({ ACCESS_TOKEN_AUTHN: 'Opaque' }).join(), /^ACCESS_TOKEN_AUTHN: must be one of jwt, opaque, introspection/);
  });

  it('introspection lists (scopes by commas or spaces) and the URL', () => {
    const c = load({
      INTROSPECTION_URL: 'https://idp.example.com/introspect',
      INTROSPECTION_REQUIRED_SCOPES: 'read write,admin',
      INTROSPECTION_AUDIENCES: 'api-a, api-b',
    });
    assert.equal(c.introspectionUrl, 'https://idp.example.com/introspect');
    assert.deepEqual(c.introspectionRequiredScopes, ['read', 'write', 'admin']);
    assert.deepEqual(c.introspectionAudiences, ['api-a', 'api-b']);
    assert.match(problems({ INTROSPECTION_URL: '/relative' }).join(), /^INTROSPECTION_URL: must be an absolute URL/);
  });

  it('EXTERNAL_AUTHZ_TIMEOUT: milliseconds, at least 1; EXTERNAL_AUTHZ_URL absolute', () => {
    assert.equal(load({ EXTERNAL_AUTHZ_TIMEOUT: '250' }).externalAuthzTimeout, 250);
    assert.match(problems({ EXTERNAL_AUTHZ_TIMEOUT: '0' }).join(), /^EXTERNAL_AUTHZ_TIMEOUT: must be between 1 and/);
    assert.match(problems({ EXTERNAL_AUTHZ_TIMEOUT: '2s' }).join(), /^EXTERNAL_AUTHZ_TIMEOUT: must be an integer/);
    assert.match(problems({ EXTERNAL_AUTHZ_URL: 'authz.svc/check' }).join(), /^EXTERNAL_AUTHZ_URL: /);
  });
});
