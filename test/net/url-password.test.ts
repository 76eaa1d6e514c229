/** Passwords inside URLs are redacted wherever settings are shown: check-config, the start-up log line, configuration errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/error.js';
import { loadConfig, redacted } from '../../src/config/load.js';
import { redactUrlPasswords, redactUrlPasswordsDeep } from '../../src/net/url-password.js';
import { base, noFiles } from '../helpers/config.js';

describe('passwords inside URLs', () => {
  it('become *** and the rest of the URL stays readable', () => {
    assert.equal(redactUrlPasswords('https://judge:s3cret@idp.example.com/introspect'), 'https://judge:***@idp.example.com/introspect');
    assert.equal(redactUrlPasswords('redis://:pw@r1:6379,rediss://user:p%40ss@r2:6380/0'), 'redis://:***@r1:6379,rediss://user:***@r2:6380/0');
    assert.equal(redactUrlPasswords('redis://default:a@b@host:6379'), 'redis://default:***@host:6379', 'an unescaped @ in the password');
    assert.equal(redactUrlPasswords('got "ftp://u:hunter2@x y"'), 'got "ftp://u:***@x y"');
    for (const clean of ['https://user@host/', 'https://host:8443/a:b@c', 'host:6379', '/path', 'mailto:a@b.c']) assert.equal(redactUrlPasswords(clean), clean);
    assert.deepEqual(redactUrlPasswordsDeep({ a: ['http://u:p@h'], b: 1, c: { d: 'http://u:p@h' } }), {
      a: ['http://u:***@h'],
      b: 1,
      c: { d: 'http://u:***@h' },
    });
  });

  it('are redacted in the effective config (check-config and the start-up line)', () => {
    const { config } = loadConfig({
      env: {
        ...base,
        INTROSPECTION_URL: 'https://judge:intro-pw@idp.example.com/introspect',
        EXTERNAL_AUTHZ_URL: 'https://u:authz-pw@authz.example.com/check',
        SESSION_STORE_REDIS_ADDR: 'redis://:redis-pw@r1:6379',
        TEMPLATE_CONTEXT_LINK: 'https://a:tpl-pw@docs.example.com',
      },
      readFile: noFiles,
    });
    const shown = JSON.stringify(redacted(config));
    for (const pw of ['intro-pw', 'authz-pw', 'redis-pw', 'tpl-pw']) assert.ok(!shown.includes(pw), pw);
    assert.match(shown, /"introspectionUrl":"https:\/\/judge:\*\*\*@idp\.example\.com\/introspect"/);
    assert.match(shown, /"externalAuthzUrl":"https:\/\/u:\*\*\*@authz\.example\.com\/check"/);
    assert.match(shown, /"sessionStoreRedisAddr":"redis:\/\/:\*\*\*@r1:6379"/);
    assert.equal(config.introspectionUrl, 'https://judge:intro-pw@idp.example.com/introspect', 'the service itself still uses it');
  });

  it('are not repeated by a configuration error quoting the value', () => {
    const e = new ConfigError(['HOMEPAGE_URL: must be an absolute URL, got "ftp://u:hunter2@x y"']);
    assert.ok(!e.message.includes('hunter2'));
    assert.match(e.message, /ftp:\/\/u:\*\*\*@x y/);
  });
});
