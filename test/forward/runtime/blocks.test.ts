/**
 * The config file's `forwarders:` list: common keys checked (mode known, listen address, TLS files
 * both given and not on a unix socket, octal socket modes, unique names and addresses), the rest
 * handed to the mode's parser, and every problem of the file reported at once as
 * `forwarders[i].key: problem`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseForwarderBlocks, parseSocketMode } from '../../../src/forward/runtime/blocks.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { parseListenAddress } from '../../../src/forward/runtime/listen.js';
import { verifyMode } from '../../../src/forward/verify/mode.js';

const MODES = new Map<string, ModeDefinition<unknown>>([['verify', verifyMode as ModeDefinition<unknown>]]);
const parse = (yaml: string) => parseForwarderBlocks((parseYaml(yaml) as { forwarders: unknown }).forwarders, MODES);

describe('forwarders: blocks', () => {
  it('parses a jwtproxy-style file with several verifiers', () => {
    const { blocks, errors } = parse(`
forwarders:
  - name: api
    mode: verify
    listen: 0.0.0.0:8443
    tls: { certFile: /tls/crt, keyFile: /tls/key }
    upstream: http://127.0.0.1:9000/api
    keys: { source: key-registry, url: http://registry:8080 }
    audience: https://api.example
    audienceMatch: origin
    maxTtlSeconds: 300
    requireSub: false
    replay: memory
  - mode: verify
    listen: unix:/run/fw/admin.sock
    socketMode: "0770"
    upstream: unix:/run/admin/app.sock:/v1
    keys: { source: preshared, issuer: jwtproxy, keyId: k1, file: /keys/pub.pem }
    audience: [https://admin.example]
    claims: { role: "admin|owner", level: 3 }
`);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      blocks.map((b) => [b.name, b.mode, b.listen]),
      [
        ['api', 'verify', { address: '0.0.0.0:8443', tls: { certFile: '/tls/crt', keyFile: '/tls/key' } }],
        ['verify-1', 'verify', { address: 'unix:/run/fw/admin.sock', socketMode: 0o770 }],
      ],
    );
  });

  it('collects every problem of every block, each named', () => {
    const { blocks, errors } = parse(`
forwarders:
  - mode: nope
    listen: 8080
  - mode: verify
    listen: unix:/run/x.sock
    tls: { certFile: /c }
    socketMode: 0755
    keys: { source: jwks }
    audience: a
    typo: 1
  - name: dup
    mode: verify
    listen: ":9000"
    upstream: ftp://x
    keys: { source: static-token, token: t }
  - name: dup
    mode: verify
    listen: ":9000"
    upstream: http://u
    keys: { source: static-token, token: t }
    skewSeconds: -1
`);
    assert.ok(blocks.length < 4, 'an entry with an unknown mode yields no block');
    assert.deepEqual(errors, [
      'forwarders[0].mode: unknown mode "nope" (known: verify)',
      'forwarders[0].listen: must be host:port, :port, [ipv6]:port or unix:/path',
      'forwarders[1].tls: needs both certFile and keyFile',
      'forwarders[1].tls: cannot be used with a unix-socket listen address',
      'forwarders[1].socketMode: must be an octal permission: write it quoted ("0755") or as 0o755 (YAML reads 0755 as decimal)',
      'forwarders[1].upstream: is required',
      'forwarders[1].keys.url: is required',
      'forwarders[1].typo: unknown option',
      'forwarders[2].upstream: upstream ftp://x: must be an http(s) URL',
      'forwarders[3].skewSeconds: must be between 0 and 3600',
      'forwarders[3].name: "dup" is already the name of forwarders[2]',
      'forwarders[3].listen: :9000 is already the listen address of forwarders[2]',
    ]);
  });

  it('refuses a forwarders value that is not a list, and entries that are not mappings', () => {
    assert.deepEqual(parseForwarderBlocks({ a: 1 }, MODES).errors, ['forwarders: must be a list of forwarder blocks']);
    assert.deepEqual(parseForwarderBlocks(['x'], MODES).errors, ['forwarders[0]: must be a mapping']);
    assert.deepEqual(parseForwarderBlocks(undefined, MODES), { blocks: [], errors: [] });
  });

  it('reads socket modes as octal and listen addresses in every form', () => {
    assert.equal(parseSocketMode('0755'), 0o755);
    assert.equal(parseSocketMode('600'), 0o600);
    assert.equal(parseSocketMode('0o700'), 0o700);
    assert.equal(parseSocketMode(0o640), 0o640);
    assert.equal(typeof parseSocketMode(755), 'string');
    assert.equal(typeof parseSocketMode('0999'), 'string');
    assert.deepEqual(parseListenAddress(':8080'), { kind: 'tcp', host: '', port: 8080 });
    assert.deepEqual(parseListenAddress('[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080 });
    assert.deepEqual(parseListenAddress('0.0.0.0:80'), { kind: 'tcp', host: '0.0.0.0', port: 80 });
    assert.deepEqual(parseListenAddress('unix:/run/a.sock'), { kind: 'unix', path: '/run/a.sock' });
    assert.equal(typeof parseListenAddress('unix:relative.sock'), 'string');
    assert.equal(typeof parseListenAddress('host:99999'), 'string');
  });

  it('validates the verify options: key sources, algorithms, claims, replay, trusted proxies', () => {
    const errs: string[] = [];
    verifyMode.parse(
      {
        upstream: 'http://u',
        keys: { source: 'public-key', pem: 'not pem' },
        audience: [],
        algorithms: ['none', 'RS256'],
        claims: { aud: 'x', sub: '[' },
        replay: { store: 'redis', addresses: ['nohost'] },
        trustedProxies: ['10.0.0.0/33'],
        host: 'elsewhere',
      },
      'f',
      errs,
    );
    assert.deepEqual(errs, [
      'f.keys.pem: must be PEM text (-----BEGIN PUBLIC KEY-----)',
      'f.algorithms: "none" is not supported (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512; never "none")',
      'f.audience: must be a non-empty string or a list of non-empty strings',
      'f.trustedProxies: "10.0.0.0/33" is not an IP address or CIDR range',
      'f.claims.aud: audiences belong to the audience option, not to the required claims',
      `f.claims.sub: not a valid RE2 pattern (${errs.find((e) => e.startsWith('f.claims.sub'))?.slice('f.claims.sub: not a valid RE2 pattern ('.length, -1)})`,
      'f.replay.addresses: "nohost" is not host:port',
      'f.host: must be one of upstream, client',
    ]);
  });
});
