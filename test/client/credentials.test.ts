/**
 * `oidc-judge login`'s credential files: where they live, one per site, their modes; and the
 * endpoint URLs the CLI derives from `--url` and `--prefix`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { credentialsDir, deleteCredential, loadCredential, saveCredential, siteOf } from '../../src/client/credentials.js';
import { endpointsOf } from '../../src/client/oauth.js';

describe('oidc-judge login: where credentials are kept', () => {
  const home = mkdtempSync(join(tmpdir(), 'oidc-judge-cred-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('under $XDG_CONFIG_HOME, else ~/.config', () => {
    assert.equal(credentialsDir({ XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/x/oidc-judge');
    assert.equal(credentialsDir({ XDG_CONFIG_HOME: '', HOME: '/h' }), '/h/.config/oidc-judge');
    assert.equal(credentialsDir({ HOME: '/h' }), '/h/.config/oidc-judge');
  });

  it('one 0600 file per site (the same site however its URL is written), in a 0700 directory', () => {
    const dir = join(home, 'oidc-judge');
    saveCredential(dir, { url: 'https://kf.example.com/', accessToken: 'a', expiresAt: 1 });
    saveCredential(dir, { url: 'https://other.example.com', accessToken: 'b', expiresAt: 2 });
    assert.equal(loadCredential(dir, 'https://KF.example.com')?.accessToken, 'a');
    assert.equal(loadCredential(dir, 'https://kf.example.com:443/')?.accessToken, 'a');
    assert.equal(loadCredential(dir, 'https://other.example.com/')?.accessToken, 'b');
    assert.equal(loadCredential(dir, 'https://kf.example.com/another'), undefined);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    deleteCredential(dir, 'https://kf.example.com');
    assert.equal(loadCredential(dir, 'https://kf.example.com'), undefined);
    assert.equal(readdirSync(dir).length, 1);
  });

  it('endpoints under the site and AUTHSERVICE_URL_PREFIX', () => {
    assert.equal(siteOf('https://kf.example.com/'), 'https://kf.example.com');
    const e = endpointsOf('https://kf.example.com', '/authservice/');
    assert.equal(e.login, 'https://kf.example.com/authservice/api/login');
    assert.equal(e.token, 'https://kf.example.com/authservice/api/token');
    assert.equal(endpointsOf('https://kf.example.com/base', 'auth').device, 'https://kf.example.com/base/auth/api/device');
  });
});
