import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { switchPrompt } from '../../src/oidc/switch-account.js';

describe('switch account: which prompt', () => {
  it('select_account when the provider lists it in prompt_values_supported, else login (OIDC Core; every provider knows it)', () => {
    assert.equal(switchPrompt({ prompt_values_supported: ['none', 'login', 'consent', 'select_account'] }), 'select_account');
    assert.equal(switchPrompt({ prompt_values_supported: ['none', 'login', 'consent'] }), 'login');
    assert.equal(switchPrompt({ prompt_values_supported: 'select_account' }), 'login', 'not a list: not trusted');
    assert.equal(switchPrompt({}), 'login');
    assert.equal(switchPrompt(undefined), 'login');
  });
});
