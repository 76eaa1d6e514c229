// A plain-http provider is warned about, unless it is on the loopback interface (the demo, a
// development provider on the same machine), where tokens never cross a network.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainHttpWarning } from '../../src/oidc/client.js';

describe('plain-http provider warning', () => {
  it('warns for http on a network host, not for https nor for loopback', () => {
    for (const issuer of ['http://idp.example.com', 'http://10.0.0.5:8080/realms/x', 'http://127.example.com', 'http://localhost.example.com']) {
      assert.match(plainHttpWarning(issuer) ?? '', /tokens travel unencrypted/, issuer);
    }
    for (const issuer of [
      'https://idp.example.com',
      'http://localhost:5556/dex',
      'http://127.0.0.1:9000',
      'http://127.1.2.3',
      'http://[::1]:8080',
      'http://auth.localhost',
    ]) {
      assert.equal(plainHttpWarning(issuer), undefined, issuer);
    }
  });
});
