import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForwarderBlocks } from '../../../src/forward/runtime/blocks.js';
import { oidcProxyBlocks } from '../../../src/forward/runtime/compat/oidc-proxy.js';
import { egressMode } from '../../../src/forward/egress/mode.js';
import type { EgressOptions } from '../../../src/forward/egress/options.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { durationSeconds } from '../../../src/forward/egress/durations.js';

function parse(block: Record<string, unknown>): { options: ReturnType<typeof egressMode.parse>; errs: string[] } {
  const errs: string[] = [];
  return { options: egressMode.parse(block, 'forwarders[1]', errs), errs };
}

describe('egress options', () => {
  it('static token: defaults for everything else', () => {
    const { options, errs } = parse({ upstream: 'http://svc:8080/base', token: { source: 'static', token: 'abc.def' } });
    assert.deepEqual(errs, []);
    assert.deepEqual(options, {
      upstream: 'http://svc:8080/base',
      token: { source: 'static', token: 'abc.def' },
      host: 'upstream',
      upstreamTls: { insecureSkipVerify: false },
      jwksPath: '/.well-known/jwks.json',
      renewMarginSeconds: 60,
    });
  });

  it('self-signed: algorithm case-insensitive, defaults (raw secret, 1 h), extra scalar claims', () => {
    const { options, errs } = parse({
      token: { source: 'self-signed', issuer: 'i', subject: 's', audience: 'a', algorithm: 'hs384', secret: 'k', claims: { a: 'x', n: 1.5, b: true, z: null } },
    });
    assert.deepEqual(errs, []);
    assert.deepEqual(options.token, {
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'a',
      algorithm: 'HS384',
      secret: 'k',
      secretEncoding: 'raw',
      claims: { a: 'x', n: 1.5, b: true, z: null },
      ttlSeconds: 3600,
    });
  });

  it('self-signed: reserved and non-scalar claims, missing key or secret, ambiguous key material are refused', () => {
    const { errs } = parse({
      token: {
        source: 'self-signed',
        issuer: 'i',
        subject: 's',
        algorithm: 'RS256',
        keyFile: '/k',
        key: 'PEM',
        secret: 'x',
        claims: { iss: 'x', aud: 'y', exp: 1, nbf: 2, list: [1], obj: {} },
      },
    });
    assert.deepEqual(errs, [
      'forwarders[1].token.key: give keyFile or key, not both',
      'forwarders[1].token.secret: is not used with RS256 (give keyFile or key)',
      'forwarders[1].token.claims.iss: is reserved: the signer sets iss, sub, aud, iat, exp, nbf itself',
      'forwarders[1].token.claims.aud: is reserved: the signer sets iss, sub, aud, iat, exp, nbf itself',
      'forwarders[1].token.claims.exp: is reserved: the signer sets iss, sub, aud, iat, exp, nbf itself',
      'forwarders[1].token.claims.nbf: is reserved: the signer sets iss, sub, aud, iat, exp, nbf itself',
      'forwarders[1].token.claims.list: must be a string, number, boolean or null',
      'forwarders[1].token.claims.obj: must be a string, number, boolean or null',
    ]);
    assert.deepEqual(parse({ token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'HS256' } }).errs, [
      'forwarders[1].token.secret: is required for HS256',
    ]);
    assert.deepEqual(parse({ token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'ES256' } }).errs, [
      'forwarders[1].token.keyFile: is required for ES256 (or key: an inline PEM)',
    ]);
    assert.deepEqual(parse({ token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'PS256', keyFile: '/k' } }).errs, [
      'forwarders[1].token.algorithm: must be one of RS256, RS384, RS512, ES256, HS256, HS384, HS512',
    ]);
  });

  it('self-signed: the secret encoding is explicit; base64 is checked', () => {
    assert.deepEqual(
      parse({ token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'HS256', secret: 'not base64!', secretEncoding: 'base64' } }).errs,
      ['forwarders[1].token.secret: is not standard base64 (secretEncoding is base64)'],
    );
    assert.deepEqual(parse({ token: { source: 'self-signed', issuer: 'i', subject: 's', algorithm: 'HS256', secret: 's', secretEncoding: 'hex' } }).errs, [
      'forwarders[1].token.secretEncoding: must be one of raw, base64',
    ]);
  });

  it('gcp: defaults (default account, standard format, metadata.google.internal, 10 s); timeout at most 30 s', () => {
    const { options, errs } = parse({ token: { source: 'gcp', audience: 'https://x' } });
    assert.deepEqual(errs, []);
    assert.deepEqual(options.token, {
      source: 'gcp',
      serviceAccount: 'default',
      audience: 'https://x',
      format: 'standard',
      metadataUrl: 'http://metadata.google.internal',
      timeoutMs: 10_000,
    });
    assert.deepEqual(parse({ token: { source: 'gcp', timeoutMs: 60_000, format: 'fuller', serviceAccount: 'a/b' } }).errs, [
      'forwarders[1].token.serviceAccount: must be an e-mail address or "default"',
      'forwarders[1].token.format: must be one of standard, full',
      'forwarders[1].token.timeoutMs: must be between 1 and 30000',
    ]);
  });

  it('jwtproxy: defaults as in jwtproxy (issuer jwtproxy, 5 m, 1 m, 32; rotation 12 h, poll 1 s); Go durations', () => {
    const pre = parse({ token: { source: 'jwtproxy', keys: { preshared: { keyFile: '/k.pem', kid: 'k1' } } } });
    assert.deepEqual(pre.errs, []);
    assert.deepEqual(pre.options.token, {
      source: 'jwtproxy',
      issuer: 'jwtproxy',
      keys: { preshared: { keyFile: '/k.pem', kid: 'k1' } },
      expirySeconds: 300,
      nbfSkewSeconds: 60,
      jtiLength: 32,
    });
    const auto = parse({
      token: {
        source: 'jwtproxy',
        issuer: 'me',
        expiry: '2m30s',
        nbfSkew: 0,
        keys: { autogenerated: { folder: '/var/lib/keys', rotateEvery: '-1h', registry: 'https://reg.example/' } },
      },
    });
    assert.deepEqual(auto.errs, []);
    assert.deepEqual(auto.options.token, {
      source: 'jwtproxy',
      issuer: 'me',
      keys: { autogenerated: { folder: '/var/lib/keys', rotateEverySeconds: -3600, registry: 'https://reg.example/', pollSeconds: 1 } },
      expirySeconds: 150,
      nbfSkewSeconds: 0,
      jtiLength: 32,
    });
    assert.deepEqual(
      parse({ token: { source: 'jwtproxy', jtiLength: 8, expiry: 'soon', keys: { preshared: { keyFile: '/k' }, autogenerated: { folder: '/f' } } } }).errs,
      [
        'forwarders[1].token.keys: takes only one of forwarders[1].token.keys.preshared or forwarders[1].token.keys.autogenerated (the signing keys)',
        'forwarders[1].token.expiry: must be a duration: seconds, or a string like "90s", "5m", "12h"',
        'forwarders[1].token.jtiLength: must be between 16 and 256',
      ],
    );
  });

  it('refuses unknown options, a missing token, connectCa with an upstream, a relative jwksPath', () => {
    assert.deepEqual(parse({ upstream: 'http://x', connectCa: { certFile: '/c', keyFile: '/k' }, jwksPath: 'keys', tokn: {} }).errs, [
      'forwarders[1].token: is required',
      'forwarders[1].connectCa: only for forward-proxy operation (no upstream)',
      'forwarders[1].jwksPath: must start with "/"',
      'forwarders[1].tokn: unknown option',
    ]);
    assert.deepEqual(parse({ token: { source: 'static', token: 'a b' } }).errs, ['forwarders[1].token.token: must be printable ASCII without spaces']);
    assert.deepEqual(parse({ token: { source: 'static', token: 't', audience: 'a' } }).errs, ['forwarders[1].token.audience: unknown option']);
    assert.deepEqual(parse({ upstream: 'ftp://x', token: { source: 'magic' } }).errs, [
      'forwarders[1].upstream: must be an http(s) URL',
      'forwarders[1].token.source: must be one of static, self-signed, gcp, jwtproxy',
    ]);
  });

  it('reads allowHosts: exact hosts, *.domain, optional ports, as the URL parser reads them; only for forward-proxy operation', () => {
    const ok = parse({
      token: { source: 'static', token: 't' },
      allowHosts: ['API.Example.com', '*.svc.cluster.local:8443', '[::1]:80', '0x7f.1', 'dot.example.'],
    });
    assert.deepEqual(ok.errs, []);
    assert.deepEqual(ok.options?.allowHosts, [
      { host: 'api.example.com', wildcard: false },
      { host: 'svc.cluster.local', wildcard: true, port: 8443 },
      { host: '::1', wildcard: false, port: 80 },
      { host: '127.0.0.1', wildcard: false },
      { host: 'dot.example', wildcard: false },
    ]);
    assert.deepEqual(parse({ token: { source: 'static', token: 't' }, allowHosts: ['http://x', 'a/b', 'h:0', '*', 'u@h', 'a.*.b'] }).errs, [
      'forwarders[1].allowHosts: entry 0 ("http://x") must be a host, "*.domain", or either with ":port"',
      'forwarders[1].allowHosts: entry 1 ("a/b") must be a host, "*.domain", or either with ":port"',
      'forwarders[1].allowHosts: entry 2 ("h:0") must be a host, "*.domain", or either with ":port"',
      'forwarders[1].allowHosts: entry 3 ("*") must be a host, "*.domain", or either with ":port"',
      'forwarders[1].allowHosts: entry 4 ("u@h") must be a host, "*.domain", or either with ":port"',
      'forwarders[1].allowHosts: entry 5 ("a.*.b") must be a host, "*.domain", or either with ":port"',
    ]);
    assert.deepEqual(parse({ upstream: 'http://x', token: { source: 'static', token: 't' }, allowHosts: ['a'] }).errs, [
      'forwarders[1].allowHosts: only for forward-proxy operation (no upstream)',
    ]);
  });

  it("takes the blocks oidc-proxy's egress flags translate to", () => {
    const modes = new Map([['egress', egressMode as ModeDefinition<unknown>]]);
    const base = { 'target-url': 'https://api.example/v1', 'egress-enabled': 'true', 'tls-allow-insecure-target': 'true' };
    const cases: [Record<string, string>, EgressOptions['token']][] = [
      [
        { 'egress-auth-type': 'static', 'egress-auth-static-token': 'tok' },
        { source: 'static', token: 'tok' },
      ],
      [
        { 'egress-auth-type': 'gcp', audience: 'https://run.example' },
        {
          source: 'gcp',
          serviceAccount: 'default',
          audience: 'https://run.example',
          format: 'standard',
          metadataUrl: 'http://metadata.google.internal',
          timeoutMs: 10_000,
        },
      ],
      [
        {
          'egress-auth-type': 'manual',
          audience: 'aud',
          'egress-auth-manual-issuer': 'i',
          'egress-auth-manual-subject': 's',
          'egress-auth-manual-signing-method': 'hs256',
          'egress-auth-manual-signing-key': 'c2VjcmV0',
          'egress-auth-manual-signing-key-encoding': 'base64',
          'egress-auth-manual-claims': '{"team": "blue"}',
        },
        {
          source: 'self-signed',
          issuer: 'i',
          subject: 's',
          audience: 'aud',
          algorithm: 'HS256',
          secret: 'c2VjcmV0',
          secretEncoding: 'base64',
          claims: { team: 'blue' },
          ttlSeconds: 3600,
        },
      ],
      [
        {
          'egress-auth-type': 'manual',
          audience: 'aud',
          'egress-auth-manual-issuer': 'i',
          'egress-auth-manual-subject': 's',
          'egress-auth-manual-signing-method': 'RS256',
          'egress-auth-manual-signing-key': '/keys/k.pem',
        },
        {
          source: 'self-signed',
          issuer: 'i',
          subject: 's',
          audience: 'aud',
          algorithm: 'RS256',
          keyFile: '/keys/k.pem',
          secretEncoding: 'raw',
          claims: {},
          ttlSeconds: 3600,
        },
      ],
    ];
    for (const [flags, token] of cases) {
      const compat = oidcProxyBlocks({ ...base, ...flags }, {});
      assert.deepEqual(compat.errors, []);
      const parsed = parseForwarderBlocks(compat.blocks, modes, 'oidc-proxy');
      assert.deepEqual(parsed.errors, []);
      const o = parsed.blocks[0]!.options as EgressOptions;
      assert.equal(o.upstream, 'https://api.example/v1');
      assert.deepEqual(o.upstreamTls, { insecureSkipVerify: true });
      assert.deepEqual(o.token, token);
    }
  });

  it('durations: seconds, Go strings, negatives', () => {
    assert.equal(durationSeconds(90), 90);
    assert.equal(durationSeconds('90'), 90);
    assert.equal(durationSeconds('1h30m'), 5400);
    assert.equal(durationSeconds('500ms'), 0.5);
    assert.equal(durationSeconds('-12h'), -43200);
    assert.equal(durationSeconds('5 minutes'), undefined);
    assert.equal(durationSeconds(true), undefined);
  });
});
