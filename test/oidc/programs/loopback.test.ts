/**
 * What a program login may name as its redirect URI (loopback `http` only, RFC 8252 §7.3) and its
 * PKCE checks (S256 only, RFC 7636): the refusals the issue asks for, one by one.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { challengeProblem, loopbackRedirect, verifierMatches } from '../../../src/oidc/programs/loopback.js';

describe('program login: loopback redirect URIs (RFC 8252 §7.3)', () => {
  it('takes http to 127.0.0.1, [::1] or localhost, on any port and path', () => {
    for (const uri of ['http://127.0.0.1:49152/callback', 'http://[::1]:8000/', 'http://localhost:1/x?y=1', 'http://127.0.0.1/cb', 'http://LOCALHOST:5/cb']) {
      assert.ok(loopbackRedirect(uri) instanceof URL, uri);
    }
  });

  it('refuses everything else, saying why', () => {
    for (const uri of [
      null,
      '',
      'not a url',
      'https://127.0.0.1:1/cb',
      'http://127.0.0.2:1/cb',
      'http://localhost.evil.example/cb',
      'http://127.0.0.1.nip.io/cb',
      'http://evil.example@127.0.0.1/cb',
      'http://127.0.0.1:1/cb#frag',
      'http://0.0.0.0:1/cb',
      'http://[::ffff:127.0.0.1]:1/cb',
      'javascript:alert(1)',
      `http://127.0.0.1/${'a'.repeat(300)}`,
    ]) {
      assert.equal(typeof loopbackRedirect(uri), 'string', String(uri));
    }
  });
});

describe('program login: PKCE (RFC 7636)', () => {
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  it('wants an S256 challenge', () => {
    assert.equal(challengeProblem(challenge, 'S256'), undefined);
    assert.match(challengeProblem(challenge, 'plain') ?? '', /S256/);
    assert.match(challengeProblem(challenge, null) ?? '', /S256/);
    assert.match(challengeProblem('short', 'S256') ?? '', /43/);
    assert.match(challengeProblem(null, 'S256') ?? '', /43/);
  });

  it('matches only the verifier whose hash the challenge is', () => {
    assert.equal(verifierMatches(verifier, challenge), true);
    assert.equal(verifierMatches('w'.repeat(43), challenge), false);
    assert.equal(verifierMatches(challenge, challenge), false, 'the challenge is no verifier');
    assert.equal(verifierMatches('v'.repeat(42), challenge), false, 'too short for RFC 7636');
    assert.equal(verifierMatches(null, challenge), false);
  });
});
