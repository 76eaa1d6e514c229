// `__Host-` / `__Secure-` session cookie names: accepted when browsers would store them, refused
// at start-up (naming the setting) when they would silently drop them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>) => loadConfig({ env: { ...base, ...env }, readFile: noFiles });

describe('cookie name prefixes', () => {
  it('accepts __Host- with the defaults (Secure, Path=/, no Domain) and __Secure- with a Domain', () => {
    assert.equal(load({ SESSION_COOKIE_NAME: '__Host-authservice_session' }).config.sessionCookieName, '__Host-authservice_session');
    assert.equal(load({ SESSION_COOKIE_NAME: '__Secure-authservice_session', SESSION_COOKIE_DOMAIN: 'example.com' }).config.sessionCookieDomain, 'example.com');
  });

  it('refuses __Host- with a Domain, a Path other than / or Secure=false, naming each setting', () => {
    const p = problems(() =>
      load({ SESSION_COOKIE_NAME: '__Host-s', SESSION_COOKIE_DOMAIN: 'example.com', SESSION_COOKIE_PATH: '/app', SESSION_COOKIE_SECURE: 'false' }),
    ).join('\n');
    assert.match(p, /SESSION_COOKIE_DOMAIN: must be empty with SESSION_COOKIE_NAME=__Host-s/);
    assert.match(p, /SESSION_COOKIE_PATH: must be "\/" with SESSION_COOKIE_NAME=__Host-s/);
    assert.match(p, /SESSION_COOKIE_SECURE: must be true with SESSION_COOKIE_NAME=__Host-s/);
  });

  it('refuses __Secure- with Secure=false', () => {
    assert.match(
      problems(() => load({ SESSION_COOKIE_NAME: '__Secure-s', SESSION_COOKIE_SECURE: 'false' })).join('\n'),
      /SESSION_COOKIE_SECURE: must be true with SESSION_COOKIE_NAME=__Secure-s/,
    );
  });

  it('LOGIN_STATE_SECRET must be long enough', () => {
    assert.match(problems(() => load({ LOGIN_STATE_SECRET: 'short' })).join('\n'), /LOGIN_STATE_SECRET: must be at least 32 characters/);
    assert.equal(load({ LOGIN_STATE_SECRET: 'x'.repeat(32) }).config.loginStateSecret, 'x'.repeat(32));
  });
});
