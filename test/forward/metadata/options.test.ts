import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { METADATA_DEFAULTS, metadataOptionsFromEnv, parseMetadataOptions } from '../../../src/forward/metadata/options.js';
import { metadataMode } from '../../../src/forward/metadata/mode.js';

describe('metadata gateway options', () => {
  it('defaults as kube-oidc-gateway, plus bounded staleness and a size cap', () => {
    const errs: string[] = [];
    assert.deepEqual(parseMetadataOptions({}, 'forwarders[0]', errs), METADATA_DEFAULTS);
    assert.deepEqual(errs, []);
    assert.equal(METADATA_DEFAULTS.upstream, 'https://kubernetes.default.svc');
    assert.equal(METADATA_DEFAULTS.tokenFile, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    assert.equal(METADATA_DEFAULTS.caFile, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
    assert.equal(metadataMode.mode, 'metadata');
  });

  it('every problem is reported, naming the option (no silent fallback to the default)', () => {
    const errs: string[] = [];
    parseMetadataOptions(
      { upstream: 'ftp://x', cacheTtlSeconds: 'abc', clientCacheTtlSeconds: 1.5, prettyPrint: 'maybe', maxBytes: 10, upstreamTimeoutSeconds: 0, colour: 'red' },
      'forwarders[2]',
      errs,
    );
    assert.deepEqual(errs.sort(), [
      'forwarders[2].cacheTtlSeconds: must be a number',
      'forwarders[2].clientCacheTtlSeconds: must be an integer',
      'forwarders[2].colour: unknown option',
      'forwarders[2].maxBytes: must be between 1024 and 67108864',
      'forwarders[2].prettyPrint: must be true or false',
      'forwarders[2].upstream: must be an http(s) URL',
      'forwarders[2].upstreamTimeoutSeconds: must be between 0.001 and 60',
    ]);
  });

  it('kube-oidc-gateway’s environment variables → a block that parses into the same settings', () => {
    const block = metadataOptionsFromEnv({
      LISTEN_ADDR: '127.0.0.1',
      LISTEN_PORT: '9000',
      UPSTREAM_HOST: 'https://10.0.0.1:6443',
      UPSTREAM_TIMEOUT_SECONDS: '3',
      CACHE_TTL_SECONDS: '30',
      CLIENT_CACHE_TTL_SECONDS: '7200',
      PRETTY_PRINT_JSON: 'F',
      SA_TOKEN_PATH: '/tok',
      SA_CA_CERT_PATH: '/ca',
      UNRELATED: 'x',
    });
    assert.deepEqual(block, {
      mode: 'metadata',
      listen: '127.0.0.1:9000',
      upstream: 'https://10.0.0.1:6443',
      upstreamTimeoutSeconds: '3',
      cacheTtlSeconds: '30',
      clientCacheTtlSeconds: '7200',
      prettyPrint: 'false',
      tokenFile: '/tok',
      caFile: '/ca',
    });
    const { mode: _m, listen: _l, ...raw } = block;
    const errs: string[] = [];
    const o = parseMetadataOptions(raw, 'env', errs);
    assert.deepEqual(errs, []);
    assert.equal(o.upstreamTimeoutMs, 3000);
    assert.equal(o.cacheTtlSeconds, 30);
    assert.equal(o.clientCacheTtlSeconds, 7200);
    assert.equal(o.prettyPrint, false);
    assert.equal(o.tokenFile, '/tok');
  });

  it('env defaults: listen 0.0.0.0:8080; IPv6 addresses bracketed; a bad value reaches parse and is refused', () => {
    assert.deepEqual(metadataOptionsFromEnv({}), { mode: 'metadata', listen: '0.0.0.0:8080' });
    assert.equal(metadataOptionsFromEnv({ LISTEN_ADDR: '::' }).listen, '[::]:8080');
    const errs: string[] = [];
    parseMetadataOptions({ cacheTtlSeconds: metadataOptionsFromEnv({ CACHE_TTL_SECONDS: 'ten' })['cacheTtlSeconds'] }, 'env', errs);
    assert.deepEqual(errs, ['env.cacheTtlSeconds: must be a number']);
  });
});
