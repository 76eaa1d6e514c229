import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedHostError, hostAllowed } from '../../src/net/allowed-hosts.js';

describe('allowedHostError', () => {
  it('accepts hosts, ports, wildcards and IP literals', () => {
    for (const e of ['example.com', 'example.com:8443', '*.example.com', '*.example.com:8443', '127.0.0.1', '[::1]:8080', 'bücher.example']) {
      assert.equal(allowedHostError(e), undefined, e);
    }
  });
  it('names the entry it refuses', () => {
    for (const e of ['', '*', '*.', 'https://example.com', 'example.com/', 'u@example.com', 'example.com:x', '*.1.2.3.4', 'a b', 'example.com.']) {
      assert.match(allowedHostError(e) ?? '', /is not a host/, e);
    }
  });
});

describe('hostAllowed', () => {
  it('matches exact hosts on the default port, explicit ports, and subdomains (not the apex) of wildcards', () => {
    const hosts = ['app.example.com', 'api.example.com:8443', '*.corp.example'];
    assert.equal(hostAllowed(new URL('https://app.example.com/x'), hosts), true);
    assert.equal(hostAllowed(new URL('https://app.example.com:8443/x'), hosts), false);
    assert.equal(hostAllowed(new URL('https://api.example.com:8443/'), hosts), true);
    assert.equal(hostAllowed(new URL('https://a.corp.example/'), hosts), true);
    assert.equal(hostAllowed(new URL('https://corp.example/'), hosts), false);
  });
  it('ignores entries that are not hosts', () => {
    assert.equal(hostAllowed(new URL('https://evil.com/'), ['*', 'evil.com/path', 'u@evil.com']), false);
  });
});
