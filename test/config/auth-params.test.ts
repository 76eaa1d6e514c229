import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeParams } from '../../src/config/auth-params.js';
import { loadConfig } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>, readFile = noFiles, configFile?: string) =>
  loadConfig({ env, readFile, ...(configFile !== undefined ? { configFile } : {}) });

describe('OIDC_AUTH_PARAMS and the query of OIDC_AUTH_URL', () => {
  it('takes a query string (percent-decoded) or, in the config file, a mapping; encodes them back once', () => {
    const { config } = load({ ...base, OIDC_AUTH_PARAMS: 'audience=api%3A%2F%2Fx&prompt=select_account&domain_hint=contoso.com' });
    assert.deepEqual(config.oidcAuthParams, [
      ['audience', 'api://x'],
      ['prompt', 'select_account'],
      ['domain_hint', 'contoso.com'],
    ]);
    assert.equal(encodeParams(config.oidcAuthParams), 'audience=api%3A%2F%2Fx&prompt=select_account&domain_hint=contoso.com');
    const file = load(base, () => 'oidcAuthParams:\n  audience: https://api.example.com\n  max_age: 3600\n', 'c.yaml').config;
    assert.deepEqual(file.oidcAuthParams, [
      ['audience', 'https://api.example.com'],
      ['max_age', '3600'],
    ]);
    assert.deepEqual(load(base).config.oidcAuthParams, []);
  });

  it('refuses at start-up every parameter the login sets itself, naming the setting and the parameter', () => {
    for (const p of [
      'state',
      'nonce',
      'code_challenge',
      'code_challenge_method',
      'redirect_uri',
      'client_id',
      'response_type',
      'scope',
      'Scope',
      'request_uri',
    ]) {
      const text = problems(() => load({ ...base, OIDC_AUTH_PARAMS: `audience=x&${p}=evil` })).join('\n');
      assert.match(text, new RegExp(`OIDC_AUTH_PARAMS: .*"${p}" is set by the login itself`), p);
    }
    const twice = problems(() => load({ ...base, OIDC_AUTH_PARAMS: 'prompt=login&prompt=none' })).join('\n');
    assert.match(twice, /OIDC_AUTH_PARAMS: .*"prompt" is given twice/);
    const yaml = problems(() => load(base, () => 'oidcAuthParams:\n  redirect_uri: https://evil.example\n', 'c.yaml')).join('\n');
    assert.match(yaml, /oidcAuthParams.*"redirect_uri" is set by the login itself/);
  });

  it("OIDC_AUTH_URL's own query is allowed, but not one setting a protocol parameter", () => {
    assert.equal(
      load({ ...base, OIDC_AUTH_URL: 'https://b2c.example.com/authorize?p=B2C_1_signin' }).config.oidcAuthUrl,
      'https://b2c.example.com/authorize?p=B2C_1_signin',
    );
    assert.equal(load({ ...base, OIDC_AUTH_URL: '/dex/auth' }).config.oidcAuthUrl, '/dex/auth');
    for (const url of ['https://idp.example.com/auth?client_id=other', '/dex/auth?x=1&state=fixed', '/dex/auth?redirect_uri=https://evil.example']) {
      const text = problems(() => load({ ...base, OIDC_AUTH_URL: url })).join('\n');
      assert.match(text, /OIDC_AUTH_URL: its query sets "(client_id|state|redirect_uri)", which the login sets itself/, url);
    }
  });
});
